"""Convolution and max-pool backwards written with = where += belongs, as students write cs231n's
loops: with overlapping windows (stride < kernel) an input entry gets only the last window's share.
Each is "not equal", and the hint names the slip; the same loops with += are equal."""
from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg
from tests.checking.pool_loops import max_pool_backward_loops

N = sp.Symbol("N", integer=True, positive=True)


def conv_backward_loops(dout, x, w, b, stride, pad, assign_dx=False, assign_dw=False):
    _, _, H, W = x.shape
    F, _, HH, WW = w.shape
    n_, _, ho, wo = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for n in range(n_):
        for f in range(F):
            for i in range(ho):
                for j in range(wo):
                    win = (n, slice(None), slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW))
                    if assign_dx:
                        dx_pad[win] = w[f] * dout[n, f, i, j]
                    else:
                        dx_pad[win] += w[f] * dout[n, f, i, j]
                    if assign_dw:
                        dw[f] = x_pad[win] * dout[n, f, i, j]
                    else:
                        dw[f] += x_pad[win] * dout[n, f, i, j]
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))


def _conv(stride):
    x, w, b = sg.tensor("x", (N, 2, 5, 5)), sg.tensor("w", (3, 2, 3, 3)), sg.tensor("b", (3,))
    return sg.conv2d(x, w, b, stride=stride, padding=1), [x, w, b]


def test_conv_dx_assigned_with_overlapping_windows_is_named():
    out, wrt = _conv(1)
    r = sg.check_backward(out, wrt, lambda dout, x, w, b: conv_backward_loops(dout, x, w, b, 1, 1, assign_dx=True),
                          dims={N: 2})
    assert r.verdict == "not equal" and r.counterexample.param == "x", r
    assert r.hint.startswith("overlapping windows (stride 1 < kernel 3)"), r.hint
    assert "sum over every window that covers it" in r.hint and "(= instead of +=)" in r.hint
    assert sg.check_backward(out, wrt, lambda dout, x, w, b: conv_backward_loops(dout, x, w, b, 1, 1),
                             dims={N: 2}).verdict == "equal"


def test_conv_dw_assigned_is_named():
    out, wrt = _conv(2)
    r = sg.check_backward(out, wrt, lambda dout, x, w, b: conv_backward_loops(dout, x, w, b, 2, 1, assign_dw=True),
                          dims={N: 2})
    assert r.verdict == "not equal" and r.counterexample.param == "w", r
    assert r.hint.startswith("= instead of += in the weight gradient"), r.hint


def test_max_pool_assigned_with_overlapping_windows_is_named():
    x = sg.tensor("x", (N, 2, 7, 7))
    out = sg.max_pool2d(x, 3, stride=2)
    r = sg.check_backward(out, [x], lambda dout, x: max_pool_backward_loops(dout, x, 3, 2, assign=True), dims={N: 2})
    assert r.verdict == "not equal", r
    assert r.hint.startswith("overlapping windows (stride 2 < kernel 3)"), r.hint
    assert "keeps only the last one (= instead of +=)" in r.hint
    assert sg.check_backward(out, [x], lambda dout, x: max_pool_backward_loops(dout, x, 3, 2),
                             dims={N: 2}).verdict == "equal"


def test_conv_dx_assigned_once_per_window_summed_over_filters_is_named():
    """The vectorised loop body: one statement per window, summed over the filters, still = not +=."""
    out, wrt = _conv(1)

    def backward(dout, x, w, b):
        x_pad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        dx_pad = np.zeros_like(x_pad)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                dx_pad[:, :, i:i + 3, j:j + 3] = np.einsum("fckl,nf->nckl", w, dout[:, :, i, j])
        return dx_pad[:, :, 1:-1, 1:-1], conv_backward_loops(dout, x, w, b, 1, 1)[1], dout.sum(axis=(0, 2, 3))

    r = sg.check_backward(out, wrt, backward, dims={N: 2})
    assert r.verdict == "not equal" and r.hint.startswith("overlapping windows"), r.hint
    assert "of the filters" not in r.hint


def test_max_pool_window_written_whole_with_its_mask_is_named():
    x = sg.tensor("x", (N, 2, 5, 5))
    out = sg.max_pool2d(x, 2, stride=1)

    def backward(dout, x):
        dx = np.zeros_like(x)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                win = x[:, :, i:i + 2, j:j + 2]
                mask = win == win.max(axis=(2, 3), keepdims=True)
                dx[:, :, i:i + 2, j:j + 2] = mask * dout[:, :, i, j][:, :, None, None]
        return dx

    r = sg.check_backward(out, [x], backward, dims={N: 2})
    assert r.verdict == "not equal" and r.hint.startswith("overlapping windows (stride 1 < kernel 2)"), r.hint
    assert "writing the whole window with its mask" in r.hint


def test_pool_assigned_inside_a_conv_relu_pool_sandwich_is_named():
    """cs231n's conv_relu_pool_backward composed from the naive backwards, the pool's written with =
    (3×3 windows at stride 2 overlap): the slip is found through the relu and the convolution."""
    x, w, b = sg.tensor("x", (N, 2, 7, 7)), sg.tensor("w", (3, 2, 3, 3)), sg.tensor("b", (3,))
    out = sg.max_pool2d(sg.relu(sg.conv2d(x, w, b, padding=1)), 3, stride=2)

    def conv_forward(x, w, b):
        x_pad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        out = np.zeros((x.shape[0], w.shape[0], 7, 7))
        for i in range(7):
            for j in range(7):
                out[:, :, i, j] = np.tensordot(x_pad[:, :, i:i + 3, j:j + 3], w, axes=([1, 2, 3], [1, 2, 3])) + b
        return out

    def backward(dout, x, w, b):
        z = conv_forward(x, w, b)
        da = max_pool_backward_loops(dout, np.maximum(z, 0), 3, 2, assign=True)
        return conv_backward_loops(da * (z > 0), x, w, b, 1, 1)

    r = sg.check_backward(out, [x, w, b], backward, dims={N: 2})
    assert r.verdict == "not equal", r
    assert r.hint.startswith("overlapping windows (stride 2 < kernel 3)"), r.hint

    def right(dout, x, w, b):
        z = conv_forward(x, w, b)
        return conv_backward_loops(max_pool_backward_loops(dout, np.maximum(z, 0), 3, 2) * (z > 0), x, w, b, 1, 1)

    assert sg.check_backward(out, [x, w, b], right, dims={N: 2}).verdict == "equal"
