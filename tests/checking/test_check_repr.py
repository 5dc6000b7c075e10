"""`CheckResult` at the prompt and in Jupyter: one short line with the verdict (no arrays), and
Markdown with the verdict, the counterexample and the hint."""
import pytest
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


def test_a_counterexample_shows_small_arrays_evenly_and_says_where_the_big_ones_are():
    """A student re-runs the backward at the counterexample: the shapes alone do not let them, so
    the sentence says where the arrays are; a small one prints as the scalars do (no padding)."""
    import symgrad as sg
    from verdicts import N
    x, w, b = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 4)), sg.tensor("b", (4,))
    def backward(dout, x, w, b):
        return dout @ w.T, 2 * x.T @ dout, dout.sum(0)
    r = sg.check_backward(x @ w + b, [x, w, b], backward)
    text = str(r.counterexample)
    # the backward runs again at the point as it is, and gives the claimed value shown
    assert backward(**r.counterexample.point)[1] == pytest.approx(r.counterexample.claimed, rel=1e-12)
    assert "x = <5×3 array>" in text and text.endswith("; the arrays in full: r.counterexample.point (in Python)")
    assert set(r.counterexample.point) == {"x", "w", "b", "dout"} and r.counterexample.point["x"].shape == (5, 3)
    shown = text.split("b = ")[1].split("]")[0] + "]"
    assert "  " not in shown and " ," not in shown and shown.count(",") == 3
    assert [float(v) for v in shown.strip("[]").split(", ")] == pytest.approx(r.counterexample.point["b"], rel=5e-3)


def test_report_takes_the_note_after_a_counterexample_of_arrays():
    """`symgrad check` passes its own note (the --seed) to report(), rather than editing the text."""
    import symgrad as sg
    from verdicts import N
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 4))
    r = sg.check_backward(x @ w, [w], lambda dout, x, w: 2 * x.T @ dout)
    lines = r.report(arrays_note="; NOTE").splitlines()
    assert lines[1].startswith("Counterexample ") and lines[1].endswith("; NOTE."), lines[1]
    assert "r.counterexample.point (in Python)" not in "\n".join(lines)
    assert str(r.counterexample).endswith("r.counterexample.point (in Python)")
    assert r.report().splitlines()[1] == f"Counterexample {r.counterexample}."
