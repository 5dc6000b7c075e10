"""cs231n-style conv and max-pool backwards, written for this test as students write them, checked
with `sg.check_backward`: right, and with the usual slips injected, each caught and named."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from numpy.lib.stride_tricks import sliding_window_view

import symgrad as sg
from tests.checking.pool_loops import first_argmax, max_pool_backward_loops

N = sp.Symbol("N", integer=True, positive=True)


def conv_backward_naive(dout, x, w, b, stride, pad, stride_in_backward=True, crop=None):
    """cs231n's loops: every output position scatters w·δ into dx_pad and gathers x·δ into dw."""
    _, _, H, W = x.shape
    F, _, HH, WW = w.shape
    Nn, _, Ho, Wo = dout.shape
    s = stride if stride_in_backward else 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(Nn):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    dw[f] += x_pad[n, :, i * s:i * s + HH, j * s:j * s + WW] * dout[n, f, i, j]
                    dx_pad[n, :, i * s:i * s + HH, j * s:j * s + WW] += w[f] * dout[n, f, i, j]
    c = pad if crop is None else crop
    return dx_pad[:, :, c:c + H, c:c + W], dw, db


def conv_backward_full(dout, x, w, b, pad, flip=True):
    """The vectorized form for stride 1: dx_pad = the full convolution of δ with the flipped kernel,
    dw = the correlation of x_pad with δ."""
    F, C, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    d_full = np.pad(dout, ((0, 0), (0, 0), (HH - 1, HH - 1), (WW - 1, WW - 1)))
    kernel = w[:, :, ::-1, ::-1] if flip else w
    dx_pad = np.einsum("nfijkl,fckl->ncij", sliding_window_view(d_full, (HH, WW), axis=(2, 3)), kernel)
    dw = np.einsum("ncklij,nfij->fckl", sliding_window_view(x_pad, dout.shape[2:], axis=(2, 3)), dout)
    H, W = x.shape[2:]
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))


def max_pool_backward_naive(dout, x, k, s, spread=False):
    """cs231n's loops: δ of each window goes to the window's (first) arg-max; ``spread``: to every
    entry of it."""
    return max_pool_backward_loops(dout, x, k, s, to=np.ones_like if spread else first_argmax)


def _layer(stride, pad):
    x, w, b = sg.tensor("x", (N, 2, 6, 5)), sg.tensor("w", (3, 2, 3, 3)), sg.tensor("b", (3,))
    return sg.conv2d(x, w, b, stride=stride, padding=pad), [x, w, b]


def test_conv_backward_naive_is_right():
    out, wrt = _layer(2, 1)
    r = sg.check_backward(out, wrt, lambda dout, x, w, b: conv_backward_naive(dout, x, w, b, 2, 1),
                          dims={N: 2})
    assert r.verdict == "equal", r


def test_vectorized_full_convolution_backward_is_right():
    out, wrt = _layer(1, 1)
    r = sg.check_backward(out, wrt, lambda dout, x, w, b: conv_backward_full(dout, x, w, b, 1), dims={N: 2})
    assert r.verdict == "equal", r


def test_kernel_not_flipped_is_named():
    out, wrt = _layer(1, 1)
    r = sg.check_backward(out, wrt, lambda dout, x, w, b: conv_backward_full(dout, x, w, b, 1, flip=False),
                          dims={N: 2})
    assert r.verdict == "not equal"
    assert r.hint.startswith("kernel not flipped"), r.hint


def test_stride_ignored_in_the_backward_is_named():
    out, wrt = _layer(2, 1)
    r = sg.check_backward(out, wrt, lambda dout, x, w, b: conv_backward_naive(
        dout, x, w, b, 2, 1, stride_in_backward=False), dims={N: 2})
    assert r.verdict == "not equal"
    assert r.hint.startswith("stride ignored in the backward"), r.hint


@pytest.mark.parametrize("crop", [0, 2])
def test_padding_cropped_wrongly_is_named(crop):
    out, wrt = _layer(1, 1)
    r = sg.check_backward(out, wrt, lambda dout, x, w, b: conv_backward_naive(dout, x, w, b, 1, 1, crop=crop),
                          dims={N: 2})
    assert r.verdict == "not equal"
    assert r.hint.startswith("padding cropped wrongly"), r.hint
    assert f"offset {crop} instead of 1" in r.hint


def test_max_pool_backward_naive_right_and_spread_named():
    x = sg.tensor("x", (N, 2, 6, 6))
    out = sg.max_pool2d(x, 2)
    r = sg.check_backward(out, [x], lambda dout, x: max_pool_backward_naive(dout, x, 2, 2), dims={N: 2})
    assert r.verdict == "equal", r
    r = sg.check_backward(out, [x], lambda dout, x: max_pool_backward_naive(dout, x, 2, 2, spread=True),
                          dims={N: 2})
    assert r.verdict == "not equal"
    assert r.hint.startswith("max-pool gradient spread to the whole window"), r.hint


def test_a_slip_outside_the_table_gets_no_conv_name():
    """db not summed over the spatial axes is a missing sum, not a convolution slip."""
    out, wrt = _layer(1, 1)

    def backward(dout, x, w, b):
        dx, dw, _ = conv_backward_naive(dout, x, w, b, 1, 1)
        return dx, dw, dout.sum(axis=(0, 2))

    r = sg.check_backward(out, wrt, backward, dims={N: 2})
    assert r.verdict == "not equal"
    assert r.hint.startswith("missing sum"), r.hint


def test_conv_bias_summed_over_the_batch_only_names_the_axes_left():
    """db = dout.sum(axis=0) leaves two axes unsummed (the positions): named a missing sum over the
    claim's axes (1, 2), where it used to be only 'shape (…) cannot be the gradient's'."""
    out, wrt = _layer(1, 1)

    def backward(dout, x, w, b):
        dx, dw, _ = conv_backward_naive(dout, x, w, b, 1, 1)
        return dx, dw, dout.sum(axis=0)

    r = sg.check_backward(out, wrt, backward, dims={N: 2})
    assert r.verdict == "not equal" and r.counterexample.param == "b"
    assert r.hint.startswith("missing sum") and "axes (1, 2)" in r.hint, r.hint


def test_kernel_flipped_inside_the_loop_is_named_for_the_loop():
    """A student who flips w inside cs231n's window loop gets the same slip's name, with the loop's
    reading (there w is used as it is), not only the convolution call's."""
    out, wrt = _layer(1, 1)

    def backward(dout, x, w, b):
        return conv_backward_naive(dout, x, w[:, :, ::-1, ::-1], b, 1, 1)[0], \
            conv_backward_naive(dout, x, w, b, 1, 1)[1], dout.sum(axis=(0, 2, 3))

    r = sg.check_backward(out, wrt, backward, dims={N: 2})
    assert r.hint.startswith("kernel not flipped") and "loop over the windows" in r.hint, r.hint
