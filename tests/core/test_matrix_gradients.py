"""Matrix gradients where SymPy 1.14's own ``diff`` returns 0 or raises. Each is checked against central
finite differences at explicit random values, and the returned SymPy matrix expression must have the
symbol's shape and evaluate correctly after substituting explicit matrices and ``.doit()``."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from oracle import central_differences, substitute

rng = np.random.default_rng(2)


def _values(syms):
    return {s: rng.normal(size=tuple(int(d) for d in s.shape)) for s in syms}


def _check(f, wrt, at, expected=None):
    grads = sg.grad(f, wrt)
    fd = central_differences(f, wrt, at)
    for s, g, g_fd in zip(wrt, grads, fd):
        assert tuple(g.shape) == tuple(s.shape), f"d/d{s}: shape {g.shape}, expected {s.shape}"
        np.testing.assert_allclose(sg.numeric(g, at), g_fd, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(substitute(g, at), g_fd, rtol=1e-6, atol=1e-7)
    return grads


def test_trace_plus_one():
    E = sp.MatrixSymbol("E", 3, 3)
    f = sp.Trace(E) + 1
    g = _check(f, [E], _values([E]))[0]
    assert sp.ImmutableMatrix(g.as_explicit()) == sp.eye(3)    # d/dE (Tr(E) + 1) = I
    np.testing.assert_array_equal(substitute(g, _values([E])), np.eye(3))


def test_squared_error_of_tanh_layer():
    W, x, b, y = (sp.MatrixSymbol("W", 3, 4), sp.MatrixSymbol("x", 4, 1), sp.MatrixSymbol("b", 3, 1),
                  sp.MatrixSymbol("y", 3, 1))
    f = sg.sum(sp.HadamardPower((W * x + b).applyfunc(sp.tanh) - y, 2))      # ‖tanh(Wx + b) − y‖²
    at = _values([W, x, b, y])
    gW, gb = _check(f, [W, b], at)
    # by hand: δ = 2(tanh(z) − y) ∘ (1 − tanh²(z)), ∂f/∂W = δ xᵀ, ∂f/∂b = δ
    th = np.tanh(at[W] @ at[x] + at[b])
    delta = 2 * (th - at[y]) * (1 - th ** 2)
    np.testing.assert_allclose(sg.numeric(gW, at), delta @ at[x].T, rtol=1e-12)
    np.testing.assert_allclose(sg.numeric(gb, at), delta, rtol=1e-12)


def test_half_traces():
    U, V = sp.MatrixSymbol("U", 3, 2), sp.MatrixSymbol("V", 2, 4)
    f = sp.Trace(U.T * U) / 2 + sp.Trace(V.T * V) / 2
    at = _values([U, V])
    gU, gV = _check(f, [U, V], at)
    assert sp.simplify(gU.as_explicit() - U.as_explicit()) == sp.zeros(3, 2)    # = U
    np.testing.assert_allclose(sg.numeric(gU, at), at[U], rtol=1e-14)
    np.testing.assert_allclose(sg.numeric(gV, at), at[V], rtol=1e-14)


@pytest.mark.parametrize("act", [sg.relu, sg.sigmoid, sp.tanh], ids=["relu", "sigmoid", "tanh"])
def test_mlp_softmax_cross_entropy(act):
    net = sg.mlp([4, 5, 3, 3], act=act)
    t = sp.MatrixSymbol("t", 3, 1)
    f = sg.cross_entropy(net.output, t)
    at = _values(net.params + [net.input])
    at[t] = np.array([[0.0], [1.0], [0.0]])
    grads = _check(f, net.params, at)
    # the output layer's bias gets softmax(z) − t, computed here by hand
    h = at[net.input]
    for k in range(0, len(net.params) - 2, 2):
        z = at[net.params[k]] @ h + at[net.params[k + 1]]
        h = {sg.relu: lambda a: np.maximum(a, 0), sg.sigmoid: lambda a: 1 / (1 + np.exp(-a)),
             sp.tanh: np.tanh}[act](z)
    z = at[net.params[-2]] @ h + at[net.params[-1]]
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(sg.numeric(grads[-1], at), p - at[t], rtol=1e-12)
    np.testing.assert_allclose(sg.numeric(grads[-2], at), (p - at[t]) @ h.T, rtol=1e-12)


def test_readable_form():
    # the form the issue asks for: 2*(W*x - y)*x.T
    W, x, y = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("y", 2, 1)
    g = sg.grad(sg.sum(sp.HadamardPower(W * x - y, 2)), W)
    assert sp.simplify((g - 2 * (W * x - y) * x.T).as_explicit()) == sp.zeros(2, 3)
