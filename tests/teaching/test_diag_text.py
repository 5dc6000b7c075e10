"""DiagMatrix and DiagonalOf in the derivation's text (2026-12-01, eleventh session): the loss line
printed SymPy's class names, ``L = sum(Xᵀ·DiagMatrix(v)·X)``, where a lecture writes diag(v). Now
Unicode, ASCII and LaTeX read ``diag(v)``, and the diagonal of a square M reads ``diag(M)`` as
``np.diag`` (and the text grammar's ``diag``) does. The expected lines are written by hand."""
from __future__ import annotations

import sympy as sp

import symgrad as sg
from symgrad.teaching.render import TextPrinter, UnicodePrinter

X, M = sp.MatrixSymbol("X", 3, 3), sp.MatrixSymbol("M", 3, 3)
v = sp.MatrixSymbol("v", 3, 1)


def test_the_loss_line_writes_diag_v():
    d = sg.derive(sg.sum(X.T * sp.DiagMatrix(v) * X), v)
    assert str(d).splitlines()[0] == "L = sum(Xᵀ·diag(v)·X)"
    assert "L = sum(X^T*diag(v)*X)" in d.text()
    tex = d.latex()
    assert r"\operatorname{diag}\left(v\right)" in tex and "DiagMatrix" not in str(d) + d.text() + tex


def test_the_diagonal_of_a_square_matrix_reads_diag_too():
    assert UnicodePrinter().doprint(sp.DiagonalOf(X * M)) == "diag(X·M)"
    assert TextPrinter().doprint(sp.DiagonalOf(M)) == "diag(M)"
    assert "DiagonalOf" not in sg.derive(sg.sum(sp.DiagonalOf(M)), M).latex()
