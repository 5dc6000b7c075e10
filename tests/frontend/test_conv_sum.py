"""The convolution as the notes write it — a sum over shifted products, as ``sp.Sum`` over
``sp.Indexed`` or as tensor slices — lowers to the conv2d primitive: the same expression as
``sg.conv2d``, and gradients equal to torch.autograd's in float64 (1e-9), stride 1 and 2, with and
without zero padding; what is not a convolution is refused, naming the culprit and the pattern."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from symgrad.core.differentiate import differentiate

rng = np.random.default_rng(20261130)
n, f, i, j, c, k, l = sp.symbols("n f i j c k l", integer=True)
X, W = sp.IndexedBase("X"), sp.IndexedBase("W")
N = sp.Symbol("N", integer=True, positive=True)


def _grads_equal_torch(expr, syms, arrays, torch_fn):
    """∇ of Σ expr ⊙ D from symgrad equals torch.autograd's, D a fixed random cotangent."""
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = torch_fn(*ts)
    assert tuple(out.shape) == tuple(expr.shape)
    D = rng.standard_normal(tuple(out.shape))
    (out * torch.tensor(D)).sum().backward()
    dout = sg.tensor("dout", expr.shape)
    values = {**{s.name: a for s, a in zip(syms, arrays)}, "dout": D}
    got = differentiate(sg.sum(expr * dout), syms).values(values)["gradients"]
    for s, g, t in zip(syms, got, ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-9, atol=1e-9, err_msg=f"∂/∂{s.name}")
    return got


# ---------------------------------------------------------------------------------------------------
# sp.Sum over sp.Indexed


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 0), (1, 1), (2, 1), (2, 2)])
def test_indexed_sum_is_conv2d_and_its_gradient_is_torchs(stride, pad):
    x, w = sg.tensor("x", (2, 3, 7, 6)), sg.tensor("w", (4, 3, 3, 2))
    s = sp.Sum(X[n, c, stride * i + k - pad, stride * j + l - pad] * W[f, c, k, l],
               (c, 0, 2), (k, 0, 2), (l, 0, 1))
    got = sg.from_indexed(s, {X: x, W: w}, out_indices=(n, f, i, j))
    assert got == sg.conv2d(x, w, stride=stride, padding=pad)
    arrays = [rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))]
    _grads_equal_torch(got, [x, w], arrays, lambda a, b: F.conv2d(a, b, stride=stride, padding=pad))


def test_indexed_sum_with_dilation_and_nested_sums_in_1d():
    x, w = sg.tensor("x", (1, 2, 11)), sg.tensor("w", (3, 2, 3))
    s = sp.Sum(sp.Sum(X[n, c, 2 * i + 2 * k - 1] * W[f, c, k], (k, 0, 2)), (c, 0, 1))
    got = sg.from_indexed(s, {"X": x, "W": w}, (n, f, i))
    assert got == sg.conv1d(x, w, stride=2, padding=1, dilation=2)
    arrays = [rng.standard_normal((1, 2, 11)), rng.standard_normal((3, 2, 3))]
    _grads_equal_torch(got, [x, w], arrays, lambda a, b: F.conv1d(a, b, stride=2, padding=1, dilation=2))


def test_the_notes_convolution_flips_the_kernel():
    # (f ∗ g)(x, y) = Σᵢ Σⱼ f(x − i, y − j)·g(i, j) with zero padding: the full convolution
    x, w = sg.tensor("x", (2, 1, 5, 6)), sg.tensor("w", (2, 1, 3, 2))
    s = sp.Sum(X[n, c, i - k, j - l] * W[f, c, k, l], (c, 0, 0), (k, 0, 2), (l, 0, 1))
    got = sg.from_indexed(s, {X: x, W: w}, (n, f, i, j))
    assert got == sg.conv2d(x, sg.flip(w, (2, 3)), padding=(2, 1))
    assert got.shape == (2, 2, 7, 7)                       # H + KH − 1, W + KW − 1
    arrays = [rng.standard_normal((2, 1, 5, 6)), rng.standard_normal((2, 1, 3, 2))]
    _grads_equal_torch(got, [x, w], arrays,
                       lambda a, b: F.conv2d(a, b.flip(2, 3), padding=(2, 1)))


