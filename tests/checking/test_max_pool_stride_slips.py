"""cs231n's max_pool_backward_naive (and 11-785's MaxPool1d) with the stride left out where δ is
written back — ``dx[n, c, i + a, j + b] += dout[n, c, i, j]`` — or left out of the window read too,
or the kernel size written where the stride belongs. These got no hint: the δ lands outside its
window, which pool_route_hint (another entry of the same window) does not look at."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from verdicts import N, wrong
from tests.checking.pool_loops import max_pool_backward_loops, right_as_torchs


def max_pool_backward_naive(dout, x, k, s, read=None, write=None):
    """The window of output (i, j) is read at (i·read, j·read) and its δ written at (i·write + a,
    j·write + b); the right loop has read = write = s."""
    return max_pool_backward_loops(dout, x, k, s, read=read, write=write)


@pytest.mark.parametrize("k, s, H", [(2, 2, 4), (3, 2, 5)])
def test_the_right_strided_max_pool_backward_is_torchs_and_equal(k, s, H):
    ho = (H - k) // s + 1
    right_as_torchs(lambda dout, x: max_pool_backward_naive(dout, x, k, s),
                    lambda t: torch.nn.functional.max_pool2d(t, k, stride=s), lambda x: sg.max_pool2d(x, k, stride=s),
                    (2, 2, H, H), (2, 2, ho, ho), seed=0)


@pytest.mark.parametrize("k, s, H", [(2, 2, 4), (3, 2, 5)])
@pytest.mark.parametrize("read, said", [(None, "the arg-max's place computed without the stride (2)"),
                                        (1, "the window and the arg-max's place computed without the stride (2)")])
def test_the_stride_left_out_where_the_gradient_is_written_is_named(k, s, H, read, said):
    xs = sg.tensor("x", (N, 2, H, H))
    r = wrong(sg.check_backward(sg.max_pool2d(xs, k, stride=s), [xs],
                                lambda dout, x: max_pool_backward_naive(dout, x, k, s, read=read, write=1)),
              "max-pool gradient written without the stride")
    assert said in r.hint and "dx[n, c, i*stride + a, j*stride + b] += dout[n, c, i, j]" in r.hint


def test_the_kernel_size_for_the_stride_is_named():
    xs = sg.tensor("x", (N, 1, 8, 8))          # k = 2 < s = 3: i·2 + a stays inside x (k > s would raise)
    r = wrong(sg.check_backward(sg.max_pool2d(xs, 2, stride=3), [xs],
                                lambda dout, x: max_pool_backward_naive(dout, x, 2, 3, write=2)),
              "max-pool gradient written at the kernel's step")
    assert "the kernel size where the stride (3) belongs" in r.hint


def test_a_max_pool1d_without_the_stride_is_named_with_one_index():
    x = sg.tensor("x", (N, 2, 9))

    def backward(dout, x):
        dx = np.zeros_like(x)
        for i in range(dout.shape[2]):
            a = x[:, :, 2 * i:2 * i + 3].argmax(axis=-1)
            for n in range(x.shape[0]):
                for c in range(x.shape[1]):
                    dx[n, c, i + a[n, c]] += dout[n, c, i]
        return dx
    r = wrong(sg.check_backward(sg.max_pool1d(x, 3, stride=2), [x], backward),
              "max-pool gradient written without the stride")
    assert "dx[n, c, i*stride + a] += dout[n, c, i]" in r.hint
