"""sg.einsum: values equal numpy.einsum, gradients equal torch.einsum's by torch.autograd in float64,
attention's contractions read as the matrix products people write, and bad subscripts are refused
naming the part at fault."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
rng = np.random.default_rng(20261130)

CASES = [
    ("bhqd,bhkd->bhqk", [(N, 2, 4, 3), (N, 2, 5, 3)]),      # attention scores
    ("bhqk,bhkd->bhqd", [(N, 2, 4, 5), (N, 2, 5, 3)]),      # attention-weighted values
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),                            # NumPy's implicit output
    ("ntd,de->nte", [(N, 4, 3), (3, 5)]),
    ("bi,bi->b", [(N, 3), (N, 3)]),
    ("ij->ji", [(3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("bij,bjk,bkl->bil", [(N, 2, 3), (N, 3, 4), (N, 4, 2)]),
    ("abc,cd->ad", [(2, 3, 4), (4, 5)]),                    # b summed out first
    ("nthd->nhtd", [(N, 4, 2, 3)]),
    ("qd,kd->kq", [(4, 3), (5, 3)]),
]


@pytest.mark.parametrize("sub,shapes", CASES, ids=[c[0] for c in CASES])
def test_einsum_value_and_gradient(sub, shapes):
    xs = [sg.tensor(f"x{i}", s) for i, s in enumerate(shapes)]
    e = sg.einsum(sub, *xs)
    vals = {f"x{i}": rng.normal(size=tuple(3 if d == N else d for d in s)) for i, s in enumerate(shapes)}
    want = np.einsum(sub, *vals.values())
    assert tuple(3 if d == N else d for d in e.shape) == want.shape
    np.testing.assert_allclose(sg.numeric(e, vals), want, rtol=1e-12, atol=1e-12)
    c = rng.normal(size=want.shape)
    ts = [torch.tensor(v, requires_grad=True) for v in vals.values()]
    (torch.einsum(sub, *ts) * torch.tensor(c)).sum().backward()
    grads = sg.grad(sg.sum(e * sg.tensor("c", e.shape)), xs)
    for g, t in zip(grads, ts):
        np.testing.assert_allclose(sg.numeric(g, dict(vals, c=c)), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_attention_contractions_read_as_matrix_products():
    q, k = sg.tensor("q", (N, 2, 4, 8)), sg.tensor("k", (N, 2, 4, 8))
    assert sg.einsum("bhqd,bhkd->bhqk", q, k) == q @ k.swapaxes(-2, -1)
    a, v = sg.tensor("a", (N, 2, 4, 4)), sg.tensor("v", (N, 2, 4, 8))
    assert sg.einsum("bhqk,bhkd->bhqd", a, v) == a @ v


def test_einsum_compiles():
    w, x = sg.tensor("w", (3, 5)), sg.tensor("x", (N, 4, 3))
    prog = sg.compile(sg.mean(sg.einsum("ntd,de->nte", x, w) ** 2), [w], [x], dtype="float64")
    W, X = rng.normal(size=(3, 5)), rng.normal(size=(6, 4, 3))
    tw = torch.tensor(W, requires_grad=True)
    (torch.einsum("ntd,de->nte", torch.tensor(X), tw) ** 2).mean().backward()
    np.testing.assert_allclose(prog.grad({"w": W}, {"x": X})["w"], tw.grad.numpy(), rtol=1e-9)


@pytest.mark.parametrize("sub,shapes,err,match", [
    ("i->ii", [(3,)], sg.ArgumentError, "output index 'i' appears twice in 'ii'"),
    ("ii->i", [(2, 3)], sg.ShapeError, "'i' is repeated in 'ii' \\(a diagonal\\) over axes of sizes 2 and 3"),
    ("...i.j->ij", [(2, 3, 3)], sg.ArgumentError, "'...' at most once per operand, and no other '.'"),
    ("...ij,...jk->...ik", [(2, 3, 4), (5, 4, 2)], sg.ShapeError, "'...' axes of the operands do not broadcast: 2 against 5"),
    ("...ijk->k", [(3, 4)], sg.ShapeError, "'...ijk' names 3 axes"),
    ("ij,jk->ik", [(3, 4), (5, 5)], sg.ShapeError, "'j' has size 4 in one operand and 5"),
    # the operand as the user gave it, not its diagonal as rewritten (it read "(eye(3)*y1).sum(axis=1)")
    ("ij,jj->i", [(3, 4), (3, 3)], sg.ShapeError, "'j' has size 4 in one operand and 3 in y1$"),
    ("ij->k", [(3, 4)], sg.ArgumentError, "output index 'k' is in no operand"),
    ("i1", [(3,)], sg.ArgumentError, "'1' is not an index"),
    ("ij,jk->ik", [(3, 4)], sg.ArgumentError, "names 2 operand\\(s\\) but 1 were given"),
    ("ijk", [(3, 4)], sg.ShapeError, "'ijk' names 3 axes"),
])
def test_einsum_refusals(sub, shapes, err, match):
    with pytest.raises(err, match=match):
        sg.einsum(sub, *[sg.tensor(f"y{i}", s) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("sub,shapes", [
    ("ii->", [(3, 3)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]), ("bii->bi", [(2, 3, 3)]),
    ("bii,bi->b", [(2, 3, 3), (2, 3)]), ("iij->ji", [(3, 3, 2)]), ("iii->i", [(3, 3, 3)]),
])
def test_einsum_diagonals_as_torch(sub, shapes):
    """An index repeated in one operand reads its diagonal (2026-12-01, twelfth session; it was
    refused): the trace, diagonals, batches of them; values and gradients against torch.einsum."""
    ys = [sg.tensor(f"y{i}", s) for i, s in enumerate(shapes)]
    vals = [rng.normal(size=s) for s in shapes]
    f = sg.sum(sg.einsum(sub, *ys) ** 2)
    ts = [torch.tensor(v, requires_grad=True) for v in vals]
    want = (torch.einsum(sub, *ts) ** 2).sum()
    want.backward()
    env = dict(zip(ys, vals))
    assert float(sg.numeric(f, env)) == pytest.approx(want.item(), rel=1e-12)
    for y, t in zip(ys, ts):
        np.testing.assert_allclose(np.asarray(sg.numeric(sg.grad(f, y), env), float), t.grad.numpy(), rtol=1e-12)
