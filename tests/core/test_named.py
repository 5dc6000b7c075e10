"""`sg.grad(..., named=True)`: gradients over named intermediates (δ₁, δ₂, …) with their
definitions, as the slides write them. The named form expands back to the plain form (equal
numerically), and its size is linear in the depth of a residual network, where the plain form
grows 4× per layer."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.core.differentiate import differentiate
from symgrad.core.evaluate import numeric
from symgrad.core.to_sympy import Named
from symgrad.frontend.tensor import Tensor

N = sp.Symbol("N", integer=True, positive=True)
D = 3


def residual_matrix(depth):
    """Per example: h ← h + relu(W h + b), loss Σ (h − y)²."""
    x, y = sp.MatrixSymbol("x", D, 1), sp.MatrixSymbol("y", D, 1)
    Ws = [sp.MatrixSymbol(f"W{i}", D, D) for i in range(depth)]
    bs = [sp.MatrixSymbol(f"b{i}", D, 1) for i in range(depth)]
    h = x
    for W, b in zip(Ws, bs):
        h = h + (W * h + b).applyfunc(sg.relu)
    return sg.sum(sp.HadamardPower(h - y, 2)), Ws + bs, [x, y]


def residual_tensor(depth):
    """Over the batch: h ← h + tanh(h @ W + b), loss the mean over N of Σ (h − y)²."""
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N, D))
    Ws = [sg.tensor(f"W{i}", (D, D)) for i in range(depth)]
    bs = [sg.tensor(f"b{i}", (D,)) for i in range(depth)]
    h = x
    for W, b in zip(Ws, bs):
        h = h + sp.tanh(h @ W + b)
    return sg.sum((h - y) ** 2) / N, Ws + bs, [x, y]


def _values(symbols, rng, n=4):
    vals = {}
    for s in symbols:
        shape = tuple(n if d == N else int(d) for d in s.shape)
        vals[s] = rng.normal(size=shape) * 0.5
    return vals


@pytest.mark.parametrize("make", [residual_matrix, residual_tensor], ids=["matrix", "tensor"])
def test_named_form_expands_to_the_plain_form(make):
    loss, params, inputs = make(3)
    named = sg.grad(loss, params, named=True)
    plain = sg.grad(loss, params)
    assert isinstance(named, Named) and len(named.definitions) > 0
    expanded = named.expand()
    vals = _values(params + inputs, np.random.default_rng(0))
    for p, e, g in zip(params, expanded, plain):
        assert not (e.free_symbols & {s for s, _ in named.definitions}), p     # every name replaced
        np.testing.assert_allclose(numeric(e, vals), numeric(g, vals), rtol=1e-12, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("make", [residual_matrix, residual_tensor], ids=["matrix", "tensor"])
def test_named_form_is_linear_in_the_depth(make):
    sizes = []
    for depth in range(2, 9):
        loss, params, _ = make(depth)
        sizes.append(sg.grad(loss, params[0], named=True).count_ops())
    steps = np.diff(sizes)
    assert len(set(steps)) == 1 and steps[0] > 0, sizes          # the same few operations per layer
    loss, params, _ = make(4)
    assert sp.count_ops(sg.grad(loss, params[0])) > 5 * sizes[2]    # the plain form repeats paths


def test_names_are_symbols_of_the_right_kind():
    loss, params, _ = residual_matrix(2)
    kinds = {type(s) for s, _ in sg.grad(loss, params, named=True).definitions}
    assert kinds == {sp.MatrixSymbol}
    loss, params, _ = residual_tensor(2)
    named = sg.grad(loss, params, named=True)
    for s, e in named.definitions:
        assert isinstance(s, Tensor) and s.shape == sg.as_tensor(e).shape, (s, e)
    x, w = sp.symbols("x w")
    f = sp.tanh(w * x) ** 2 + sp.tanh(w * x)
    named = sg.grad(f, w, named=True)
    (h, value), = named.definitions
    assert type(h) is sp.Symbol and value == sp.tanh(w * x)
    assert sp.simplify(named.gradients - sp.diff(f, w).subs(sp.tanh(w * x), h)) == 0


def test_the_slides_form_of_a_residual_network():
    """Each layer's gradient is a named δ, and ∂L/∂Wₖ = δ · h_{k-1}ᵀ reads it."""
    loss, params, _ = residual_matrix(2)
    named = sg.grad(loss, params, named=True)
    text = str(named)
    names = [str(s) for s, _ in named.definitions]
    assert names[:2] == ["h₁", "h₂"] and "δ₁" in names, text
    assert f"∂f/∂W0 = {names[-1]}*x.T" in text.splitlines()
    # the user's own names are never taken
    x = sp.Symbol("h₁")
    named = sg.grad(sp.sin(x * x) ** 2 + sp.sin(x * x), x, named=True)
    assert [str(s) for s, _ in named.definitions] == ["h₂"]


def test_no_sharing_no_names():
    x, w, b = sg.tensor("x", (N, 3, 2)), sg.tensor("w", (6, 5)), sg.tensor("b", (5,))
    dout = sg.tensor("dout", (N, 5))
    f = sg.sum((x.reshape(N, -1) @ w + b) * dout)
    named = sg.grad(f, [x, w, b], named=True)
    assert named.definitions == []
    assert named.gradients == sg.grad(f, [x, w, b])
    z = sp.Symbol("z")
    assert sg.grad(z ** 2, [z, sp.Symbol("u")], named=True).gradients == [2 * z, 0]


def test_the_derivation_record_has_the_named_form():
    loss, params, _ = residual_tensor(3)
    d = differentiate(loss, params)
    assert str(d.named()) == str(sg.grad(loss, params, named=True))


def test_named_takes_a_boolean():
    x = sp.Symbol("x")
    with pytest.raises(sg.ArgumentError, match="named must be True or False"):
        sg.grad(x ** 2, x, named="yes")
