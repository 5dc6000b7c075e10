"""cs231n's max_pool_backward_naive with δ sent to another entry of each window than the arg-max —
np.argmin, or the flat arg-max unravelled as (k % WW, k // WW) — is named as such, not as a reshape
without its transpose (its numbers are the gradient's, in other places)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from verdicts import N, wrong


def max_pool_backward_naive(dout, x, slip=None):
    dx = np.zeros_like(x)
    n, c, ho, wo = dout.shape
    for i in range(n):
        for ch in range(c):
            for r in range(ho):
                for s in range(wo):
                    win = x[i, ch, 2 * r:2 * r + 2, 2 * s:2 * s + 2]
                    k = np.argmin(win) if slip == "argmin" else np.argmax(win)
                    a, b = (k % 2, k // 2) if slip == "unravel" else np.unravel_index(k, (2, 2))
                    dx[i, ch, 2 * r + a, 2 * s + b] += dout[i, ch, r, s]
    return dx


def test_the_right_pool_backward_is_torchs():
    rng = np.random.default_rng(10)
    x, dout = rng.normal(size=(3, 2, 4, 6)), rng.normal(size=(3, 2, 2, 3))
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(tx, 2).backward(torch.tensor(dout))
    np.testing.assert_allclose(max_pool_backward_naive(dout, x), tx.grad.numpy(), rtol=1e-12)
    x = sg.tensor("x", (N, 2, 4, 6))
    assert sg.check_backward(sg.max_pool2d(x, 2), [x], max_pool_backward_naive).verdict == "equal"


@pytest.mark.parametrize("slip, how", [
    ("argmin", "to the window's arg-min: np.argmin where np.argmax belongs"),
    ("unravel", "the flat index k of np.argmax(window) is (k // 2, k % 2), np.unravel_index(k, (2, 2))")])
def test_delta_routed_to_another_window_entry_is_named(slip, how):
    x = sg.tensor("x", (N, 2, 4, 6))
    r = wrong(sg.check_backward(sg.max_pool2d(x, 2), [x], lambda dout, x: max_pool_backward_naive(dout, x, slip)),
              "max-pool gradient routed to another entry of the window: each window's δ reaches one entry")
    assert how in r.hint and "reshape" not in r.hint
