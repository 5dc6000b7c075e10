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
