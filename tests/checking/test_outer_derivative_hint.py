"""The chain rule's outer derivative left out — d/dw log(w² + 1) claimed as 2w, ∂‖x‖/∂x as 2x or x —
had no hint; the claim times F′(u) is the gradient (up to a 2 or ½), and F′(u) is named."""
from __future__ import annotations

import sympy as sp

import symgrad as sg

from verdicts import wrong


def test_log_and_exp_name_their_derivative():
    w, x = sp.symbols("w x", real=True)
    r = wrong(sg.check(sp.log(w ** 2 + 1), w, 2 * w), "outer derivative left out")
    assert "its derivative 1/(w**2 + 1) (u = w**2 + 1); multiply the claim by it." in r.hint
    r = wrong(sg.check(sp.exp(w * x), w, x), "outer derivative left out")
    assert "the derivative of exp left out" in r.hint


def test_a_norms_gradient_written_as_that_of_half_its_square_says_what_to_multiply_by():
    x = sp.MatrixSymbol("x", 3, 1)
    n2 = sg.sum(sp.HadamardPower(x, 2))
    r = wrong(sg.check(sp.sqrt(n2), x, x), "outer derivative left out")
    assert "still 1/2 times the gradient, so multiply by 1/sqrt(sum(HadamardPower(x, 2))) instead" in r.hint
    assert sg.check(sp.sqrt(n2), x, x / sp.sqrt(n2))


def test_a_claim_wrong_otherwise_is_not_called_an_outer_derivative():
    w = sp.Symbol("w", real=True)
    r = wrong(sg.check(sp.sqrt(w ** 2 + 1), w, w / (w ** 2 + 1)))       # the wrong power of u, not F′ left out
    assert r.hint is None or not r.hint.startswith("outer derivative"), r.hint
