"""cs231n's vectorised svm_loss backward that subtracts 1 at each example's label, where the correct
class takes minus the number of positive margins, reads "correct class counted once". The right
backward is first checked against torch.autograd (multi_margin_loss times the classes) in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from verdicts import N, wrong

C = 4


def svm_dx(x, y, slip=None):
    n = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1.0)
    margins[np.arange(n), y] = 0
    dx = (margins > 0).astype(float)
    dx[np.arange(n), y] -= 1 if slip == "minus one" else (margins > 0).sum(axis=1)
    return dx / n


def _svm():
    x, y = sg.tensor("x", (N, C)), sg.tensor("y", (N,), integer=True)
    correct = sg.take_along_axis(x, y[:, None], axis=1)
    return sg.sum(sp.Max(x - correct + 1, 0) * (1 - sg.one_hot(y, C))) / N, x


def test_the_right_backward_agrees_with_torch():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(6, C)), rng.integers(0, C, size=6)
    xt = torch.tensor(x, requires_grad=True)
    (C * torch.nn.functional.multi_margin_loss(xt, torch.tensor(y))).backward()
    assert np.allclose(svm_dx(x, y), xt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_subtracting_1_at_the_label_is_named():
    loss, x = _svm()
    assert sg.check_backward(loss, x, lambda dout, x, y: dout * svm_dx(x, y)).verdict == "equal"
    r = wrong(sg.check_backward(loss, x, lambda dout, x, y: dout * svm_dx(x, y, "minus one")),
              "correct class counted once")
    assert "(margins > 0).sum(axis=1)" in r.hint


def test_the_same_with_multi_margin_declared():
    x, y = sg.tensor("x", (N, C)), sg.tensor("y", (N,), integer=True)
    wrong(sg.check_backward(C * sg.multi_margin(x, y), x, lambda dout, x, y: dout * svm_dx(x, y, "minus one")),
          "correct class counted once")


def test_another_wrong_label_entry_is_not_called_counted_once():
    loss, x = _svm()

    def backward(dout, x, y):
        dx = svm_dx(x, y)
        dx[np.arange(x.shape[0]), y] *= 0.5
        return dout * dx
    r = wrong(sg.check_backward(loss, x, backward))
    assert r.hint is None or "counted once" not in r.hint


def test_the_correct_class_left_out_is_told_in_the_courses_terms_without_sympy_text():
    loss, x = _svm()

    def backward(dout, x, y):                  # the correct class's column never touched
        n = x.shape[0]
        margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1.0)
        margins[np.arange(n), y] = 0
        return dout * (margins > 0) / n
    r = wrong(sg.check_backward(loss, x, backward), "fan-out")
    assert "dx[np.arange(N), y] -= (margins > 0).sum(axis=1)" in r.hint
    assert "Heaviside" not in r.hint and "that term is" not in r.hint and len(r.hint) < 450, r.hint


def svm_dx_margins(x, y, slip):
    """The margins where (margins > 0) belongs, in the three forms a vectorised svm_loss writes."""
    n = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1.0)
    margins[np.arange(n), y] = 0
    if slip == "dx = margins / N":
        return margins / n
    binary = margins.copy()                     # binary[margins > 0] = 1 left out
    binary[np.arange(n), y] -= margins.sum(axis=1) if slip == "row sum of margins" else (margins > 0).sum(axis=1)
    return binary / n


@pytest.mark.parametrize("slip, said", [
    ("dx = margins / N", "dx = margins / N, the margins themselves (and 0 at each label)"),
    ("row sum of margins", "dx = margins, dx[np.arange(N), y] = -margins.sum(axis=1)"),
    ("count kept", "dx = margins where (margins > 0) belongs, then dx[np.arange(N), y] -= (margins > 0).sum(axis=1)")])
def test_the_margins_where_their_indicator_belongs_are_named(slip, said):
    """The first read as a bare "not equal", the second as "relu′ written as relu(z)" (not the loss's
    words), the third bare."""
    loss, x = _svm()
    r = wrong(sg.check_backward(loss, x, lambda dout, x, y: dout * svm_dx_margins(x, y, slip)),
              "margins where their 0/1 indicator belongs: the claim is " + said)
    assert "(margins > 0).astype(float)" in r.hint and "relu" not in r.hint


# ---------------------------------------------------------------------------------------------------
# svm_loss_naive (assignment 1): dW by loops over the examples and classes, with L2 regularization. The
# correct class's column subtracted at every class — outside the `if margin > 0:` — had no hint.

REG = 0.05


def svm_loss_naive_dW(W, X, y, slip=None):
    dW = np.zeros_like(W)
    n = X.shape[0]
    for i in range(n):
        scores = X[i] @ W
        for j in range(W.shape[1]):
            if j == y[i]:
                continue
            if slip == "outside the if":
                dW[:, y[i]] -= X[i]
            margin = scores[j] - scores[y[i]] + 1
            if margin > 0:
                share = margin if slip == "margin's value" else 1.0
                dW[:, j] += share * X[i]
                if slip != "outside the if":
                    dW[:, y[i]] -= share * X[i]
    return dW / n + 2 * REG * W


def _svm_naive():
    X, W, y = sg.tensor("X", (N, 5)), sg.tensor("W", (5, C)), sg.tensor("y", (N,), integer=True)
    S = X @ W
    correct = sg.take_along_axis(S, y[:, None], axis=1)
    return sg.sum(sp.Max(S - correct + 1, 0) * (1 - sg.one_hot(y, C))) / N + REG * (W * W).sum(), W


def test_the_naive_loop_is_torchs_and_its_correct_class_at_every_class_is_named():
    rng = np.random.default_rng(3)
    X, W, y = rng.normal(size=(6, 5)), rng.normal(size=(5, C)), rng.integers(0, C, 6)
    Wt = torch.tensor(W, requires_grad=True)
    S = torch.tensor(X) @ Wt
    margins = torch.clamp(S - S[torch.arange(6), torch.tensor(y)][:, None] + 1, min=0)
    ((margins.sum() - 6.0) / 6 + REG * (Wt * Wt).sum()).backward()    # each label's own margin is 1
    np.testing.assert_allclose(svm_loss_naive_dW(W, X, y), Wt.grad.numpy(), rtol=1e-10)
    f, W_ = _svm_naive()
    assert sg.check_backward(f, [W_], lambda dout, X, W, y: svm_loss_naive_dW(W, X, y)).verdict == "equal"
    r = wrong(sg.check_backward(f, [W_], lambda dout, X, W, y: svm_loss_naive_dW(W, X, y, "outside the if")),
              "correct class counted for every class")
    assert "dW[:, y[i]] -= X[i] outside the `if margin > 0:`" in r.hint


def test_the_vectorized_dx_with_the_label_subtracted_for_every_class_is_named():
    def dx_every(dout, x, y):
        n = x.shape[0]
        margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1.0)
        margins[np.arange(n), y] = 0
        dx = (margins > 0).astype(float)
        dx[np.arange(n), y] -= C - 1
        return dx / n
    f, x = _svm()
    wrong(sg.check_backward(f, [x], dx_every), "correct class counted for every class")


def test_the_naive_loop_adding_the_margins_value_is_named_for_the_svm_not_for_relu():
    f, W_ = _svm_naive()
    r = wrong(sg.check_backward(f, [W_], lambda dout, X, W, y: svm_loss_naive_dW(W, X, y, "margin's value")),
              "margins where their 0/1 indicator belongs")
    assert "dW[:, j] += margin * X[i]" in r.hint