def test_the_notes_formula_on_one_image():
    # literally (f ∗ g)(x, y) = Σᵢ Σⱼ f(x − i, y − j)·g(i, j): out_indices (x, y), i and j summed
    xs, ys = sp.symbols("x y", integer=True)
    Fb, G = sp.IndexedBase("f"), sp.IndexedBase("g")
    img, g = sg.tensor("img", (6, 5)), sg.tensor("g", (3, 3))
    got = sg.from_indexed(sp.Sum(Fb[xs - i, ys - j] * G[i, j], (i, 0, 2), (j, 0, 2)),
                          {Fb: img, G: g}, (xs, ys))
    assert got.shape == (8, 7)
    arrays = [rng.standard_normal((6, 5)), rng.standard_normal((3, 3))]
    _grads_equal_torch(got, [img, g], arrays,
                       lambda a, b: F.conv2d(a[None, None], b.flip(0, 1)[None, None], padding=2)[0, 0])
    strided = sg.from_indexed(sp.Sum(Fb[2 * xs + i, 2 * ys + j] * G[i, j], (i, 0, 2), (j, 0, 2)),
                              {Fb: img, G: g}, (xs, ys))
    assert strided == sg.conv2d(img.reshape(1, 1, 6, 5), g.reshape(1, 1, 3, 3), stride=2).reshape(2, 2)
    _refused(lambda: sg.from_indexed(sp.Sum(Fb[xs - i, ys - j] * G[xs, j], (i, 0, 2), (j, 0, 2)),
                                     {Fb: img, G: g}, (xs, ys)), "exactly one factor (the kernel)")


def test_indexed_form_and_conv2d_give_the_same_readable_gradient():
    x, w = sg.tensor("x", (2, 3, 6, 6)), sg.tensor("w", (4, 3, 3, 3))
    s = sp.Sum(X[n, c, 2 * i + k, 2 * j + l] * W[f, c, k, l], (c, 0, 2), (k, 0, 2), (l, 0, 2))
    dout = sg.tensor("dout", (2, 4, 2, 2))
    a = sg.grad(sg.sum(sg.from_indexed(s, {X: x, W: w}, (n, f, i, j)) * dout), [x, w])
    b = sg.grad(sg.sum(sg.conv2d(x, w, stride=2) * dout), [x, w])
    assert a == b and "conv2d(" in str(a[0]) and "conv2d(" in str(a[1])


def _refused(fn, *words):
    with pytest.raises(sg.NotAConvolution) as e:
        fn()
    for word in words:
        assert word in str(e.value), (word, str(e.value))
    assert "Expected" in str(e.value)


def test_indexed_sums_that_are_not_convolutions_are_refused_by_name():
    x, w = sg.tensor("x", (2, 3, 7, 6)), sg.tensor("w", (4, 3, 3, 2))
    t = {X: x, W: w}
    lim = ((c, 0, 2), (k, 0, 2), (l, 0, 1))
    go = lambda body, limits=lim: sg.from_indexed(sp.Sum(body, *limits), t, (n, f, i, j))  # noqa: E731
    _refused(lambda: go(X[n, c, i + k, j + l] * W[f, c, k, l] * 2), "not a product of two sp.Indexed")
    _refused(lambda: go(X[n, c, i + k, j + l] * W[f, k, c, l]), "channel index")
    _refused(lambda: go(X[n, c, i * k, j + l] * W[f, c, k, l]), "not linear")
    _refused(lambda: go(X[n, c, i + k + 1, j + l] * W[f, c, k, l]), "starts at 1", "cropped")
    _refused(lambda: go(X[n, c, i + k, j + l] * W[f, c, k, l], ((c, 0, 2), (k, 0, 1), (l, 0, 1))),
             "k runs over (0, 1)", "(0, 2)")
    _refused(lambda: go(X[n, c, i, j + l] * W[f, c, k, l]), "does not move with the kernel index k")
    _refused(lambda: go(X[n, c, i + k, j + l] * W[n, c, k, l]), "filter index f")
    _refused(lambda: go(X[n, c, i + k, j + l + f] * W[f, c, k, l]), "f", "neither the output index")
    _refused(lambda: sg.from_indexed(X[n, c, i, j] * W[f, c, 0, 0], t, (n, f, i, j)), "not an sp.Sum")
    with pytest.raises(sg.ArgumentError, match="Y is not in the tensors given"):
        Y = sp.IndexedBase("Y")
        sg.from_indexed(sp.Sum(Y[n, c, i + k, j + l] * W[f, c, k, l], *lim), t, (n, f, i, j))


