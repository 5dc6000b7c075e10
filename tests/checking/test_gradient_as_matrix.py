"""∇f of scalar symbols written as a column (or row) sp.Matrix, as an optimisation course writes
it — sg.check(rosenbrock, [x, y], Matrix([∂f/∂x, ∂f/∂y])) — is read as one entry per wrt symbol.
It used to be refused ("one claimed expression for 2 wrt symbols"). A Matrix of another length
says so. The gradient is sympy.diff's."""
from __future__ import annotations

import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import SymgradError

x, y, z = sp.symbols("x y z", real=True)
ROSEN = (1 - x) ** 2 + 100 * (y - x ** 2) ** 2
GRAD = sp.Matrix([sp.diff(ROSEN, x), sp.diff(ROSEN, y)])


def test_a_column_or_row_gradient_is_checked_entry_by_entry():
    assert sp.expand(GRAD[1] - 200 * (y - x ** 2)) == 0
    assert sg.check(ROSEN, [x, y], GRAD).verdict == "equal"
    assert sg.check(ROSEN, [x, y], GRAD.T).verdict == "equal"


def test_a_wrong_entry_is_named_by_its_symbol():
    r = sg.check(ROSEN, [x, y], sp.Matrix([GRAD[0], 100 * (y - x ** 2)]))
    assert not r and r.counterexample.param == "y", str(r)


def test_a_matrix_of_another_length_says_so():
    with pytest.raises(SymgradError, match=r"3×1 Matrix, but wrt has 2 symbols \(x, y\)"):
        sg.check(x * y * z, [x, y], sp.Matrix([y * z, x * z, x * y]))


F = x ** 2 * y + y ** 3
HESS = [[sp.diff(F, a, b) for b in (x, y)] for a in (x, y)]


def test_a_hessian_as_nested_lists_is_read_as_a_matrix():
    assert HESS == [[2 * y, 2 * x], [2 * x, 6 * y]]
    assert sg.check(F, [x, y], HESS).verdict == "equal"
    r = sg.check(F, [x, y], [[2 * y, 2 * x], [2 * x, 3 * y]])
    assert not r and r.hint.kind == "one entry wrong", r.hint


def test_a_gradient_as_a_nested_column_and_bad_rows():
    assert sg.check(F, [x, y], [[2 * x * y], [x ** 2 + 3 * y ** 2]]).verdict == "equal"
    with pytest.raises(SymgradError, match="a list of 3 entries.*the Hessian of 2 symbols is 2×2"):
        sg.check(F, [x, y], [[2 * y, 2 * x, 1], [2 * x, 3 * y, 1]])


def test_a_function_returning_one_vector_or_a_square():
    import numpy as np
    assert sg.check(F, [x, y], lambda v: np.array([2 * v["x"] * v["y"], v["x"] ** 2 + 3 * v["y"] ** 2])).verdict == "equal"
    with pytest.raises(SymgradError, match=r"shape \(2, 2\) for 2 wrt symbols.*is a Hessian"):
        sg.check(F, [x, y], lambda v: np.array([[2 * v["y"], 2 * v["x"]], [2 * v["x"], 6 * v["y"]]]))
