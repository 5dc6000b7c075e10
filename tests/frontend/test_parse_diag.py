"""``DiagMatrix(v)`` / ``diag(v)`` and ``DiagonalOf(M)`` / ``diag(M)`` in the text grammar: a CLI
user could not write logistic regression's Hessian XᵀSX or 2·Aᵀdiag(Ax)A ("unknown function
'DiagMatrix'"). diag follows np.diag: of a column or row the diagonal matrix, of a square matrix its
diagonal as a column. Parsed trees are compared with SymPy's own; the verdicts on the command line."""
from __future__ import annotations

import pytest
import sympy as sp

from cli_check import run
from symgrad.errors import ParseError
from symgrad.frontend.parse import parse_expr

A, x, W = sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("W", 3, 2)


def test_diag_parses_to_sympys_nodes():
    assert parse_expr("DiagMatrix(x)", symbols=[x]) == sp.DiagMatrix(x)
    assert parse_expr("diag(A*x)", symbols=[A, x]) == sp.DiagMatrix(A * x)
    assert parse_expr("diag(x.T)", symbols=[x]) == sp.DiagMatrix(x.T)
    assert parse_expr("diag(A)", symbols=[A]) == sp.DiagonalOf(A)
    assert parse_expr("DiagonalOf(A)", symbols=[A]) == sp.DiagonalOf(A)


def test_hessian_claim_with_diag_on_the_command_line(capsys):
    code, out, err = run(capsys, "sum(HadamardPower(A*x,2))", "--matrix", "A:3x3", "--matrix", "x:3x1",
                         "--wrt", "x", "--claimed", "2*A.T*A")
    assert (code, out.splitlines()[0]) == (0, "equal."), (out, err)          # a Hessian, no diag
    code, out, err = run(capsys, "sum(HadamardPower(A*x,3))", "--matrix", "A:3x3", "--matrix", "x:3x1",
                         "--wrt", "x", "--claimed", "6*A.T*DiagMatrix(A*x)*A")
    assert (code, out.splitlines()[0]) == (0, "equal."), (out, err)
    code, out, err = run(capsys, "sum(HadamardPower(A*x,3))", "--matrix", "A:3x3", "--matrix", "x:3x1",
                         "--wrt", "x", "--claimed", "3*A.T*diag(A*x)*A")
    assert code != 0 and out.startswith("not equal."), (out, err)


@pytest.mark.parametrize("text, why", [("DiagMatrix(W)", "'W' in 'DiagMatrix(W)' is a 3x2 matrix"),
                                       ("diag(W)", "'W' in 'diag(W)' is a 3x2 matrix"),
                                       ("DiagMatrix(2)", "is a scalar"),
                                       ("DiagonalOf(x)", "is a 3x1 matrix, not square")])
def test_diag_of_the_wrong_shape_refused_by_name(text, why):
    with pytest.raises(ParseError) as e:
        parse_expr(text, symbols=[A, x, W])
    assert why in str(e.value)