# ---------------------------------------------------------------------------------------------------
# The tensor API's slicing


def _sliced(x, w, stride, KH, KW, Ho, Wo, dil=1):
    """cs231n's naive loop over kernel offsets, vectorized over positions."""
    return sum((x[:, None, :, dil * a:dil * a + stride * Ho:stride, dil * b:dil * b + stride * Wo:stride] *
                w[None, :, :, a, b, None, None]).sum(axis=2) for a in range(KH) for b in range(KW))


@pytest.mark.parametrize("stride", [1, 2])
def test_sliced_sum_is_conv2d_and_both_spellings_give_torchs_gradient(stride):
    x, w = sg.tensor("x", (2, 3, 7, 6)), sg.tensor("w", (4, 3, 3, 2))
    Ho, Wo = (7 - 3) // stride + 1, (6 - 2) // stride + 1
    sliced = _sliced(x, w, stride, 3, 2, Ho, Wo)
    conv = sg.as_conv(sliced)
    assert conv == sg.conv2d(x, w, stride=stride)
    arrays = [rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))]
    torch_fn = lambda a, b: F.conv2d(a, b, stride=stride)  # noqa: E731
    _grads_equal_torch(conv, [x, w], arrays, torch_fn)
    _grads_equal_torch(sliced, [x, w], arrays, torch_fn)      # the sum as written, too


def test_sliced_sum_with_dilation_and_a_symbolic_batch():
    x, w = sg.tensor("x", (N, 2, 9, 8)), sg.tensor("w", (3, 2, 3, 2))
    conv = sg.as_conv(_sliced(x, w, 1, 3, 2, 5, 6, dil=2))
    assert conv == sg.conv2d(x, w, dilation=2)


def test_one_image_slices_as_the_notes_write_them():
    x, g = sg.tensor("x", (7, 8)), sg.tensor("g", (3, 2))
    e = sum(g[a, b] * x[a:a + 5:2, b:b + 7:2] for a in range(3) for b in range(2))   # stride 2
    conv = sg.as_conv(e)
    assert conv.shape == (3, 4)
    arrays = [rng.standard_normal((7, 8)), rng.standard_normal((3, 2))]
    _grads_equal_torch(conv, [x, g], arrays,
                       lambda a, b: F.conv2d(a[None, None], b[None, None], stride=2)[0, 0])
    flipped = sum(g[2 - a, 1 - b] * x[a:a + 5, b:b + 7] for a in range(3) for b in range(2))
    assert sg.as_conv(flipped) == sg.conv2d(x.reshape(1, 1, 7, 8), sg.flip(g.reshape(1, 1, 3, 2), (2, 3))
                                            ).reshape(5, 7)


def test_sliced_sums_that_are_not_convolutions_are_refused_by_name():
    x, g = sg.tensor("x", (6, 6)), sg.tensor("g", (2, 2))
    offs = [(0, 0), (0, 1), (1, 0), (1, 1)]
    _refused(lambda: sg.as_conv(sum(g[a, b] * x[a:a + 5, b:b + 5] for a, b in offs[:3])),
             "kernel entries [(1, 1)] are missing")
    _refused(lambda: sg.as_conv(sum(g[a, b] * x[a:a + 4, b:b + 4] for a, b in offs)), "4 entries",
             "5 positions", "cropped")
    _refused(lambda: sg.as_conv(sum(g[a, b] * x[b:b + 5, a:a + 5] for a, b in offs)),
             "spatial axis 0 do not move forward with the kernel offset")
    x8, g3 = sg.tensor("x8", (8, 6)), sg.tensor("g3", (3, 1))
    _refused(lambda: sg.as_conv(sum(g3[a, 0] * x8[s:s + 5, :] for a, s in [(0, 0), (1, 1), (2, 3)])),
             "kernel entry (2, 0) starts at 3 on spatial axis 0, not at 2")
    _refused(lambda: sg.as_conv(sum(g[a, b] * x[a:a + 5, b:b + 5] * sg.tensor("y", (5, 5)) for a, b in offs)),
             "not a product of two tensor slices")
    _refused(lambda: sg.as_conv(x[:5, :5] * x[1:, 1:]), "exactly one factor")
