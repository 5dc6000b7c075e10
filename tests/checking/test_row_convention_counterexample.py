"""Under convention="row" the claim is transposed before it is compared; a counterexample whose
shape is wrong named the transposed shape alone — "the claimed ∂f/∂x has shape (1, 3)" for a claim
the user wrote as (3, 1) (a newcomer's trial, 2026-11-30, tenth session). It now says both."""
import sympy as sp

import symgrad as sg

A, x = sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("x", 3, 1)
F = (x.T * A * x)[0, 0]


def test_a_column_claim_under_the_row_convention_names_the_shape_given():
    r = sg.check(F, x, (A + A.T) * x, convention="row")
    assert r.verdict == "not equal"
    said = str(r.counterexample)
    assert "has shape (1, 3) (the transpose of the (3, 1) given, as the row convention reads it)" in said, said


def test_the_column_convention_says_no_transpose():
    r = sg.check(F, x, ((A + A.T) * x).T)
    assert r.verdict == "not equal"
    assert "has shape (1, 3) where" in str(r.counterexample)
    assert "transpose of the" not in str(r.counterexample)
