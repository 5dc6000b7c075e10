"""``det(X)`` and ``inv(X)`` in the text grammar (2026-12-01): the matrix language has the inverse
and the determinant (``sp.det(X)``, ``X.inv()``, ``log(det(X))``), but the command line and string
claims refused them ("unknown function 'det'"). They are whitelisted functions of a square matrix;
anything else is refused naming the argument. The verdicts are the Matrix Cookbook's identities
(∂ log det X/∂X = X⁻ᵀ, ∂ det X/∂X = det X·X⁻ᵀ), and the parsed trees are compared with SymPy's own."""
from __future__ import annotations

import re

import pytest
import sympy as sp

from cli_check import run
from symgrad.errors import ParseError, UnsafeInputError
from symgrad.frontend.parse import parse_expr

X, W = sp.MatrixSymbol("X", 3, 3), sp.MatrixSymbol("W", 3, 2)


def test_det_and_inv_parse_to_sympys_nodes():
    assert parse_expr("log(det(X))", symbols=[X]) == sp.log(sp.det(X))
    assert parse_expr("inv(X).T", symbols=[X]) == X.inv().T
    assert parse_expr("X**-1", symbols=[X]) == X.inv()
    assert parse_expr("det(X)*inv(X).T", symbols=[X]) == sp.det(X) * X.inv().T


@pytest.mark.parametrize("f, claimed", [("log(det(X))", "inv(X).T"),
                                        ("det(X)", "det(X)*inv(X).T"),
                                        ("log(det(X))", "(X**-1).T")])
def test_cookbook_identities_read_equal_on_the_command_line(capsys, f, claimed):
    code, out, err = run(capsys, f, "--matrix", "X:3x3", "--wrt", "X", "--claimed", claimed)
    assert (code, out.splitlines()[0]) == (0, "equal."), (out, err)


def test_forgotten_transpose_reads_not_equal(capsys):
    code, out, err = run(capsys, "log(det(X))", "--matrix", "X:3x3", "--wrt", "X", "--claimed", "inv(X)")
    assert code != 0 and out.startswith("not equal."), (out, err)


@pytest.mark.parametrize("text, why", [("det(W)", "'W' in 'det(W)' is a 3x2 matrix, not square"),
                                       ("inv(x)", "'x' in 'inv(x)' is a scalar")])
def test_det_and_inv_of_a_non_square_argument_are_refused(text, why):
    with pytest.raises(ParseError, match=re.escape(f"takes a square matrix; {why}")):
        parse_expr(text, symbols=[W])


def test_other_spellings_point_to_det_and_inv():
    with pytest.raises(ParseError, match="did you mean 'det'"):
        parse_expr("determinant(X)", symbols=[X])


@pytest.mark.parametrize("text, instead", [("X.inv().T", "write inv(X) (or X**-1)"),
                                           ("X.I", "write inv(X) (or X**-1)"),
                                           ("log(X.det())", "write det(X)")])
def test_sympys_methods_point_to_the_functions(text, instead):
    with pytest.raises(UnsafeInputError, match=re.escape(instead)):
        parse_expr(text, symbols=[X])
