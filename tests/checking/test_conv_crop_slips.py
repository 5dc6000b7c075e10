"""cs231n's conv_backward_naive (pad = 2) with the crop of dx_pad slipped in the ways that had no
hint or a misleading one: cropped by a literal 1 (it was called "padding not cropped … returned
whole"), cropped right along H but not W (no hint), and dx with H and W swapped (called "a reshape
where a transpose is needed")."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from verdicts import N, wrong

PAD = 2


def conv_backward_naive(dout, x, w, b, crop=None):
    """The loops of cs231n; ``crop(dx_pad, H, W)`` returns dx (the right one: pad:pad + H, pad:pad + W)."""
    _, _, H, W = x.shape
    F, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (PAD, PAD), (PAD, PAD)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for n in range(dout.shape[0]):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    dw[f] += x_pad[n, :, i:i + HH, j:j + WW] * dout[n, f, i, j]
                    dx_pad[n, :, i:i + HH, j:j + WW] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, PAD:PAD + H, PAD:PAD + W] if crop is None else crop(dx_pad, H, W)
    return dx, dw, dout.sum(axis=(0, 2, 3))


def layer():
    x, w, b = sg.tensor("x", (N, 2, 5, 5)), sg.tensor("w", (3, 2, 3, 3)), sg.tensor("b", (3,))
    return sg.conv2d(x, w, b, padding=PAD), [x, w, b]


def check(crop=None):
    out, wrt = layer()
    return sg.check_backward(out, wrt, lambda dout, x, w, b: conv_backward_naive(dout, x, w, b, crop))


def test_the_right_loop_is_torchs_and_equal():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    dout = rng.normal(size=(2, 3, 7, 7))
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    torch.nn.functional.conv2d(*ts, padding=PAD).backward(torch.tensor(dout))
    for got, t in zip(conv_backward_naive(dout, x, w, b), ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert check().verdict == "equal"


def test_dx_pad_cropped_by_a_literal_1_where_the_layer_pads_2_is_not_called_uncropped():
    r = wrong(check(lambda d, H, W: d[:, :, 1:-1, 1:-1]), "padding cropped by too little")
    assert "cropped by 1 on each side where the forward pads 2" in r.hint and "returned whole" not in r.hint


def test_dx_pad_uncropped_is_still_named_so():
    wrong(check(lambda d, H, W: d), "padding not cropped")


@pytest.mark.parametrize("crop, said", [
    (lambda d, H, W: d[:, :, PAD:PAD + H, :W], "offset 0 instead of 2 along axis 3 (W) only, dx_pad[:, :, pad:pad + H, :W]"),
    (lambda d, H, W: d[:, :, 1:1 + H, PAD:PAD + W], "offset 1 instead of 2 along axis 2 (H) only, dx_pad[:, :, 1:1 + H, pad:pad + W]"),
])
def test_one_axis_cropped_at_another_offset_is_named(crop, said):
    r = wrong(check(crop), "padding cropped wrongly")
    assert said in r.hint, r.hint


def test_dx_with_height_and_width_swapped_is_named_as_the_axes():
    r = wrong(check(lambda d, H, W: d[:, :, PAD:PAD + H, PAD:PAD + W].transpose(0, 1, 3, 2)), "axes in another order")
    assert "axes 2 and 3 swapped, the gradient.transpose(0, 1, 3, 2)" in r.hint
