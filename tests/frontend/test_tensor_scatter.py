"""torch's x.scatter(dim, index, src) (2026-12-01, twelfth session: an AttributeError): a mixture of
experts' gate matrix zeros_like(logits).scatter(1, topk_idx, topk_gates), and writes into a tensor
that is not zero, along either axis; values and gradients against torch.autograd in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
rng = np.random.default_rng(9)


def test_mixture_of_experts_gates_as_torchs_and_compiled():
    N = sp.Symbol("N", integer=True, positive=True)
    x, Wg, E = sg.tensor("x", (N, 3)), sg.tensor("Wg", (3, 4)), sg.tensor("E", (4, 3, 2))
    logits = x @ Wg
    vals, idx = logits.topk(2, dim=1)
    gates = sg.zeros_like(logits).scatter(1, idx, vals.softmax(-1))          # (N, 4), two nonzero a row
    out = sg.einsum("ne,nd,edk->nk", gates, x, E)
    loss = (out ** 2).mean()
    xv, Wv, Ev = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=(4, 3, 2))
    tW, tE = torch.tensor(Wv, requires_grad=True), torch.tensor(Ev, requires_grad=True)
    tl = torch.tensor(xv) @ tW
    tv, ti = tl.topk(2, dim=1)
    tg = torch.zeros_like(tl).scatter(1, ti, tv.softmax(-1))
    (torch.einsum("ne,nd,edk->nk", tg, torch.tensor(xv), tE) ** 2).mean().backward()
    prog = sg.compile(loss, params=[Wg, E], inputs=[x], dtype="float64")
    g = prog.grad({"Wg": Wv, "E": Ev}, {"x": xv})
    np.testing.assert_allclose(g["Wg"], tW.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(g["E"], tE.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_writes_into_a_tensor_keep_the_rest(dim):
    x, src = sg.tensor("x", (3, 4)), sg.tensor("src", (3, 4))
    idx = sg.tensor("idx", (3, 4) if dim == 0 else (3, 2), integer=True)
    shape_i = (3, 4) if dim == 0 else (3, 2)
    iv = np.stack([rng.permutation(3)[:shape_i[0]] for _ in range(4)], axis=1) if dim == 0 else \
        np.stack([rng.permutation(4)[:2] for _ in range(3)])
    sv = rng.normal(size=shape_i)
    src = sg.tensor("src", shape_i)
    xv = rng.normal(size=(3, 4))
    f = (x.scatter(dim, idx, src) ** 2 * sp.Integer(3)).sum()
    tx, ts = torch.tensor(xv, requires_grad=True), torch.tensor(sv, requires_grad=True)
    want = (tx.scatter(dim, torch.tensor(iv), ts) ** 2 * 3).sum()
    want.backward()
    env = {x: xv, src: sv, idx: iv}
    assert float(sg.numeric(f, env)) == pytest.approx(want.item(), rel=1e-12)
    for v, t in ((x, tx), (src, ts)):
        np.testing.assert_allclose(np.asarray(sg.numeric(sg.grad(f, v), env), float), t.grad.numpy(), rtol=1e-12)


def test_value_keyword():
    x, idx = sg.tensor("x", (2, 3)), sg.tensor("idx", (2, 1), integer=True)
    xv, iv = rng.normal(size=(2, 3)), np.array([[2], [0]])
    got = np.asarray(sg.numeric(x.scatter(1, idx, value=-1.5), {x: xv, idx: iv}), float)
    np.testing.assert_array_equal(got, torch.tensor(xv).scatter(1, torch.tensor(iv), value=-1.5).numpy())


def test_value_keyword_with_an_index_repeated_in_a_row_writes_the_value_once():
    # every write of value= is the same number, so torch's result is defined: the value, not a sum of
    # the writes (it read 2·v where an index repeated in a row)
    x, idx = sg.tensor("x", (2, 4)), sg.tensor("idx", (2, 3), integer=True)
    xv, iv = rng.normal(size=(2, 4)), np.array([[1, 1, 3], [0, 2, 2]])
    f = x.scatter(1, idx, value=0.75)
    got = np.asarray(sg.numeric(f, {x: xv, idx: iv}), float)
    np.testing.assert_array_equal(got, torch.tensor(xv).scatter(1, torch.tensor(iv), value=0.75).numpy())
    tx = torch.tensor(xv, requires_grad=True)
    (tx.scatter(1, torch.tensor(iv), value=0.75) ** 2).sum().backward()
    g = sg.numeric(sg.grad((f ** 2).sum(), x), {x: xv, idx: iv})
    np.testing.assert_array_equal(np.asarray(g, float), tx.grad.numpy())


@pytest.mark.parametrize("call,err,match", [
    (lambda x, i: x.scatter(1, i, x[:, 0]), sg.ShapeError, r"src .* must have the index's shape \(3, 2\)"),
    (lambda x, i: x.scatter(1, i, x[:, :2], reduce="add"), sg.ArgumentError, "reduce='add'"),
    (lambda x, i: x.scatter(1, i), sg.ArgumentError, "give src .* or value="),
    (lambda x, i: x.scatter(1, x[:, :2], x[:, :2]), sg.IntegerTensorError, "must be an integer tensor"),
    (lambda x, i: x.scatter(1, i[:1], x[:1, :2]), sg.ShapeError, "on every axis but 1"),
    (lambda x, i: x.scatter_(1, i, x[:, :2]), sg.ArgumentError, "scatter"),
])
def test_refusals(call, err, match):
    with pytest.raises(err, match=match):
        call(sg.tensor("x", (3, 4)), sg.tensor("i", (3, 2), integer=True))
