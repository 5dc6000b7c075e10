"""A student checking hand-derived gradients written as formulas (lecture notation, SymPy matrices
and symgrad tensors) with sg.check: a two-layer net's δ₁ = (W₂ᵀδ₂) ⊙ σ′(z₁), logistic regression,
the Matrix Cookbook's identities; each typed right and with a student's slip. The expected words
are the slips as a student makes them, the truths checked against sympy.diff / finite differences
by sg.check itself (its verdict), and here against torch.autograd where a value is asserted."""
from __future__ import annotations

import sympy as sp
from sympy import HadamardProduct as HP
from sympy import MatrixSymbol as MS

import symgrad as sg

from verdicts import wrong


def _two_layer():
    W1, W2, x, t, b1 = MS("W1", 4, 3), MS("W2", 2, 4), MS("x", 3, 1), MS("t", 2, 1), MS("b1", 4, 1)
    h = (W1 * x + b1).applyfunc(sg.sigmoid)
    d2 = W2 * h - t
    return sg.sum(HP(d2, d2)) / 2, W1, W2, x, h, d2


def test_a_sigmoid_derivative_written_as_tanhs_names_the_matrix_it_is_applied_to():
    """σ′ written 1 − h² in δ₁ for h = σ.(W1 x + b1): the hint named the node "sigmoid(_d)", SymPy's
    lambda variable of applyfunc, and said "the other activations' derivatives are right" with no
    other activation in f."""
    L, W1, W2, x, h, d2 = _two_layer()
    right = HP(W2.T * d2, HP(h, sp.OneMatrix(4, 1) - h)) * x.T
    assert sg.check(L, W1, right).verdict == "equal"
    r = wrong(sg.check(L, W1, HP(W2.T * d2, sp.OneMatrix(4, 1) - HP(h, h)) * x.T), "σ'(z) written wrong")
    assert "σ(z) applied entrywise to z = W1*x + b1" in r.hint and "1 − σ(z)²" in r.hint
    assert "_d" not in r.hint and "other activations" not in r.hint
