"""A conv layer's db as dout.mean over the bias's axes, and dw with its first two axes swapped (its
shape a permutation of w's): the factor is named as dout's entries over the axes the gradient sums
(not other axes of the same count), and the permutation is named."""
from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg

from verdicts import N, wrong


def _conv(pad):
    x, w, b = sg.tensor("x", (N, 2, 4, 4)), sg.tensor("w", (3, 2, 3, 3)), sg.tensor("b", (3,))
    return sg.conv2d(x, w, b, stride=1, padding=pad), [x, w, b]


def conv_backward(dout, x, w, b, pad, slip=None):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dxp[:, :, i:i + 3, j:j + 3] += np.einsum("nf,fcij->ncij", dout[:, :, i, j], w)
            dw += np.einsum("nf,ncij->fcij", dout[:, :, i, j], xp[:, :, i:i + 3, j:j + 3])
    dx = dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    db = dout.mean(axis=(0, 2, 3)) if slip == "db mean" else dout.sum(axis=(0, 2, 3))
    return dx, (dw.transpose(1, 0, 2, 3) if slip == "dw axes" else dw), db


@pytest.mark.parametrize("pad, m, sizes", [(0, 20, "5·2·2"), (1, 80, "5·4·4")])
def test_a_conv_bias_mean_names_douts_entries_over_the_bias_axes(pad, m, sizes):
    """N = 5 (4 is a size of x): dout (5, 3, 2, 2) with pad 0, (5, 3, 4, 4) with pad 1."""
    out, wrt = _conv(pad)
    assert sg.check_backward(out, wrt, lambda *a, **k: conv_backward(*a, **k, pad=pad)).verdict == "equal"
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: conv_backward(*a, **k, pad=pad, slip="db mean")),
              f"constant factor: the claim for b is 1/{m} times its gradient — 1/{m} with {m} = {sizes}, the "
              f"entries of dout")
    assert "over axes (0, 2, 3): a mean where there is a sum (dout.sum(axis=(0, 2, 3)), not .mean)" in r.hint


def test_a_conv_weight_with_its_axes_swapped_is_named():
    out, wrt = _conv(1)
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: conv_backward(*a, **k, pad=1, slip="dw axes")),
              "axes in another order: the claim has shape (2, 3, 3, 3), but ∂f/∂w must have w's shape (3, 2, 3, 3)")
    assert "claim.transpose(1, 0, 2, 3) is right" in r.hint
