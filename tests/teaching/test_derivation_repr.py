"""`Derivation` and the calculus narration at the prompt: one short line with f and its
derivative(s), never a dataclass dump of the IR; Markdown for Jupyter."""
import sympy as sp

import symgrad as sg


def test_derivation_repr_is_one_line_with_the_gradients():
    x, y, z = sp.symbols("x y z")
    d = sg.derive((x + y) * z, [x, y, z])
    assert repr(d) == "<Derivation of f = z*(x + y): ∂f/∂x = z, ∂f/∂y = z, ∂f/∂z = x + y (print() it for the steps)>"
    assert "**" in d._repr_markdown_() or "∂" in d._repr_markdown_()


def test_derivation_repr_of_a_network_stays_short():
    net = sg.mlp([4, 8, 8, 2], act=sp.tanh)
    t = sp.MatrixSymbol("t", 2, 1)
    d = sg.derive(sg.mse(net.output, t), net.params)
    text = repr(d)
    assert len(text) < 260 and "\n" not in text, text
    assert "Graph(" not in text and "StraightLine" not in text
    assert "∂f/∂W1 = (long)" in text and "and 2 more" in text


def test_calculus_repr_states_the_derivative():
    x = sp.Symbol("x")
    c = sg.derive(sp.sin(x ** 2), x, style="calculus")
    assert repr(c) == "<Calculus: d/dx sin(x**2) = 2*x*cos(x**2), 3 steps (print() it for the narration)>"
    at = sg.derive(sp.sin(x ** 2), x, style="calculus", at={x: 1.0})
    assert "1.081 at the point" in repr(at)          # 2·cos(1)
    assert "cos" in c._repr_markdown_()
