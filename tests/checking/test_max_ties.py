"""Max pooling and max reductions checked at a point with tied maxima (`symgrad.checking.ties`).
The backwards are written here as cs231n students write them; the classic slip is the mask
(x == x.max(...)) that sends δ to every tied entry — cs231n's own reshape-based max_pool_backward
does it — and random points never tie, so it used to pass."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from numpy.lib.stride_tricks import sliding_window_view
from tests.checking.pool_loops import first_argmax, max_pool_backward_loops

N = sp.Symbol("N", integer=True, positive=True)


def max_pool_backward_reshape(dout, x):
    """2×2, stride 2, through a reshape: every entry equal to its window's max gets δ."""
    n, c, h, w = x.shape
    xr = x.reshape(n, c, h // 2, 2, w // 2, 2)
    mask = xr == xr.max(axis=(3, 5), keepdims=True)
    return (mask * dout[:, :, :, None, :, None]).reshape(x.shape)


def last_argmax(win):
    """All of δ to the window's last arg-max."""
    share, flat = np.zeros_like(win), win.ravel()[::-1]
    share[np.unravel_index(flat.size - 1 - np.argmax(flat), win.shape)] = 1.0
    return share


def split_evenly(win):
    """δ split evenly among the window's tied maxima."""
    m = win == win.max()
    return m / m.sum()


def max_pool_backward_2x2(dout, x, pick="first"):
    """cs231n's loops, 2×2 stride 2: δ of each window to one arg-max (the first, or the last), or
    split evenly among the tied entries."""
    to = {"first": first_argmax, "last": last_argmax, "even": split_evenly}[pick]
    return max_pool_backward_loops(dout, x, to=to)


def _pool():
    x = sg.tensor("x", (N, 2, 4, 4))
    return sg.max_pool2d(x, 2), x


def test_mask_of_every_tied_maximum_is_not_equal_and_named():
    out, x = _pool()
    r = sg.check_backward(out, [x], max_pool_backward_reshape)
    assert r.verdict == "not equal", r
    assert r.hint.startswith("max ties: the claim routes the gradient to every tied maximum"), r.hint
    assert "first arg-max" in r.hint and "k·δ" in r.hint
    assert "tied maxima" in r.method


def test_first_arg_max_is_equal_and_says_ties_were_tried():
    out, x = _pool()
    r = sg.check_backward(out, [x], max_pool_backward_2x2)
    assert r.verdict == "equal", r
    assert "compared also at a point with tied maxima" in r.method


def test_last_arg_max_and_even_split_are_other_subgradients():
    out, x = _pool()
    for pick, words in (("last", "the last arg-max"), ("even", "splits δ evenly")):
        r = sg.check_backward(out, [x], lambda dout, x: max_pool_backward_2x2(dout, x, pick))
        assert r and r.verdict == "equal except at points where f is not differentiable", (pick, r)
        assert words in r.kink and "first arg-max" in r.kink and "valid choices" in r.kink, r.kink


def _sandwich():
    x, w, b = sg.tensor("x", (N, 2, 6, 6)), sg.tensor("w", (3, 2, 3, 3)), sg.tensor("b", (3,))
    return sg.max_pool2d(sg.relu(sg.conv2d(x, w, b, padding=1)), 2), [x, w, b]


def sandwich_backward(pool_backward):
    """conv (3×3, pad 1) → relu → 2×2 max pool, backward through the given pool backward."""
    def backward(dout, x, w, b):
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        cols = sliding_window_view(xp, (3, 3), axis=(2, 3))                 # (N, C, H, W, 3, 3)
        z = np.einsum("nchwkl,fckl->nfhw", cols, w) + b[None, :, None, None]
        dz = pool_backward(dout, np.maximum(z, 0)) * (z > 0)
        dw = np.einsum("nchwkl,nfhw->fckl", cols, dz)
        dxp = np.zeros_like(xp)
        for i in range(3):
            for j in range(3):
                dxp[:, :, i:i + 6, j:j + 6] += np.einsum("nfhw,fc->nchw", dz, w[:, :, i, j])
        return dxp[:, :, 1:-1, 1:-1], dw, dz.sum(axis=(0, 2, 3))
    return backward


def test_conv_relu_pool_with_the_tied_mask_is_not_equal():
    """The slip inside a composed layer: conv (3×3, pad 1) → relu → 2×2 max pool."""
    out, wrt = _sandwich()
    r = sg.check_backward(out, wrt, sandwich_backward(max_pool_backward_reshape), dims={N: 2})
    assert r.verdict == "not equal", r
    assert r.hint.startswith("max ties"), r.hint


def test_conv_relu_pool_routings_at_ties():
    """Inside the sandwich: the first arg-max is equal; the last, an even split, or a tied entry
    chosen at random window by window are other subgradients; δ dropped at ties is wrong."""
    out, wrt = _sandwich()
    check = lambda pool: sg.check_backward(out, wrt, sandwich_backward(pool), dims={N: 2})   # noqa: E731
    assert check(max_pool_backward_2x2).verdict == "equal"
    for pool in (lambda d, a: max_pool_backward_2x2(d, a, "last"), lambda d, a: max_pool_backward_2x2(d, a, "even"),
                 max_pool_backward_any_tied):
        r = check(pool)
        assert r and r.verdict == "equal except at points where f is not differentiable", r

    def dropped(dout, a):
        n, c, h, w = a.shape
        ar = a.reshape(n, c, h // 2, 2, w // 2, 2)
        mask = ar == ar.max(axis=(3, 5), keepdims=True)
        mask = mask & (mask.sum(axis=(3, 5), keepdims=True) == 1)
        return (mask * dout[:, :, :, None, :, None]).reshape(a.shape)
    assert check(dropped).verdict == "not equal"


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_or_min_over_an_axis_with_the_tied_mask(op):
    """A max over the classes (a max-out unit): the same slip written for x.max(axis=1); x.min(axis=1)
    is −max(−x): the same slip, the same name, and np.argmin's first entry is right."""
    x = sg.tensor("x", (N, 5))
    out = getattr(x, op)(axis=1)
    r = sg.check_backward(out, [x], lambda dout, x: (x == getattr(x, op)(axis=1, keepdims=True)) * dout[:, None])
    assert r.verdict == "not equal" and r.hint.startswith("max ties"), r
    right = lambda dout, x: np.eye(5)[getattr(x, "arg" + op)(axis=1)] * dout[:, None]   # noqa: E731
    assert sg.check_backward(out, [x], right).verdict == "equal"


def max_pool_backward_any_tied(dout, x, seed=1):
    """cs231n's loops with δ sent to one of the window's tied maxima chosen at random: at a tie the
    choice is sometimes the first and sometimes the last — a subgradient all the same."""
    rng = np.random.default_rng(seed)

    def one_tied(win):
        share = np.zeros_like(win)
        share[np.unravel_index(rng.choice(np.flatnonzero(win.ravel() == win.max())), win.shape)] = 1.0
        return share
    return max_pool_backward_loops(dout, x, to=one_tied)


def test_another_choice_among_the_tied_entries_is_another_subgradient():
    out, x = _pool()
    r = sg.check_backward(out, [x], max_pool_backward_any_tied)
    assert r and "f is not differentiable" in r.verdict, r
    assert "other tied entries than the first" in r.kink, r.kink


def test_a_random_tied_entry_of_a_max_over_an_axis_is_another_subgradient():
    x = sg.tensor("x", (N, 5))

    def backward(dout, x):
        rng = np.random.default_rng(3)
        pick = [rng.choice(np.flatnonzero(row == row.max())) for row in x]
        return np.eye(5)[pick] * dout[:, None]

    r = sg.check_backward(sg.max(x, axis=1), [x], backward)
    assert r and "f is not differentiable" in r.verdict, r


def test_a_tie_routed_to_no_entry_is_not_equal():
    """δ dropped at ties (the mask (x == max) with its ties removed): not a subgradient."""
    out, x = _pool()

    def backward(dout, x):
        n, c, h, w = x.shape
        xr = x.reshape(n, c, h // 2, 2, w // 2, 2)
        mask = xr == xr.max(axis=(3, 5), keepdims=True)
        mask = mask & (mask.sum(axis=(3, 5), keepdims=True) == 1)
        return (mask * dout[:, :, :, None, :, None]).reshape(x.shape)

    r = sg.check_backward(out, [x], backward)
    assert r.verdict == "not equal" and "tied maxima" in r.method, r
