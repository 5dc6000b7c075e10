"""11-785's Downsample1d/2d and Upsample1d (HW2P1) as layers of their own, each backward checked with
`sg.check_backward`: the right one is torch's and "equal"; its usual slips (the zeros' width computed
from dLdZ's, the last column dropped; dLdZ written at offset 1, or repeated; Upsample's step off by
one) used to read "not equal" with no hint, or only a shape hint."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from verdicts import N, wrong


def downsample1d_backward(dLdZ, A, slip=None, k=2):
    width = {"k(Wout-1)": k * (dLdZ.shape[2] - 1), "k*Wout": k * dLdZ.shape[2]}.get(slip, A.shape[2])
    dLdA = np.zeros(A.shape[:2] + (width,))
    if slip == "repeat":
        return np.repeat(dLdZ, k, axis=2)[:, :, :A.shape[2]]
    at = slice(1, None, k) if slip == "offset 1" else slice(None, None, k)
    room = dLdA[:, :, at].shape[2]
    dLdA[:, :, at] = dLdZ[:, :, :room]
    return dLdA


def upsample1d_backward(dLdZ, B, slip=None, k=2):
    if slip == "k + 1":
        return dLdZ[:, :, ::k + 1]
    if slip == "k - 1":
        return dLdZ[:, :, :B.shape[2]]           # ::1, cut to B's width
    return dLdZ[:, :, 1::k] if slip == "offset 1" else dLdZ[:, :, ::k]


def _upsample1d(A, k=2):
    """11-785's Upsample1d forward: k − 1 zeros between the entries, k·(W − 1) + 1 wide."""
    n, c, w = A.shape
    return sg.stack([A] + [0 * A] * (k - 1), axis=3).reshape(n, c, k * w)[:, :, :k * (w - 1) + 1]


def test_the_right_downsample_and_upsample_backwards_are_torchs_and_equal():
    rng = np.random.default_rng(21)
    a7, a4 = rng.normal(size=(5, 2, 7)), rng.normal(size=(5, 2, 4))
    t7 = torch.tensor(a7, requires_grad=True)
    d = rng.normal(size=(5, 2, 4))
    t7[:, :, ::2].backward(torch.tensor(d))
    np.testing.assert_allclose(downsample1d_backward(d, a7), t7.grad.numpy(), rtol=1e-12)
    t4 = torch.tensor(a4, requires_grad=True)
    up = torch.zeros(5, 2, 7, dtype=torch.float64)
    up[:, :, ::2] = t4
    d = rng.normal(size=(5, 2, 7))
    up.backward(torch.tensor(d))
    np.testing.assert_allclose(upsample1d_backward(d, a4), t4.grad.numpy(), rtol=1e-12)
    A, B = sg.tensor("A", (N, 2, 7)), sg.tensor("B", (N, 2, 4))
    assert sg.check_backward(A[:, :, ::2], A, downsample1d_backward).verdict == "equal"
    assert sg.check_backward(_upsample1d(B), B, upsample1d_backward).verdict == "equal"


@pytest.mark.parametrize("slip, named, said", [
    ("k(Wout-1)", "downsample backward with the wrong width: the claim has shape (5, 2, 6)",
     "the last entry the forward reads (A[:, :, ::2] reaches index 6) is dropped"),
    ("k*Wout", "downsample backward with the wrong width: the claim has shape (5, 2, 8)", "extra entries"),
    ("offset 1", "downsample backward writes the wrong entries: the claim is dA[:, :, 1::2] = dLdZ", "A[:, :, ::2]"),
    ("repeat", "downsample backward repeats dLdZ", "np.repeat")])
def test_a_downsample1d_backward_slip_is_named(slip, named, said):
    A = sg.tensor("A", (N, 2, 7))
    r = wrong(sg.check_backward(A[:, :, ::2], A, lambda d, A: downsample1d_backward(d, A, slip)), named)
    assert said in r.hint and "dA[:, :, ::2] = dLdZ (Downsample1d's backward)" in r.hint


@pytest.mark.parametrize("slip, named", [
    ("k + 1", "upsample backward with another step: the claim has shape (5, 2, 3), but ∂f/∂B must have B's "
              "shape (5, 2, 4); the claim is dLdZ[:, :, ::3] where the forward put 1 zero between the entries, "
              "a factor 2 — the dilation off by one"),
    ("k - 1", "upsample backward with another step: the claim is dLdZ[:, :, ::1] (cut to the input size)"),
    ("offset 1", "upsample backward reads the wrong entries: the claim has shape (5, 2, 3)")])
def test_an_upsample1d_backward_slip_is_named(slip, named):
    B = sg.tensor("B", (N, 2, 4))
    r = wrong(sg.check_backward(_upsample1d(B), B, lambda d, B: upsample1d_backward(d, B, slip)), named)
    assert "dB = dLdZ[:, :, ::2]" in r.hint


def test_a_downsample2d_backward_at_offset_1_is_named_along_both_axes():
    A = sg.tensor("A", (N, 2, 5, 5))

    def backward(dLdZ, A, off=0):
        dLdA = np.zeros_like(A)
        dLdA[:, :, off::2, off::2] = dLdZ[:, :, :2 if off else 3, :2 if off else 3]
        return dLdA
    assert sg.check_backward(A[:, :, ::2, ::2], A, backward).verdict == "equal"
    wrong(sg.check_backward(A[:, :, ::2, ::2], A, lambda d, A: backward(d, A, 1)),
          "downsample backward writes the wrong entries: the claim is dA[:, :, 1::2, 1::2] = dLdZ")


def test_a_gradient_that_is_no_resampling_of_dout_gets_no_resample_hint():
    """A's gradient through 2·A[:, :, ::2] is 2·dout at ::2: not a downsampling's, so no width is named
    for a claim of the wrong width (the generic shape hint stands)."""
    A = sg.tensor("A", (N, 2, 7))
    r = wrong(sg.check_backward(2 * A[:, :, ::2], A, lambda d, A: downsample1d_backward(d, A, "k(Wout-1)")))
    assert not r.hint.startswith("downsample")


def test_an_upsample2d_backward_with_another_step_is_named_along_both_axes():
    B = sg.tensor("B", (N, 2, 3, 3))
    up = sg.stack([B, 0 * B], axis=4).reshape(N, 2, 3, 6)[:, :, :, :5]     # Upsample2d: along W, then H
    up = sg.stack([up, 0 * up], axis=3).reshape(N, 2, 6, 5)[:, :, :5, :]
    assert sg.check_backward(up, B, lambda d, B: d[:, :, ::2, ::2]).verdict == "equal"
    r = wrong(sg.check_backward(up, B, lambda d, B: d[:, :, ::3, ::3]), "upsample backward with another step")
    assert ("the claim is dLdZ[:, :, ::3, ::3] where the forward put 1 zero between the entries along each "
            "spatial axis, a factor 2 — the dilation off by one: dB = dLdZ[:, :, ::2, ::2]") in r.hint
