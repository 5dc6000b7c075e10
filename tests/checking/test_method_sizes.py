"""A tensor check's Method line says at which values of its symbolic sizes the arrays were drawn
(x declared (N, 3) is reported as a 5×3 array: the 5 is said), as given, read off an array, or
drawn — and how to choose them (at= for sg.check, dims= for sg.check_backward)."""
from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 4))
f = ((x @ w) ** 2).sum()
RIGHT = 2 * x.T @ (x @ w)


def test_the_claim_is_right_by_sympy():
    X, W = sp.Matrix(2, 3, sp.symbols("a:6")), sp.Matrix(3, 4, sp.symbols("b:12"))
    F = sum(e ** 2 for e in X * W)
    assert sp.simplify(sp.Matrix(3, 4, lambda i, j: sp.diff(F, W[i, j])) - 2 * X.T * X * W) == sp.zeros(3, 4)


def test_drawn_sizes_are_said_with_how_to_choose_them():
    r = sg.check(f, w, RIGHT)
    assert r and "the symbolic sizes drawn at N = 5 (choose them with at={'N': 3})" in r.method, r.method
    assert "decided again at N = 6" in r.method
    wrong = sg.check(f, w, 3 * RIGHT)
    assert not wrong and "drawn at N = 5" in wrong.method, wrong.method


def test_given_and_read_sizes_are_said_as_such():
    assert "the symbolic sizes at N = 3, as given" in sg.check(f, w, RIGHT, at={"N": 3}).method
    r = sg.check(f, w, RIGHT, at={"x": np.ones((7, 3))})
    assert "the symbolic sizes at N = 7, read off the arrays given" in r.method, r.method


def test_check_backward_says_dims():
    r = sg.check_backward(x @ w, [x, w], lambda dout, x, w: (dout @ w.T, x.T @ dout))
    assert r and "(choose them with dims={'N': 3})" in r.method, r.method
    r = sg.check_backward(x @ w, [x, w], lambda dout, x, w: (dout @ w.T, x.T @ dout), dims={N: 2})
    assert "the symbolic sizes at N = 2, as given" in r.method, r.method


def test_no_symbolic_sizes_nothing_said():
    v = sg.tensor("v", (3,))
    assert "symbolic sizes" not in sg.check((v ** 2).sum(), v, 2 * v).method
