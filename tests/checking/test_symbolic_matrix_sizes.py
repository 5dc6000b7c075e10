"""`sg.check` of a matrix whose size is a symbol (2026-12-01): ``sp.MatrixSymbol('Y', n, n)`` raised
a raw ``TypeError: Cannot convert symbols to int`` while drawing Y. Now each symbolic size is drawn
at a number (4, 5, ... skipping the fixed dimensions, or the one given in ``at=``) and the result's
method says so. Oracle: the Matrix Cookbook's ∂ tr(Y²)/∂Y = 2Yᵀ and ∂‖Wx‖²/∂W = 2Wxxᵀ, and their
transposes, which must read "not equal"."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError

n = sp.Symbol("n", integer=True, positive=True)
m = sp.Symbol("m", integer=True, positive=True)
Y = sp.MatrixSymbol("Y", n, n)


def test_trace_of_a_square_at_a_symbolic_size():
    r = sg.check(sp.Trace(Y * Y), Y, 2 * Y.T)
    assert r and "the symbolic sizes drawn at n = 4" in r.method
    wrong = sg.check(sp.Trace(Y * Y), Y, 2 * Y)
    assert not wrong and wrong.hint.split(":")[0] == "transpose"


def test_two_sizes_drawn_apart_so_a_transposed_claim_cannot_fit():
    W, x = sp.MatrixSymbol("W", n, m), sp.MatrixSymbol("x", m, 1)
    f = sg.sum(sp.HadamardPower(W * x, 2))
    assert sg.check(f, W, "2*W*x*x.T")
    r = sg.check(f, W, 2 * x * x.T * W.T)
    assert not r and "m = 4, n = 5" in r.method


def test_size_given_in_at_and_a_value_keyed_by_the_symbolic_matrix():
    r = sg.check(sp.Trace(Y * Y), Y, 2 * Y.T, at={n: 3})
    assert r and "n = 3" in r.method
    y = np.arange(9.0).reshape(3, 3) / 7 - 0.5
    assert sg.check(sp.Trace(Y * Y), Y, 2 * Y.T, at={"n": 3, Y: y})
    with pytest.raises(ArgumentError, match="at\\['n'\\] fixes the size n"):
        sg.check(sp.Trace(Y * Y), Y, 2 * Y.T, at={n: 0})


def test_sizes_given_in_at_are_not_said_drawn():
    import sympy as sp
    import symgrad as sg
    n = sp.Symbol("n", integer=True, positive=True)
    m = sp.Symbol("m", integer=True, positive=True)
    X, w = sp.MatrixSymbol("X", n, 3), sp.MatrixSymbol("w", 3, 1)
    r = sg.check(sg.sum(sp.HadamardPower(X * w, 2)), w, 2 * X.T * X * w, at={"n": 2})
    assert r and "the symbolic sizes at n = 2, as at= gave them" in r.method
    assert "drawn" not in r.method.split("symgrad's gradient")[-1] and "choose them" not in r.method
    Y = sp.MatrixSymbol("Y", m, 3)                  # one given, one drawn: each said as it is
    r = sg.check(sg.sum(sp.HadamardPower(X * w, 2)) + sg.sum(Y), w, 2 * X.T * X * w, at={n: 2})
    assert r and "n = 2, as at= gave them" in r.method and "drawn at m = 4 (choose them with at={'m': 3})" in r.method


def test_two_sizes_a_product_joins_are_made_to_fit():
    import pytest
    import sympy as sp
    import symgrad as sg
    n = sp.Symbol("n", integer=True, positive=True)
    m = sp.Symbol("m", integer=True, positive=True)
    X, w = sp.MatrixSymbol("X", n, 3), sp.MatrixSymbol("w", m, 1)
    f = sg.sum(sp.HadamardPower(X * w, 2))
    r = sg.check(f, w, 2 * X.T * X * w)             # was SymPy's ShapeError: w drawn 5×1 against X's 3 columns
    assert r and "the symbolic size m = 3, as X*w needs it" in r.method
    assert not sg.check(f, w, 2 * X.T * X * w / 2)
    with pytest.raises(sg.ShapeError, match=r"X\*w .*needs m = 3, but m = 2 as at= gives it"):
        sg.check(f, w, 2 * X.T * X * w, at={"m": 2})
    k = sp.Symbol("k", integer=True, positive=True)
    V = sp.MatrixSymbol("V", n, k)                  # n×k times k'×1 where both are symbols: drawn equal
    v = sp.MatrixSymbol("v", m, 1)
    assert sg.check(sg.sum(sp.HadamardPower(V * v, 2)), v, 2 * V.T * V * v)
