"""cs231n's max_pool_backward_naive with δ sent to another entry of each window than the arg-max —
np.argmin, or the flat arg-max unravelled as (k % WW, k // WW) — is named as such, not as a reshape
without its transpose (its numbers are the gradient's, in other places)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from verdicts import N, wrong
from tests.checking.pool_loops import first_argmax, max_pool_backward_loops, right_as_torchs


def argmin(win):
    """All of δ to the window's arg-min."""
    share = np.zeros_like(win)
    share[np.unravel_index(np.argmin(win), win.shape)] = 1.0
    return share


def unravel_swapped(win):
    """All of δ to the flat arg-max k unravelled as (k % 2, k // 2)."""
    share, k = np.zeros_like(win), np.argmax(win)
    share[k % 2, k // 2] = 1.0
    return share


def max_pool_backward_naive(dout, x, slip=None):
    return max_pool_backward_loops(dout, x, to={"argmin": argmin, "unravel": unravel_swapped}.get(slip, first_argmax))


def test_the_right_pool_backward_is_torchs():
    right_as_torchs(max_pool_backward_naive, lambda t: torch.nn.functional.max_pool2d(t, 2), lambda x: sg.max_pool2d(x, 2),
                    (3, 2, 4, 6), (3, 2, 2, 3), seed=10)


@pytest.mark.parametrize("slip, how", [
    ("argmin", "to the window's arg-min: np.argmin where np.argmax belongs"),
    ("unravel", "the flat index k of np.argmax(window) is (k // 2, k % 2), np.unravel_index(k, (2, 2))")])
def test_delta_routed_to_another_window_entry_is_named(slip, how):
    x = sg.tensor("x", (N, 2, 4, 6))
    r = wrong(sg.check_backward(sg.max_pool2d(x, 2), [x], lambda dout, x: max_pool_backward_naive(dout, x, slip)),
              "max-pool gradient routed to another entry of the window: each window's δ reaches one entry")
    assert how in r.hint and "reshape" not in r.hint
