"""The zero-inserting upsampling's backward slips (upsample_hints.py) in 2-D: sg.conv_transpose2d
with stride 2 is Upsample2d (a zero between the entries along each spatial axis) then a stride-1
convolution. The backwards here take the upsampled input's gradient G from torch.autograd and read
it — right (G[:, :, ::2, ::2]), at another offset, or summing each 2 × 2 block (nearest
upsampling's backward)."""
from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg

from verdicts import N, wrong

torch = pytest.importorskip("torch")
F = torch.nn.functional


def conv_transpose2d_backward(dout, A, W, slip=None):
    n, c, h, w = A.shape
    U = np.zeros((n, c, 2 * h - 1, 2 * w - 1))
    U[:, :, ::2, ::2] = A
    Ut = torch.tensor(U, requires_grad=True)
    K = W.shape[2]
    Z = F.conv2d(F.pad(Ut, (K - 1,) * 4), torch.tensor(W).flip(2, 3).transpose(0, 1))
    Z.backward(torch.tensor(dout))
    G = Ut.grad.numpy()
    if slip == "offset":
        return G[:, :, 1::2, ::2]
    if slip == "block sums":
        P = np.zeros((n, c, 2 * h, 2 * w))
        P[:, :, :2 * h - 1, :2 * w - 1] = G
        return P.reshape(n, c, h, 2, w, 2).sum(axis=(3, 5))
    return G[:, :, ::2, ::2]


def test_the_right_backward_is_torchs():
    rng = np.random.default_rng(1)
    A, W = rng.normal(size=(2, 2, 3, 3)), rng.normal(size=(2, 3, 2, 2))
    At = torch.tensor(A, requires_grad=True)
    Z = F.conv_transpose2d(At, torch.tensor(W), stride=2)
    dout = rng.normal(size=Z.shape)
    Z.backward(torch.tensor(dout))
    assert np.allclose(At.grad.numpy(), conv_transpose2d_backward(dout, A, W))


@pytest.mark.parametrize("slip, named", [
    ("offset", "upsample backward reads the wrong entries: the claim has shape (4, 2, 2, 3), but ∂f/∂A must "
               "have A's shape (4, 2, 3, 3); the claim is dLdZ[:, :, 1::2, ::2]"),
    ("block sums", "upsample backward sums neighbours: the claim gives each entry of dA the sum of its 2 × 2 "
                   "block of neighbouring entries of dLdZ"),
])
def test_2d_upsample_backward_slips_are_named(slip, named):
    A, W = sg.tensor("A", (N, 2, 3, 3)), sg.tensor("W", (2, 3, 2, 2))
    out = sg.conv_transpose2d(A, W, stride=2)
    assert sg.check_backward(out, [A], conv_transpose2d_backward).verdict == "equal"
    r = wrong(sg.check_backward(out, [A], lambda *a, **k: conv_transpose2d_backward(*a, **k, slip=slip)), named)
    assert "dLdA = dLdZ[:, :, ::2, ::2]" in r.hint and "Conv2d_stride1" in r.hint, r.hint


def upsample2d_conv_backward(dout, A, Wk, slip=None):
    """11-785's ConvTranspose2d as the course computes it: Upsample2d (zeros between the entries),
    then Conv2d_stride1 (here with padding K − 1); G, the upsampled input's gradient, from torch."""
    n, c, h, w = A.shape
    U = np.zeros((n, c, 2 * h - 1, 2 * w - 1))
    U[:, :, ::2, ::2] = A
    Ut = torch.tensor(U, requires_grad=True)
    F.conv2d(Ut, torch.tensor(Wk), padding=Wk.shape[2] - 1).backward(torch.tensor(dout))
    G = Ut.grad.numpy()
    if slip == "offset":
        return G[:, :, ::2, 1::2]
    if slip == "block sums":
        P = np.zeros((n, c, 2 * h, 2 * w))
        P[:, :, :2 * h - 1, :2 * w - 1] = G
        return P.reshape(n, c, h, 2, w, 2).sum(axis=(3, 5))
    return G[:, :, ::2, ::2]


def _stacked_zeros_2d():
    """Upsample2d declared as the 1-D course declaration, once along each spatial axis."""
    A, Wk = sg.tensor("A", (N, 2, 3, 3)), sg.tensor("Wk", (3, 2, 2, 2))
    rows = sg.stack([A, 0 * A], axis=3).reshape(N, 2, 6, 3)[:, :, :5]
    up = sg.stack([rows, 0 * rows], axis=4).reshape(N, 2, 5, 6)[:, :, :, :5]
    return sg.conv2d(up, Wk, padding=1), A


def test_the_stacked_zeros_declaration_is_the_upsampling():
    rng = np.random.default_rng(2)
    A, Wk = rng.normal(size=(2, 2, 3, 3)), rng.normal(size=(3, 2, 2, 2))
    At = torch.tensor(A, requires_grad=True)
    # the same layer as torch's transposed convolution: the kernel flipped, its channel axes swapped
    Z = F.conv_transpose2d(At, torch.tensor(Wk).flip(2, 3).transpose(0, 1), stride=2)
    dout = rng.normal(size=Z.shape)
    Z.backward(torch.tensor(dout))
    assert np.allclose(At.grad.numpy(), upsample2d_conv_backward(dout, A, Wk))
    out, A_ = _stacked_zeros_2d()
    assert sg.check_backward(out, [A_], upsample2d_conv_backward).verdict == "equal"


@pytest.mark.parametrize("slip, named", [
    ("offset", "upsample backward reads the wrong entries: the claim has shape (4, 2, 3, 2), but ∂f/∂A must "
               "have A's shape (4, 2, 3, 3); the claim is dLdZ[:, :, ::2, 1::2]"),
    ("block sums", "upsample backward sums neighbours: the claim gives each entry of dA the sum of its 2 × 2 "
                   "block of neighbouring entries of dLdZ"),
])
def test_the_stacked_zeros_declaration_in_2d_gets_the_hints(slip, named):
    out, A = _stacked_zeros_2d()
    r = wrong(sg.check_backward(out, [A], lambda *a, **k: upsample2d_conv_backward(*a, **k, slip=slip)), named)
    assert "dLdA = dLdZ[:, :, ::2, ::2]" in r.hint, r.hint
