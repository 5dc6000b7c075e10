"""cs231n's affine_relu_backward with its db summed over the wrong axis — from the relu-masked
upstream gradient da, or from dout itself, unmasked. The bias gradient is da summed over the batch
(da: dout through relu's mask, the gradient at x @ w + b, the node b is added into), so the hint
compares the claim with sums of that node's gradient, not only with sums of dout."""
from __future__ import annotations

import symgrad as sg

from verdicts import N, wrong


def _affine_relu():
    x, w, b = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 5)), sg.tensor("b", (5,))
    return sg.relu(x @ w + b), [x, w, b]


def affine_relu_backward(dout, x, w, b, slip=None):
    da = dout * (x @ w + b > 0)                  # relu_backward
    db = {None: lambda: da.sum(axis=0), "axis": lambda: da.sum(axis=1),
          "unmasked axis": lambda: dout.sum(axis=1)}[slip]()
    return da @ w.T, x.T @ da, db


def test_the_right_backward_is_equal():
    out, wrt = _affine_relu()
    assert sg.check_backward(out, wrt, affine_relu_backward).verdict == "equal"


def test_db_from_the_masked_gradient_over_the_wrong_axis_is_named():
    out, wrt = _affine_relu()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: affine_relu_backward(*a, **k, slip="axis")),
              "summed over the wrong axes")
    assert r.counterexample.param == "b"
    assert "over axis 1, keeping axis 0" in r.hint and "summed over axis 0" in r.hint, r.hint
    assert "x @ w + b" in r.hint and "dout" not in r.hint.split("—")[0], r.hint


def test_db_from_the_unmasked_dout_over_the_wrong_axis_names_both_slips():
    out, wrt = _affine_relu()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: affine_relu_backward(*a, **k, slip="unmasked axis")),
              "summed over the wrong axes")
    assert "dout summed over axis 1" in r.hint and "x @ w + b" in r.hint, r.hint
    assert "not dout itself" in r.hint and "db = da.sum(axis=0)" in r.hint, r.hint


def test_a_plain_affine_db_over_the_wrong_axis_still_reads_as_dout():
    x, w, b = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 5)), sg.tensor("b", (5,))
    r = wrong(sg.check_backward(x @ w + b, [b], lambda dout, x, w, b: dout.sum(axis=1)),
              "summed over the wrong axes")
    assert "dout summed over axis 1" in r.hint and "dout summed over axis 0" in r.hint, r.hint
    assert r.counterexample.param == "b"


def test_a_formula_claim_summed_over_the_wrong_axes_is_worded_for_a_formula():
    """sg.check with a formula, not a backward function: the hint said "dout carried back to the sum"
    and "cs231n's da = relu_backward(dout, cache)", words of a backward the user never wrote."""
    x, w, b = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 5)), sg.tensor("b", (5,))
    Y = sg.tensor("Y", (N, 5))
    for f, claim in ((sg.sum(sg.relu(x @ w + b) * Y), "(Y * (x @ w + b > 0)).sum(axis=1)"),
                     (sg.sum(sg.tanh(x @ w + b) * Y), sg.sum(Y * (1 - sg.tanh(x @ w + b) ** 2), axis=1))):
        r = wrong(sg.check(f, b, claim), "summed over the wrong axes")
        assert "db = da.sum(axis=0)" in r.hint and "da = ∂f/∂(" in r.hint
        assert "dout" not in r.hint and "relu_backward" not in r.hint
    masked = wrong(sg.check(sg.sum(sg.relu(x @ w + b) * Y), b, "(Y * (x @ w + b > 0)).sum(axis=1)"), "summed")
    assert "relu's mask included" in masked.hint
    from_y = wrong(sg.check(sg.sum(sg.relu(x @ w + b) * Y), b, "Y.sum(axis=1)"), "summed over the wrong axes, and from Y")
    assert from_y.hint.endswith("not Y itself.")
