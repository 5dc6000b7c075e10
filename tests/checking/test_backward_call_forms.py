"""How check_backward reads a backward's call and return, as students write them: a dict keyed
cs231n's way ({'dx': ..., 'dw': ..., 'db': ...}) is the gradients by name; a backward of a layer (not a
loss) written without its dout parameter is told to take dout first — before, it was told to wrap a
loss function, which it is not."""
from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg

from verdicts import N, wrong

x, w, b = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 5)), sg.tensor("b", (5,))
OUT = x @ w + b


def affine_backward(dout, x, w, b):
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def test_a_dict_keyed_dx_dw_db_is_read_by_name():
    r = sg.check_backward(OUT, [x, w, b], lambda dout, x, w, b: dict(zip(("dw", "db", "dx"), affine_backward(dout, x, w, b)[1:] + affine_backward(dout, x, w, b)[:1])))
    assert r.verdict == "equal"
    wrong(sg.check_backward(OUT, [x, w, b], lambda dout, x, w, b: dict(zip(("dx", "dw", "db"), (
        *affine_backward(dout, x, w, b)[:2], dout.sum(axis=1))))), "summed over the wrong axes")


def test_a_dict_with_other_keys_is_still_refused():
    with pytest.raises(sg.BackwardError, match=r"keyed by name: \['x', 'w', 'b'\]"):
        sg.check_backward(OUT, [x, w, b], lambda dout, x, w, b: dict(zip(("dx", "dW", "db"), affine_backward(dout, x, w, b))))


def test_a_layer_backward_without_dout_is_told_to_take_it_first():
    with pytest.raises(sg.BackwardError) as e:
        sg.check_backward(OUT, [x, w, b], lambda x, w, b: affine_backward(np.ones((len(x), 5)), x, w, b))
    assert "def backward(dout, x, w, b)" in str(e.value) and "wrap a loss function" not in str(e.value)


def test_a_loss_without_dout_keeps_the_loss_advice():
    y = sg.tensor("y", (N,), integer=True)
    with pytest.raises(sg.BackwardError, match="wrap a loss function"):
        sg.check_backward(sg.cross_entropy(x @ w, y), [x], lambda x, w, y: x)


def _temporal_softmax_loss():
    x, y, mask = sg.tensor("x", (N, 3, 4)), sg.tensor("y", (N, 3), integer=True), sg.tensor("mask", (N, 3))
    logp = sg.log_softmax(x, axis=2)
    return -sg.sum(mask * sg.take_along_axis(logp, y[:, :, None], axis=2)[:, :, 0]) / N, x


def temporal_softmax_backward_with_a_boolean_mask(dout, x, y, mask):
    """cs231n's temporal_softmax_loss gradient, the mask used as booleans (dx[~mask] = 0)."""
    n, t, v = x.shape
    p = np.exp(x - x.max(axis=2, keepdims=True))
    p /= p.sum(axis=2, keepdims=True)
    p[np.arange(n)[:, None], np.arange(t)[None, :], y] -= 1
    p[~mask] = 0
    return dout * p / n


def test_a_boolean_mask_drawn_as_real_numbers_is_explained():
    loss, x = _temporal_softmax_loss()
    with pytest.raises(sg.BackwardError, match=r"'mask' is drawn as real numbers .* at=\{'mask': array of bools\}"):
        sg.check_backward(loss, x, temporal_softmax_backward_with_a_boolean_mask)
    m = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 1, 1]], bool)
    assert sg.check_backward(loss, x, temporal_softmax_backward_with_a_boolean_mask, at={"mask": m}).verdict == "equal"


def test_a_bias_gradient_summed_with_no_axis_says_which_axes_to_sum():
    r = wrong(sg.check_backward(OUT, [x, w, b], lambda dout, x, w, b: (*affine_backward(dout, x, w, b)[:2], np.sum(dout))),
              "extra sum: the claim is a scalar")
    assert "a sum with no axis=" in r.hint and "db = dout.sum(axis=0)" in r.hint


def test_a_wrt_tensor_that_out_does_not_use_is_named_at_once():
    """It used to reach the backward as a keyword, which raised "unexpected keyword argument 'b2'"."""
    b2 = sg.tensor("b2", (5,))
    with pytest.raises(sg.ArgumentError, match=r"wrt holds 'b2', which out does not use \(out's symbols: b, w, x\)"):
        sg.check_backward(OUT, [x, w, b2], affine_backward)
