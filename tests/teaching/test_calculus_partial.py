"""The calculus style on a function of several variables writes partial derivatives, as the notes'
∂/∂y (z⁴ − sin(y² + x)) = −cos(y² + x)·2y; an inner function's own derivative stays d/du, and a
function of one variable keeps d/dx (symgrad/teaching/render.py). LaTeX brackets a negated
argument: \\frac{\\partial}{\\partial y} \\left(- \\sin …\\right), never a minus that reads as a
subtraction."""
import sympy as sp

import symgrad as sg

x, y, z = sp.symbols("x y z")


def test_a_partial_derivative_reads_with_the_partial_sign():
    c = sg.derive(z ** 4 - sp.sin(y ** 2 + x), y, style="calculus")
    text = str(c)
    assert text.splitlines()[0] == "∂/∂y (z⁴ − sin(x + y²))", text
    assert "d/du sin(u)·∂u/∂y" in text and "the derivative of sine is cosine: d/du sin(u) = cos(u)" in text, text
    assert text.splitlines()[-1] == "so ∂/∂y (z⁴ − sin(x + y²)) = −2·y·cos(x + y²)", text
    assert sp.simplify(c.result - sp.diff(z ** 4 - sp.sin(y ** 2 + x), y)) == 0
    tex = c.latex()
    assert r"\frac{\partial}{\partial y} \left(z^{4}" in tex and r"\frac{d}{d u}" in tex, tex
    assert r"\frac{\partial}{\partial y} -" not in tex and r"\frac{\partial}{\partial y} \left(- \sin" in tex, tex


def test_one_variable_keeps_d():
    text = str(sg.derive(sp.sin(x ** 2), x, style="calculus"))
    assert text.splitlines()[0] == "d/dx sin(x²)" and "∂" not in text, text


def test_a_view_after_a_partial_one_is_plain_again():
    str(sg.derive(3 * y * x ** 2, y, style="calculus"))
    assert "∂" not in str(sg.derive(sp.cos(x), x, style="calculus"))
