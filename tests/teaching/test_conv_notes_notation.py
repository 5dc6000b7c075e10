"""The conv, pooling and residual notes write their expressions as the steps do (Unicode: ⊙, H(·),
w₁), not as SymPy's str() (Heaviside(…, 1)*…, w1), and the residual block's LaTeX writes every
gradient its text writes (until 2026-11-30, ninth session, ∂L/∂w₂ was in the text only)."""
import sympy as sp

import symgrad as sg
from symgrad.teaching.conv_notes import layer_notes, residual_notes

N = sp.Symbol("N", integer=True, positive=True)


def _block():
    x = sg.tensor("x", (N, 2, 4, 4))
    w1, w2 = sg.tensor("w1", (2, 2, 3, 3)), sg.tensor("w2", (2, 2, 3, 3))
    branch = sg.conv2d(sg.relu(sg.conv2d(x, w1, padding=1)), w2, padding=1)
    return residual_notes(branch, x, [w2])


def test_residual_text_in_the_steps_notation():
    text = str(_block())
    assert "Heaviside" not in text and ")*" not in text, text
    assert "⊙ H(conv2d(x, w₁, padding=1))" in text, text
    assert "F(x) = conv2d(relu(conv2d(x, w₁, padding=1)), w₂, padding=1)" in text, text
    assert "∂L/∂w₂ = " in text, text


def test_residual_latex_writes_the_parameter_too():
    latex = _block().latex()
    assert r"\frac{\partial L}{\partial x}" in latex
    assert r"\frac{\partial L}{\partial w_{2}}" in latex, latex


def test_max_pool_switch_without_python_operators():
    text = str(layer_notes(sg.max_pool2d(sg.tensor("h", (N, 2, 4, 4)), 2)))
    line = next(l for l in text.splitlines() if l.strip().startswith("= fold("))
    assert "*" not in line and "⊙" in line, line
