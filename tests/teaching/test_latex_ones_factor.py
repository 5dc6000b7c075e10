"""A number before the vector of ones is set with a dot in LaTeX, 0.05 \\cdot \\mathbf{1}: juxtaposed,
0.05\\mathbf{1} compiles to what reads as 0.051 (the penalty's ∂L/∂u₂ = 0.05·𝟙 in cs231n's
L_data + L_reg). A fraction or a symbol needs none (\\frac{1}{20} \\mathbf{1})."""
import sympy as sp

import symgrad as sg
from symgrad.teaching.render import show


def test_the_penalty_step_has_a_dot_before_the_ones():
    x, W = sg.tensor("x", (4, 5)), sg.tensor("W", (5, 3))
    y = sg.tensor("y", (4,), integer=True)
    tex = sg.derive(sg.cross_entropy(x @ W, y) + 0.05 * sg.sum(W * W), [W], output_name="L").latex()
    assert r"= 0.05 \cdot \mathbf{1}" in tex
    assert r"0.05 \mathbf{1}" not in tex


def test_matrix_ones():
    ones = sp.OneMatrix(3, 1)
    assert show(sp.MatMul(sp.Float(0.5), ones), "latex") == r"0.5 \cdot \mathbf{1}"
    assert show(sp.MatMul(2, ones), "latex") == r"2 \cdot \mathbf{1}"
    assert show(sp.MatMul(sp.Rational(1, 20), ones), "latex") == r"\frac{1}{20} \mathbf{1}"


def test_minus_one_before_the_ones_is_a_minus():
    # −𝟙 (the softmax cross-entropy's ∂L/∂u₃ = −𝟙, as the Unicode view writes it), not − 1·𝟙
    ones = sp.OneMatrix(3, 1)
    assert show(sp.MatMul(-1, ones), "latex") == r"- \mathbf{1}"
    assert show(sp.MatMul(1, ones), "latex") == r"\mathbf{1}"
    assert show(sp.MatMul(-2, ones), "latex") == r"- 2 \cdot \mathbf{1}"
    assert show(sp.MatMul(-1, ones), "unicode") == "−𝟙"
