"""A SymPy user gives a matrix's value as a SymPy Matrix (``at={X: sp.Matrix([[2, 1], [0, 3]])}``):
taken as the array of its numbers by sg.derive, sg.numeric and sg.check, as a NumPy array is. Before
(2026-11-30, tenth session) it was refused: "the value of X must be an array of real numbers"."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

X = sp.MatrixSymbol("X", 2, 2)
M = sp.Matrix([[2, 1], [0, 3]])
A = np.array([[2.0, 1.0], [0.0, 3.0]])


def test_derive_takes_a_sympy_matrix_as_a_numpy_array():
    f = sp.log(sp.det(X))
    assert sg.derive(f, [X], at={X: M}).render() == sg.derive(f, [X], at={X: A}).render()


def test_numeric_of_a_sympy_matrix_value():
    got = sg.numeric(sp.Trace(X * X), {X: M})
    assert float(got) == pytest.approx(np.trace(A @ A))


def test_check_at_a_sympy_matrix():
    r = sg.check(sp.Trace(X * X), X, 2 * X.T, at={X: M})
    assert r.verdict == "equal", r
    wrong = sg.check(sp.Trace(X * X), X, 2 * X, at={X: M})
    assert wrong.verdict == "not equal", wrong


def test_a_sympy_matrix_with_a_symbol_inside_is_named():
    a = sp.Symbol("a")
    with pytest.raises(sg.SymgradError, match=r"the value of X must be a matrix of real numbers"):
        sg.numeric(sp.Trace(X * X), {X: sp.Matrix([[a, 1], [0, 3]])})
