"""`CheckResult` at the prompt and in Jupyter: one short line with the verdict (no arrays), and
Markdown with the verdict, the counterexample and the hint."""
import sympy as sp

import symgrad as sg

W = sp.MatrixSymbol("W", 3, 2)
x = sp.MatrixSymbol("x", 2, 1)
F = sg.sum(sp.HadamardPower(W * x, 2))


def test_repr_of_a_wrong_claim_is_one_short_line_with_the_verdict():
    r = sg.check(F, W, 4 * W * x * x.T)         # twice the gradient 2·W·x·xᵀ
    text = repr(r)
    assert text.startswith("<CheckResult: not equal") and "\n" not in text and len(text) < 200, text
    assert "∂f/∂W" in text and "relative error 0.5" in text and "constant factor" in text
    assert "array(" not in text and "[[" not in text        # no raw arrays
    assert "array(" not in repr(r.counterexample) and len(repr(r.counterexample)) < 200


def test_repr_of_a_right_claim_says_equal_and_how():
    r = sg.check(F, W, 2 * W * x * x.T)
    assert repr(r) == "<CheckResult: equal (symbolic: proved equal)>"
    a = sp.Symbol("a")
    k = sg.check(2 * sg.relu(a), a, 2 * sp.Heaviside(a))
    assert repr(k).startswith("<CheckResult: equal except at points where f is not differentiable")


def test_markdown_shows_verdict_counterexample_and_hint_escaped():
    r = sg.check(F, W, 4 * W * x * x.T)
    m = r._repr_markdown_()
    assert m.splitlines()[0] == "**✗ not equal.**"
    assert "**Counterexample**" in m and "**Hint:** constant factor" in m
    assert "W\\[0, 0\\]" in m                 # brackets escaped: Markdown would read a link
    assert sg.check(F, W, 2 * W * x * x.T)._repr_markdown_().startswith("**✓ equal.**")
