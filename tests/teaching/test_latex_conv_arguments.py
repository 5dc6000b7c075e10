"""The LaTeX of a convolution keeps its stride, padding and dilations, and a transpose that is not
the reversal of every axis is written out (fourth-session trial): the conv notes' LaTeX read
∂L/∂x = conv2d(δ, flip(w)ᵀ) for conv2d(δ, flip(w, (2, 3)).transpose(1, 0, 2, 3), padding=1,
input_dilation=2) — another function: the gradient of a stride-2 layer needs its dilation."""
import sympy as sp

import symgrad as sg
from symgrad.teaching.conv_notes import layer_notes
from symgrad.teaching.render import TeachLatexPrinter

N = sp.Symbol("N", integer=True, positive=True)


def test_conv_latex_keeps_its_arguments():
    x, w = sg.tensor("x", (N, 2, 8, 8)), sg.tensor("w", (3, 2, 3, 3))
    tex = TeachLatexPrinter().doprint(sg.conv2d(x, w, stride=2, padding=1, dilation=2))
    assert tex == (r"\operatorname{conv2d}\left(x, w, \operatorname{stride}=2, \operatorname{padding}=1, "
                   r"\operatorname{dilation}=2\right)")


def test_transpose_latex():
    x = sg.tensor("x", (2, 3, 4, 5))
    p = TeachLatexPrinter()
    assert p.doprint(x.T) == "x^{T}"                                 # every axis reversed
    assert p.doprint(x.transpose(1, 0, 2, 3)) == r"x.\operatorname{transpose}\left(1, 0, 2, 3\right)"


def test_conv_layer_notes_latex_is_the_text():
    x, w, b = sg.tensor("x", (N, 3, 7, 7)), sg.tensor("w", (4, 3, 3, 3)), sg.tensor("b", (4,))
    notes = layer_notes(sg.conv2d(x, w, b, stride=2, padding=1))
    text, tex = str(notes), notes.latex()
    assert "padding=1, input_dilation=2" in text                     # the text had them ...
    assert r"\operatorname{padding}=1, \operatorname{input\_dilation}=2" in tex     # ... the LaTeX now too
    assert r"\operatorname{flip}\left(w, (2, 3)\right).\operatorname{transpose}\left(1, 0, 2, 3\right)" in tex


def test_uneven_padding_latex():
    # an 8×8 input at stride 2 pads ∂L/∂x unevenly: the LaTeX writes the pairs the text writes
    x, w, b = sg.tensor("x", (N, 3, 8, 8)), sg.tensor("w", (4, 3, 3, 3)), sg.tensor("b", (4,))
    notes = layer_notes(sg.conv2d(x, w, b, stride=2, padding=1))
    assert "padding=((1, 2), (1, 2))" in str(notes)
    assert r"\operatorname{padding}=((1, 2), (1, 2))" in notes.latex()
