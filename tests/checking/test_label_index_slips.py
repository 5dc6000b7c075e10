"""softmax_loss's `dx[:, y] -= 1` and svm_loss's `dx[:, y] -= (margins > 0).sum(axis=1)[:, None]`, where
`dx[np.arange(N), y]` belongs, are named "labels indexed with [:, y]" (they read as a bare "not
equal"). The right backwards are torch's first."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from verdicts import N, wrong

C = 5


def softmax_loss_dx(dout, x, y, slip=False):
    n = x.shape[0]
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    if slip:
        p[:, y] -= 1
    else:
        p[np.arange(n), y] -= 1
    return dout * p / n


def svm_loss_dx(dout, x, y, slip=False):
    n = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1.0)
    margins[np.arange(n), y] = 0
    dx = (margins > 0).astype(float)
    count = (margins > 0).sum(axis=1)
    if slip:
        dx[:, y] -= count[:, None]
    else:
        dx[np.arange(n), y] -= count
    return dout * dx / n


def _losses():
    x, y = sg.tensor("x", (N, C)), sg.tensor("y", (N,), integer=True)
    correct = sg.take_along_axis(x, y[:, None], axis=1)
    svm = sg.sum(sp.Max(x - correct + 1, 0) * (1 - sg.one_hot(y, C))) / N
    return {"softmax": (sg.cross_entropy(x, y), softmax_loss_dx), "svm": (svm, svm_loss_dx)}, x


def test_the_right_backwards_are_torchs():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(6, C)), rng.integers(0, C, size=6)
    for name, torch_loss in (("softmax", lambda t: torch.nn.functional.cross_entropy(t, torch.tensor(y))),
                             ("svm", lambda t: C * torch.nn.functional.multi_margin_loss(t, torch.tensor(y)))):
        xt = torch.tensor(x, requires_grad=True)
        torch_loss(xt).backward()
        ours = (softmax_loss_dx if name == "softmax" else svm_loss_dx)(1.0, x, y)
        np.testing.assert_allclose(ours, xt.grad.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("loss", ["softmax", "svm"])
def test_labels_indexed_with_a_colon_are_named(loss):
    losses, x = _losses()
    f, backward = losses[loss]
    assert sg.check_backward(f, x, backward).verdict == "equal"
    r = wrong(sg.check_backward(f, x, lambda dout, x, y: backward(dout, x, y, slip=True)),
              "labels indexed with [:, y]")
    assert "dx[np.arange(N), y]" in r.hint


def test_another_slip_at_the_labels_is_not_called_a_colon_index():
    losses, x = _losses()
    f, backward = losses["softmax"]
    r = wrong(sg.check_backward(f, x, lambda dout, x, y: backward(dout, x, y) + 2 * dout * sg_one_hot(y) / len(y)))
    assert "[:, y]" not in (r.hint or "")


def sg_one_hot(y):
    return np.eye(C)[y]
