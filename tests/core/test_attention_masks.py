"""The pieces of a causal self-attention that symgrad added for it: ``sg.tril`` / ``sg.triu`` (one
rule row each, its own adjoint), ``sg.ones``, ``x.swapaxes`` / ``x.mT`` (torch's two-axis
transpose), ``x.masked_fill``; each gradient against torch.autograd in float64, by ``sg.numeric``
and by the compiled NumPy program; and the refusals that name what was written and what to write."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
rng = np.random.default_rng(20261130)
S = rng.normal(size=(3, 2, 4, 4))          # scores (N, H, T, T)
C = rng.normal(size=(3, 2, 4, 4))          # a cotangent that is not all ones
TRIL = torch.tril(torch.ones(4, 4, dtype=torch.float64))

# (name, symgrad's masked scores of s, torch's of s)
CASES = [
    ("tril", lambda s: sg.tril(s), lambda s: torch.tril(s)),
    ("tril-below-and-triu-above", lambda s: sg.tril(s, -1) + 2 * sg.triu(s, 1),
     lambda s: torch.tril(s, -1) + 2 * torch.triu(s, 1)),
    ("where-causal-minus-inf", lambda s: sg.where(sg.tril(sg.ones((4, 4))) > 0, s, float("-inf")),
     lambda s: s.masked_fill(TRIL == 0, float("-inf"))),
    ("where-Eq-causal", lambda s: sg.where(sp.Eq(sg.tril(sg.ones((4, 4))), 0), float("-inf"), s),
     lambda s: s.masked_fill(TRIL == 0, float("-inf"))),
    ("masked_fill-minus-1e9", lambda s: s.masked_fill(sg.tril(sg.ones((4, 4))) < 0.5, -1e9),
     lambda s: s.masked_fill(TRIL == 0, -1e9)),
    ("triu-k1-mask", lambda s: sg.where(sg.triu(sg.ones((4, 4)), 1) > 0, float("-inf"), s),
     lambda s: s.masked_fill(torch.triu(torch.ones(4, 4), 1) > 0, float("-inf"))),
    ("swapaxes-and-mT", lambda s: s.swapaxes(-2, -1) @ s.mT, lambda s: s.transpose(-2, -1) @ s.mT),
]


def _torch_grad(tf):
    s = torch.tensor(S, requires_grad=True)
    loss = (tf(s).softmax(-1) * torch.tensor(C)).sum()
    loss.backward()
    return loss.item(), s.grad.numpy()


@pytest.mark.parametrize("name,f,tf", CASES, ids=[c[0] for c in CASES])
def test_masked_softmax_gradient_equals_torch(name, f, tf):
    s, c = sg.tensor("s", (N, 2, 4, 4)), sg.tensor("c", (N, 2, 4, 4))
    loss = sg.sum(sg.softmax(f(s), axis=-1) * c)
    want_loss, want = _torch_grad(tf)
    values = {"s": S, "c": C}
    got = sg.numeric(sg.grad(loss, s), values)
    assert abs(sg.numeric(loss, values) - want_loss) <= 1e-12 * max(1, abs(want_loss))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name,f,tf", CASES, ids=[c[0] for c in CASES])
def test_masked_softmax_compiled_numpy_equals_torch(name, f, tf):
    # the scores are a parameter times an input here, so that the program has a gradient to return
    w, x, c = sg.tensor("w", (4,)), sg.tensor("x", (N, 2, 4, 4)), sg.tensor("c", (N, 2, 4, 4))
    loss = sg.sum(sg.softmax(f(x * w), axis=-1) * c)
    prog = sg.compile(loss, [w], [x, c], dtype="float64")
    W = rng.normal(size=4)
    tw = torch.tensor(W, requires_grad=True)
    tl = (tf(torch.tensor(S) * tw).softmax(-1) * torch.tensor(C)).sum()
    tl.backward()
    lv, g = prog.loss({"w": W}, {"x": S, "c": C}), prog.grad({"w": W}, {"x": S, "c": C})
    assert abs(lv - tl.item()) <= 1e-12 * max(1, abs(tl.item()))
    np.testing.assert_allclose(g["w"], tw.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_tril_gradient_prints_as_tril():
    s, c = sg.tensor("s", (2, 4, 4)), sg.tensor("c", (2, 4, 4))
    assert str(sg.grad(sg.sum(sg.tril(s, -1) * c), s)) == "tril(c, -1)"
    assert str(sg.grad(sg.sum(sg.triu(s) * c), s)) == "triu(c)"


def test_tril_in_a_per_example_declaration_is_batched():
    # one example's scores (T, T): the batch axis that compile adds in front leaves the last two alone
    w, x = sg.tensor("w", (4, 4)), sg.tensor("x", (4, 4))
    loss = sg.sum(sg.softmax(sg.where(sg.tril(sg.ones((4, 4))) > 0, x * w, -1e9), axis=-1) ** 2)
    prog = sg.compile(loss, [w], [x], dtype="float64")
    W, X = rng.normal(size=(4, 4)), rng.normal(size=(5, 4, 4))
    tw = torch.tensor(W, requires_grad=True)
    tl = ((torch.tensor(X) * tw).masked_fill(TRIL == 0, -1e9).softmax(-1) ** 2).sum((1, 2)).mean()
    tl.backward()
    lv, g = prog.loss({"w": W}, {"x": X}), prog.grad({"w": W}, {"x": X})
    assert abs(lv - tl.item()) <= 1e-12
    np.testing.assert_allclose(g["w"], tw.grad.numpy(), rtol=1e-9, atol=1e-12)


# ---- refusals: what was written, and what to write -----------------------------------------------

def test_numpy_mask_is_refused_naming_the_array_and_sg_tril():
    s = sg.tensor("s", (N, 2, 4, 4))
    mask = np.tril(np.ones((4, 4)))
    for build in (lambda: sg.where(mask == 0, float("-inf"), s), lambda: s + (1 - mask) * -1e9,
                  lambda: s.masked_fill(mask == 0, float("-inf"))):
        with pytest.raises(sg.UnsupportedError, match=r"NumPy array of shape \(4, 4\).*sg\.tril\(sg\.ones"):
            build()


def test_tensor_equality_as_a_condition_is_refused():
    # mask == 0 of a tensor is SymPy's structural ==, the Python bool False: the mask would vanish
    s, mask = sg.tensor("s", (N, 2, 4, 4)), sg.tril(sg.ones((4, 4)))
    with pytest.raises(sg.ArgumentError, match=r"Python bool False.*sp\.Eq\(mask, 0\)"):
        s.masked_fill(mask == 0, float("-inf"))
    with pytest.raises(sg.ArgumentError, match="Python bool"):
        sg.where(mask != 0, s, float("-inf"))


def test_torch_two_axis_transpose_is_swapaxes():
    # (eighth session) NumPy refuses two axes of a tensor of more axes, so torch's reading is the one:
    # q.view(N, T, H, Dh).transpose(1, 2) as every attention writes it; before, an AxisError naming swapaxes
    k = sg.tensor("k", (N, 2, 4, 3))
    assert k.transpose(-2, -1) == k.swapaxes(-2, -1) == k.mT
    assert k.transpose(1, 2) == k.swapaxes(1, 2) and k.transpose(1, 2).shape == (N, 4, 2, 3)
    with pytest.raises(sg.AxisError, match="not a permutation of its 4 axes"):
        k.transpose(0, 1, 2)
    with pytest.raises(sg.AxisError, match="identity permutation"):        # 2-D: NumPy's and torch's differ
        sg.tensor("W", (3, 4)).transpose(0, 1)


def test_tril_arguments():
    with pytest.raises(sg.AxisError, match="at least 2 axes"):
        sg.tril(sg.tensor("v", (4,)))
    with pytest.raises(sg.ArgumentError, match="must be an integer"):
        sg.tril(sg.tensor("m", (4, 4)), 0.5)
