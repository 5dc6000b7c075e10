"""11-785's Conv1d_stride1 and MeanPool2d backwards, written as the homework writes them, with the
slips that had a bare shape message or no hint: dLdA as the correlation of dLdZ padded by less than
K − 1 (the claim is the gradient's centre), and the mean pool's δ/k² spread over windows taken
without the stride."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from verdicts import N, wrong
from tests.checking.pool_loops import right_as_torchs


def conv1d_backward(dLdZ, A, W, b, pad=None):
    """dLdW by correlating A with dLdZ, dLdA by correlating dLdZ padded by ``pad`` (K − 1: the full
    convolution) with the flipped W, dLdb summed over the batch and the positions."""
    K, L_out = W.shape[2], dLdZ.shape[2]
    dLdW = np.stack([np.einsum("nol,nil->oi", dLdZ, A[:, :, k:k + L_out]) for k in range(K)], axis=2)
    p = K - 1 if pad is None else pad
    padded = np.pad(dLdZ, ((0, 0), (0, 0), (p, p)))
    flipped = W[:, :, ::-1]
    L_in = padded.shape[2] - K + 1
    dLdA = np.stack([np.einsum("nok,oik->ni", padded[:, :, i:i + K], flipped) for i in range(L_in)], axis=2)
    return dLdA, dLdW, dLdZ.sum(axis=(0, 2))


def conv1d_layer():
    A, W, b = sg.tensor("A", (N, 2, 9)), sg.tensor("W", (3, 2, 3)), sg.tensor("b", (3,))
    return sg.conv1d(A, W, b), [A, W, b]


def test_the_right_conv1d_backward_is_torchs_and_equal():
    rng = np.random.default_rng(0)
    A, W, b = rng.normal(size=(2, 2, 9)), rng.normal(size=(3, 2, 3)), rng.normal(size=3)
    dLdZ = rng.normal(size=(2, 3, 7))
    ts = [torch.tensor(a, requires_grad=True) for a in (A, W, b)]
    torch.nn.functional.conv1d(*ts).backward(torch.tensor(dLdZ))
    for got, t in zip(conv1d_backward(dLdZ, A, W, b), ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    out, wrt = conv1d_layer()
    assert sg.check_backward(out, wrt, conv1d_backward).verdict == "equal"


@pytest.mark.parametrize("pad, short", [(0, "2 entries short"), (1, "1 entry short")])
def test_dLdZ_padded_by_less_than_K_minus_1_is_named(pad, short):
    out, wrt = conv1d_layer()
    r = wrong(sg.check_backward(out, wrt, lambda d, A, W, b: conv1d_backward(d, A, W, b, pad)),
              "full convolution's padding short")
    assert f"{short} on each side" in r.hint and f"δ padded by K − 1 = 2 on each side, and this one pads it by {pad}" in r.hint


def test_a_padded_conv2d_names_the_full_padding_with_the_forwards():
    x, w = sg.tensor("x", (N, 1, 5, 5)), sg.tensor("w", (2, 1, 3, 3))

    def backward(dout, x, w):                  # padding 1: the full convolution pads δ by 3 − 1 − 1 = 1
        windows = np.lib.stride_tricks.sliding_window_view(dout, (3, 3), axis=(2, 3))   # δ not padded at all
        return (np.einsum("nfijkl,fckl->ncij", windows, w[:, :, ::-1, ::-1]),)
    r = wrong(sg.check_backward(sg.conv2d(x, w, padding=1), [x], backward), "full convolution's padding short")
    assert "d·(K − 1) − p (dilation d, the forward's padding p) = 1 on each side, and this one pads it by 0" in r.hint


def mean_pool_backward(dLdZ, A, k=2, s=2, stride_in_backward=True):
    """11-785's MeanPool2d (stride s): each output's δ/k² spread over its window."""
    step = s if stride_in_backward else 1
    dLdA = np.zeros_like(A)
    for i in range(dLdZ.shape[2]):
        for j in range(dLdZ.shape[3]):
            dLdA[:, :, i * step:i * step + k, j * step:j * step + k] += dLdZ[:, :, i:i + 1, j:j + 1] / k ** 2
    return dLdA


def test_the_right_mean_pool_backward_is_torchs_and_the_stride_left_out_is_named():
    right_as_torchs(mean_pool_backward, lambda t: torch.nn.functional.avg_pool2d(t, 2), lambda x: sg.avg_pool2d(x, 2),
                    (2, 2, 4, 4), (2, 2, 2, 2), seed=1, name="A")
    x = sg.tensor("A", (N, 2, 4, 4))
    r = wrong(sg.check_backward(sg.avg_pool2d(x, 2), [x],
                                lambda d, A: mean_pool_backward(d, A, stride_in_backward=False)),
              "average-pool gradient written without the stride")
    assert "dx[n, c, i*stride:i*stride + kh, j*stride:j*stride + kw] += dout[n, c, i, j] / 4" in r.hint


def pool_stride1_backward(dLdZ, A, k, mean):
    """11-785's MaxPool2d_stride1 / MeanPool2d_stride1 backward, for the windows of A at every offset
    that dLdZ has: its output is (dLdZ's size + k − 1) wide."""
    n_, c_, ho, wo = dLdZ.shape
    dA = np.zeros((n_, c_, ho + k - 1, wo + k - 1))
    for i in range(ho):
        for j in range(wo):
            if mean:
                dA[:, :, i:i + k, j:j + k] += dLdZ[:, :, i:i + 1, j:j + 1] / k ** 2
                continue
            flat = A[:, :, i:i + k, j:j + k].reshape(n_, c_, -1).argmax(axis=-1)
            for n in range(n_):
                for c in range(c_):
                    a, b = divmod(flat[n, c], k)
                    dA[n, c, i + a, j + b] += dLdZ[n, c, i, j]
    return dA


def strided_pool_backward(dLdZ, A, k=3, s=2, mean=False, upsample=True):
    """MaxPool2d / MeanPool2d (stride s) as 11-785 builds them: Downsample2d's backward (zeros between
    dLdZ's entries), then the stride-1 pool's backward."""
    if not upsample:
        return pool_stride1_backward(dLdZ, A, k, mean)
    up = np.zeros(dLdZ.shape[:2] + tuple((d - 1) * s + 1 for d in dLdZ.shape[2:]))
    up[:, :, ::s, ::s] = dLdZ
    return pool_stride1_backward(up, A, k, mean)


@pytest.mark.parametrize("mean", [False, True])
def test_a_strided_pool_backward_without_the_upsampling_is_named(mean):
    rng = np.random.default_rng(2)
    A, dLdZ = rng.normal(size=(2, 2, 5, 5)), rng.normal(size=(2, 2, 2, 2))
    At = torch.tensor(A, requires_grad=True)
    pool = torch.nn.functional.avg_pool2d if mean else torch.nn.functional.max_pool2d
    pool(At, 3, stride=2).backward(torch.tensor(dLdZ))
    np.testing.assert_allclose(strided_pool_backward(dLdZ, A, mean=mean), At.grad.numpy(), rtol=1e-12)
    x = sg.tensor("A", (N, 2, 5, 5))
    out = (sg.avg_pool2d if mean else sg.max_pool2d)(x, 3, stride=2)
    assert sg.check_backward(out, [x], lambda d, A: strided_pool_backward(d, A, mean=mean)).verdict == "equal"
    r = wrong(sg.check_backward(out, [x], lambda d, A: strided_pool_backward(d, A, mean=mean, upsample=False)),
              "stride missing in the backward")
    assert "the forward's stride 2 is missing" in r.hint
    assert f"{'MeanPool' if mean else 'MaxPool'}2d_stride1's backward" in r.hint
