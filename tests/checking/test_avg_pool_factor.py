"""An average pool's backward divided by one side of the window (k) where its k·k entries belong is
named as that — it read "2, the size of axis 1 of x: a sum where there is a mean", which sent the
student to the wrong axis. The right backward is torch's."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from verdicts import N, wrong


def avg_pool_backward(dout, x, divide_by=None):
    """A 2 × 3 window, stride = window: each entry of a window gets dout / 6."""
    return np.repeat(np.repeat(dout, 2, axis=2), 3, axis=3) / (divide_by or 6)


def test_the_right_backward_is_torchs():
    rng = np.random.default_rng(0)
    x, d = rng.normal(size=(3, 2, 4, 6)), rng.normal(size=(3, 2, 2, 2))
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.avg_pool2d(xt, (2, 3)).backward(torch.tensor(d))
    np.testing.assert_allclose(avg_pool_backward(d, x), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("side", [2, 3])
def test_divided_by_one_side_of_the_window_is_named(side):
    x = sg.tensor("x", (N, 2, 4, 6))
    out = sg.avg_pool2d(x, (2, 3))
    assert sg.check_backward(out, x, avg_pool_backward).verdict == "equal"
    r = wrong(sg.check_backward(out, x, lambda dout, x: avg_pool_backward(dout, x, side)), "constant factor")
    assert (f"the backward divides by {side}, the window's size along one axis, where the average divides by "
            f"6 = 2·3") in r.hint
