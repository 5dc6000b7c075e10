"""A rule note's formula is one formula in LaTeX, as the equations above it: cs231n's vectorised
D = W·X reads "matrix product: $\\nabla W = \\delta \\cdot X^{T}$" — not "$\\nabla$W = $\\delta$ @
$X^{T}$", its name outside math and NumPy's @ between (symgrad/teaching/rule_prose.py)."""
import re

import pytest
import sympy as sp

import symgrad as sg
from symgrad.teaching.rule_prose import words
from teachtools import compile_latex


def _vectorised():
    W, X, dD = sg.tensor("W", (5, 10)), sg.tensor("X", (10, 3)), sg.tensor("dD", (5, 3))
    return sg.derive(sg.sum((W @ X) * dD), [W, X], names={sg.tensor("D", (5, 3)): W @ X}, output_name="L")


def test_the_matrix_product_notes_are_formulas():
    tex = _vectorised().latex()
    notes = re.findall(r"\\stepnote\{matrix product: (.*)\}", tex)
    assert [re.sub(r"\s+", " ", n) for n in notes] == [r"$\nabla W = \delta \cdot X^{T}$",
                                                       r"$\nabla X = W^{T} \cdot \delta$"], notes


def test_prose_around_a_formula_stays_text():
    assert words("matrix product: ∇W₁ = xᵀ @ δ", "latex").startswith(r"\text{matrix product: }")
    assert words("the derivative of relu is the step H(u)", "latex") == r"\text{the derivative of relu is the step H(u)}"


def test_the_document_compiles(tmp_path):
    compile_latex(tmp_path, "v", _vectorised().latex(document=True))


def test_a_partial_derivative_in_prose_is_one_formula():
    # an optimizer view's heading: "with gradient g = ∂L/∂p" set $\partial$L/$\partial$p before
    tex = words("for each entry p with gradient g = ∂L/∂p, at step t", "latex")
    assert r"\partial L/\partial p" in tex, tex


def test_the_sigmoid_rule_is_one_formula():
    # σ(1 − σ) in a note is $\sigma(1 - \sigma)$: until 2026-11-30, ninth session, its brackets and
    # its 1 were prose between three formulas, "$\sigma$(1 $- \sigma$)" on the page
    assert re.sub(r"\s+", "", words("the derivative of the sigmoid is σ(1 − σ)", "latex")) == \
        r"\text{thederivativeofthesigmoidis}\sigma(1-\sigma)"
    z = sp.Symbol("z")
    tex = sg.derive(sg.sigmoid(z), [z]).latex()
    assert re.search(r"the derivative of the sigmoid is \$\\sigma\s*\(1 - \\sigma\s*\)\$", tex), tex
    assert words("(the logistic) σ", "latex").startswith(r"\text{(the logistic) }")


@pytest.mark.parametrize("f, formula", [(sp.tanh, r"$1 - \tanh^{2}$"), (sp.tan, r"$1 + \tan^{2}$"),
                                        (sp.atan, r"$\frac{1}{1 + u^{2}}$")])
def test_the_rule_tables_formulas_are_one_formula_each(f, formula):
    # "the derivative of tanh is 1 − tanh²" was set 1 $-$ tanh$^2$: the name tanh, letters, was prose
    z = sp.Symbol("z")
    tex = sg.derive(f(z), [z]).latex()
    assert formula in tex, tex
    assert words("the derivative of tanh is 1 − tanh²", "text") == "the derivative of tanh is 1 - tanh^2"
