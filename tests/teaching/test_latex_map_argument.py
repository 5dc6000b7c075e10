"""A matrix activation's argument is set as math in LaTeX, \\tanh{\\left(W_{hh} h_{0} + … \\right)}:
it was wrapped in \\mathit{…} (the stand-in symbol the map prints its function of is a word, which
the printer sets as one, `render._word`), so its digits came out italic, tanh(z^{(1)}) with an
italic 1 under the forward line's upright z^{(1)} (until 2026-11-30, ninth session)."""
import sympy as sp

import symgrad as sg


def test_a_maps_argument_is_not_a_word():
    W, x, b = sp.MatrixSymbol("W1", 5, 4), sp.MatrixSymbol("x", 4, 1), sp.MatrixSymbol("b1", 5, 1)
    t = sp.MatrixSymbol("t", 5, 1)
    tex = sg.derive(sg.mse(sg.relu(W * x + b), t), [W]).latex()
    assert r"\mathit" not in tex, tex
    assert r"\operatorname{relu}\left(W_{1} x + b_{1}\right)" in tex


def test_the_rnns_header():
    h, b = sp.MatrixSymbol("h0", 3, 1), sp.MatrixSymbol("b", 3, 1)
    xs = sp.MatrixSymbol("x1", 3, 1)
    t = sp.MatrixSymbol("t", 3, 1)
    Whh, Wxh = sp.MatrixSymbol("W_hh", 3, 3), sp.MatrixSymbol("W_xh", 3, 3)
    tex = sg.derive(sg.mse(sg.tanh(Whh * h + Wxh * xs + b), t), [Whh]).latex()
    assert r"\tanh{\left(W_{hh} h_{0} + W_{xh} x_{1} + b \right)}" in tex, tex
    assert r"\mathit" not in tex
