"""cs231n's staged computation names its values in words (num, invden, xpysqr): LaTeX sets each
as one word, \\mathit{invden}, and a product of them with a dot, \\mathit{invden} \\cdot
\\mathit{num} — juxtaposed, f = invden num printed "invdennum", read as one name
(symgrad/teaching/render.py). Single letters, Greek names and SymPy's hats are as before."""
import pytest
import sympy as sp

import symgrad as sg
from symgrad.teaching.render import show
from teachtools import compile_latex


def _staged():
    x, y = sp.symbols("x y")
    num, invden, den = sp.symbols("num invden den")
    N_, D = x + sg.sigmoid(y), sg.sigmoid(x) + (x + y) ** 2
    return sg.derive(N_ / D, [x, y], names={num: N_, den: D, invden: 1 / D}, at={x: 3, y: -4})


def test_a_product_of_word_names_has_a_dot():
    tex = _staged().latex()
    assert r"f &= \mathit{invden} \cdot \mathit{num}" in tex, tex
    assert "invdennum" not in tex.replace(" ", "").replace(r"\mathit", "").replace("{", "").replace("}", "")


@pytest.mark.parametrize("expr, want", [
    ("x*y", "x y"), ("2*num", r"2 \mathit{num}"), ("W_hh*h", "W_{hh} h"),
    ("L_data", r"L_{\mathrm{data}}"), ("W_out", r"W_{\mathrm{out}}"),       # a word subscript upright
    ("xhat*y", r"\hat{x} y"), ("num**2/den", r"\frac{\mathit{num}^{2}}{\mathit{den}}")])
def test_names_in_latex(expr, want):
    assert show(sp.sympify(expr), "latex") == want
    assert show(sp.Symbol("alpha") * sp.Symbol("beta"), "latex") == r"\alpha \beta"


def test_the_staged_document_compiles(tmp_path):
    assert compile_latex(tmp_path, "s", _staged().latex(document=True)).exists()
