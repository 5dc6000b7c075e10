"""conv_backward_naive's dw built from the window reversed (dw[f] += window[:, ::-1, ::-1] * dout),
as a student who knows "a convolution flips its kernel" writes it: the claim is the gradient reversed
along the kernel's spatial axes, named so ("entries reversed"), where the hint said "a reshape where
a transpose is needed". The right backward is torch's first."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from verdicts import N, wrong


def conv_backward_naive(dout, x, w, b, flip=()):
    """stride 1, pad 1; ``flip``: the spatial axes (of the window, 1 and 2) reversed in dw's loop."""
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    F, _, HH, WW = w.shape
    for n in range(x.shape[0]):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = xp[n, :, i:i + HH, j:j + WW]
                    dxp[n, :, i:i + HH, j:j + WW] += w[f] * dout[n, f, i, j]
                    dw[f] += np.flip(window, flip) * dout[n, f, i, j]
    return dxp[:, :, 1:-1, 1:-1], dw, dout.sum(axis=(0, 2, 3))


def _layer():
    x, w, b = sg.tensor("x", (N, 2, 4, 4)), sg.tensor("w", (3, 2, 3, 3)), sg.tensor("b", (3,))
    return sg.conv2d(x, w, b, padding=1), [x, w, b]


def test_the_right_backward_is_torchs():
    rng = np.random.default_rng(4)
    x, w, b, d = (rng.normal(size=s) for s in ((2, 2, 4, 4), (3, 2, 3, 3), (3,), (2, 3, 4, 4)))
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    torch.nn.functional.conv2d(*ts, padding=1).backward(torch.tensor(d))
    for ours, t in zip(conv_backward_naive(d, x, w, b), ts):
        np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert sg.check_backward(*_layer(), conv_backward_naive).verdict == "equal"


@pytest.mark.parametrize("flip, axes, index", [((1, 2), "axes (2, 3)", "w[:, :, ::-1, ::-1]"),
                                               ((2,), "axis 3", "w[:, :, :, ::-1]")])
def test_dw_from_the_window_reversed_is_named(flip, axes, index):
    r = wrong(sg.check_backward(*_layer(), lambda *a, **v: conv_backward_naive(*a, **v, flip=flip)),
              f"entries reversed: the claim is the gradient reversed along {axes}, ∂f/∂{index}")
    assert r.counterexample.param == "w" and "cross-correlation" in r.hint
