"""A softmax loss backward that normalises over the wrong axis (`probs.sum(axis=0)` where the classes
are on axis 1) is named "softmax over the wrong axis", in `sg.check_backward` and `sg.check`; and an
embedding backward written `dW[idx] += dout` (NumPy's += on a fancy index loses repeated indices)
is named as the assignment it is. The right backwards are first checked against torch.autograd."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from verdicts import N, wrong


def softmax_loss_dx(x, y, norm_axis=1, shift_axis=1):
    """cs231n's softmax_loss gradient; the slips normalise (and shift) over another axis."""
    p = np.exp(x - x.max(axis=shift_axis, keepdims=True))
    p /= p.sum(axis=norm_axis, keepdims=True)
    n = x.shape[0]
    p[np.arange(n), y] -= 1
    return p / n


def temporal_softmax_dx(x, y, mask, norm_axis=2):
    n, t, v = x.shape
    p = np.exp(x - x.max(axis=norm_axis, keepdims=True))
    p /= p.sum(axis=norm_axis, keepdims=True)
    p[np.arange(n)[:, None], np.arange(t)[None, :], y] -= 1
    return p * mask[:, :, None] / n


def test_the_right_backwards_agree_with_torch():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.cross_entropy(xt, torch.tensor(y)).backward()
    assert np.allclose(softmax_loss_dx(x, y), xt.grad.numpy(), rtol=1e-12, atol=1e-14)
    x, y, m = rng.normal(size=(3, 2, 4)), rng.integers(0, 4, size=(3, 2)), rng.random((3, 2)) > 0.4
    xt = torch.tensor(x, requires_grad=True)
    ce = torch.nn.functional.cross_entropy(xt.reshape(6, 4), torch.tensor(y.reshape(6)), reduction="none")
    ((ce * torch.tensor(m.reshape(6), dtype=torch.float64)).sum() / 3).backward()
    assert np.allclose(temporal_softmax_dx(x, y, m), xt.grad.numpy(), rtol=1e-12, atol=1e-14)


def _softmax_loss():
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    return sg.cross_entropy(x, y), x


@pytest.mark.parametrize("shift_axis", [0, 1])
def test_softmax_loss_normalised_over_axis_0_is_named(shift_axis):
    loss, x = _softmax_loss()
    assert sg.check_backward(loss, x, lambda dout, x, y: dout * softmax_loss_dx(x, y)).verdict == "equal"
    r = wrong(sg.check_backward(loss, x, lambda dout, x, y: dout * softmax_loss_dx(x, y, 0, shift_axis)),
              "softmax over the wrong axis")
    assert "over axis 0 where f normalises over axis 1" in r.hint
    assert "probs /= probs.sum(axis=1, keepdims=True)" in r.hint


def test_other_slips_of_the_softmax_loss_are_not_called_the_wrong_axis():
    loss, x = _softmax_loss()
    r = wrong(sg.check_backward(loss, x, lambda dout, x, y: dout * softmax_loss_dx(x, y) * x.shape[0]))
    assert r.hint.startswith("constant factor")
    # a gradient that is simply wrong gets no softmax-axis hint
    r = wrong(sg.check_backward(loss, x, lambda dout, x, y: dout * softmax_loss_dx(x, y) + 0.01 * x))
    assert r.hint is None or "wrong axis" not in r.hint


def test_a_text_claim_with_softmax_over_axis_0_is_named():
    N_ = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N_, 4)), sg.tensor("y", (N_,), integer=True)
    loss = sg.cross_entropy(x, y)
    assert sg.check(loss, x, "(softmax(x, axis=1) - one_hot(y, 4)) / N").verdict == "equal"
    wrong(sg.check(loss, x, "(softmax(x, axis=0) - one_hot(y, 4)) / N"), "softmax over the wrong axis")


def test_temporal_softmax_loss_normalised_over_the_time_axis_is_named():
    x = sg.tensor("x", (N, 3, 5))
    y, mask = sg.tensor("y", (N, 3), integer=True), sg.tensor("mask", (N, 3))
    loss = sg.sum(sg.cross_entropy(x, y, reduction="none") * mask) / N
    m = (np.random.default_rng(2).random((4, 3)) > 0.3).astype(float)
    assert sg.check_backward(loss, x, lambda dout, x, y, mask: dout * temporal_softmax_dx(x, y, mask),
                             at={"mask": m}).verdict == "equal"
    r = wrong(sg.check_backward(loss, x, lambda dout, x, y, mask: dout * temporal_softmax_dx(x, y, mask, 1),
                                at={"mask": m}), "softmax over the wrong axis")
    assert "over axis 1 where f normalises over axis 2" in r.hint


def test_embedding_backward_with_fancy_index_plus_equals_is_named():
    W, idx = sg.tensor("W", (3, 2)), sg.tensor("idx", (N, 5), integer=True)

    def backward(dout, W, idx):
        dW = np.zeros_like(W)
        dW[idx] += dout                   # the slip: np.add.at(dW, idx, dout)
        return dW
    r = wrong(sg.check_backward(sg.embedding(W, idx), W, backward), "assignment instead of accumulation")
    assert "dW[idx] += dout" in r.hint and "np.add.at(dW, idx, dout)" in r.hint


def test_a_softmax_classifiers_weight_gradient_with_axis_0_is_named_with_scores():
    X, W, y = sg.tensor("X", (N, 3)), sg.tensor("W", (3, 4)), sg.tensor("y", (N,), integer=True)
    loss = sg.cross_entropy(X @ W, y)
    assert sg.check(loss, W, "X.T @ (softmax(X @ W, axis=1) - one_hot(y, 4)) / N").verdict == "equal"
    r = wrong(sg.check(loss, W, "X.T @ (softmax(X @ W, axis=0) - one_hot(y, 4)) / N"), "softmax over the wrong axis")
    assert "np.exp(scores - scores.max(axis=1, keepdims=True))" in r.hint


@pytest.mark.parametrize("shift_axis", [None, 1], ids=["max-of-all", "row-max"])
def test_a_softmax_normalised_with_no_axis_is_named(shift_axis):
    """probs /= probs.sum() — no axis= — sums every example's probabilities together."""
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    r = wrong(sg.check_backward(sg.cross_entropy(x, y), x,
                                lambda dout, x, y: softmax_loss_dx(x, y, norm_axis=None, shift_axis=shift_axis)),
              "softmax over the wrong axis: the claim is the gradient with the softmax normalised over every "
              "entry at once (a sum with no axis=, probs.sum()) where f normalises over axis 1")
    assert "probs /= probs.sum(axis=1, keepdims=True)" in r.hint
