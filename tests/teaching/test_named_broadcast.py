"""`sg.grad(..., named=True)` on a batch norm: a value broadcast over the batch and used twice is
named as the value itself (1/√(σ² + ε), of shape (D,)), and NumPy's broadcasting writes its uses
with the name alone, as the slides do; no `broadcast_to(...)` is printed. The values are cs231n's
batchnorm_backward in NumPy."""
import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.frontend.tensor import BroadcastTo

N = sp.Symbol("N", integer=True, positive=True)
D = 3


def _layer():
    x, gamma, beta = sg.tensor("x", (N, D)), sg.tensor("gamma", (D,)), sg.tensor("beta", (D,))
    dout = sg.tensor("dout", (N, D))
    xhat = (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + sp.Rational(1, 100000))
    return sg.sum((gamma * xhat + beta) * dout), (x, gamma, beta, dout)


def _cs231n(xv, gv, dv, eps=1e-5):
    n = xv.shape[0]
    istd = 1 / np.sqrt(xv.var(axis=0) + eps)
    xh = (xv - xv.mean(axis=0)) * istd
    dxh = dv * gv
    return istd / n * (n * dxh - dxh.sum(axis=0) - xh * (dxh * xh).sum(axis=0)), (dv * xh).sum(axis=0), dv.sum(axis=0)


def test_a_broadcast_definition_is_named_by_its_value():
    L, (x, gamma, beta, dout) = _layer()
    named = sg.grad(L, [x, gamma, beta], named=True)
    assert "broadcast_to" not in str(named), str(named)
    for sym, rhs in named.definitions:
        assert not isinstance(rhs, BroadcastTo), f"{sym} = {rhs}"
    # the name of 1/√(σ² + ε) has the shape of the statistics, one entry per feature
    inv = [s for s, rhs in named.definitions if rhs.has(sp.sqrt) or any(
        isinstance(p, sp.Pow) and p.exp == -sp.S.Half for p in sp.preorder_traversal(rhs))]
    assert inv and all(tuple(s.shape) == (D,) for s in inv), named.definitions


def test_the_named_form_still_has_the_values_of_cs231n():
    L, (x, gamma, beta, dout) = _layer()
    named = sg.grad(L, [x, gamma, beta], named=True)
    rng = np.random.default_rng(3)
    xv, gv, bv, dv = rng.normal(size=(5, D)) * 2 + 1, rng.normal(size=D), rng.normal(size=D), rng.normal(size=(5, D))
    at = {x: xv, gamma: gv, beta: bv, dout: dv}
    for got, want in zip(named.expand(), _cs231n(xv, gv, dv)):
        np.testing.assert_allclose(np.asarray(sg.numeric(got, at), float).reshape(want.shape), want,
                                   rtol=1e-9, atol=1e-12)
