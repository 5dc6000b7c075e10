"""The determinant, trace and X⁻ᵀ in the derivation's text (2026-12-01): the text printed SymPy's
class names, ``log(Determinant(X))``, ``Trace(A·X⁻¹)``, and X⁻ᵀ as ``Xᵀ⁻¹`` (ASCII ``X^T^-1``). Now
Unicode reads ``log det X``, ``det X``, ``tr(A·X⁻¹)``, ``X⁻ᵀ``, with det's parentheses in a product
(``det(X)·y``: ``det X·y`` would read det(X·y)); ASCII ``log(det(X))``, ``tr(...)``, ``X^-T``.
The expected lines are written as a textbook writes them."""
from __future__ import annotations

import sympy as sp

import symgrad as sg
from symgrad.teaching.render import TextPrinter, UnicodePrinter

X, A = sp.MatrixSymbol("X", 3, 3), sp.MatrixSymbol("A", 3, 3)
y = sp.Symbol("y")


def test_log_det_reads_as_written_in_unicode_and_ascii():
    d = sg.derive(sp.log(sp.det(X)), X)
    assert str(d).splitlines()[:2] == ["L = log det X", "∂L/∂X = X⁻ᵀ"]
    text = d.text()
    assert "L = log(det(X))" in text and "dL/dX = X^-T" in text
    assert "Determinant" not in str(d) + text and "Xᵀ⁻¹" not in str(d)


def test_det_takes_parentheses_in_a_product_and_trace_reads_tr():
    u = UnicodePrinter()
    assert u.doprint(sp.det(X) * sp.Trace(A * X.inv())) == "det(X)·tr(A·X⁻¹)"
    assert u.doprint(y * sp.log(sp.det(X))) == "y·log(det(X))"
    assert sorted(u.doprint(sp.Trace(X) + sp.log(sp.det(X))).split(" + ")) == ["log det X", "tr(X)"]
    assert u.doprint(sp.Determinant(A + X)) == "det(A + X)"
    assert u.doprint(X.inv().T) == u.doprint(X.T.inv()) == "X⁻ᵀ"
    assert TextPrinter().doprint(sp.det(X) * X.inv().T) == "det(X)*X^-T"


def test_latex_keeps_its_bars():
    tex = sg.derive(sp.log(sp.det(X)), X).latex()
    assert r"\log{\left(\left|{X}\right| \right)}" in tex and "Determinant" not in tex
