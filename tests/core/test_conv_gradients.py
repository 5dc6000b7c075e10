"""Gradients of conv2d / conv1d / max_pool2d / avg_pool2d equal torch.autograd in float64 (1e-9)
over a grid: stride 1 and 2, padding 0/1/2, non-square inputs and kernels, dilation 2, several
channels and filters, batch 1 and 5. The loss is Σ out ⊙ D with a fixed random D (a cotangent that
is not all ones). Each gradient is evaluated twice: from symgrad's graph, and from the readable SymPy
expression `sg.grad` returns (lowered again by `sg.numeric`), which must stay in the conv vocabulary.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from symgrad.core.differentiate import differentiate

N = sp.Symbol("N", integer=True, positive=True)
rng = np.random.default_rng(20261129)


def _torch_grads(fn, arrays):
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*ts)
    D = rng.standard_normal(tuple(out.shape))
    (out * torch.tensor(D)).sum().backward()
    return D, [t.grad.numpy() for t in ts]


def _compare(out_expr, syms, arrays, torch_fn, n):
    D, want = _torch_grads(torch_fn, arrays)
    dout = sg.tensor("dout", out_expr.shape)
    assert tuple(sp.sympify(d).subs(N, n) for d in out_expr.shape) == D.shape
    f = sg.sum(out_expr * dout)
    values = {**{s.name: a for s, a in zip(syms, arrays)}, "dout": D}
    d = differentiate(f, syms)
    got = d.values(values)["gradients"]
    for s, g, t in zip(syms, got, want):
        np.testing.assert_allclose(g, t, rtol=1e-9, atol=1e-9, err_msg=f"∂/∂{s.name}")
    return d, values, want


CONV2D_GRID = [  # (batch, C, F, H, W, KH, KW, stride, padding, dilation)
    (1, 1, 1, 5, 5, 3, 3, 1, 0, 1),
    (5, 3, 2, 6, 7, 3, 2, 2, 1, 1),
    (1, 2, 3, 7, 5, 2, 3, (2, 1), (2, 0), 1),
    (5, 2, 2, 8, 6, 3, 3, 1, 2, 2),
    (1, 3, 4, 9, 8, 2, 2, 2, 1, (2, 1)),
    (5, 1, 2, 5, 6, 1, 1, 2, 1, 1),          # 1×1 kernel with padding: the x-adjoint crops
    (1, 2, 2, 7, 7, 3, 3, 3, 0, 1),          # stride leaves the last rows out
]


@pytest.mark.parametrize("case", CONV2D_GRID, ids=[f"conv2d-{i}" for i in range(len(CONV2D_GRID))])
@pytest.mark.parametrize("bias", [False, True])
def test_conv2d_gradients_equal_torch(case, bias):
    n, c, f, h, w_, kh, kw, stride, padding, dilation = case
    x, w, b = sg.tensor("x", (N, c, h, w_)), sg.tensor("w", (f, c, kh, kw)), sg.tensor("b", (f,))
    arrays = [rng.standard_normal((n, c, h, w_)), rng.standard_normal((f, c, kh, kw))]
    syms = [x, w]
    if bias:
        arrays.append(rng.standard_normal(f))
        syms.append(b)
    out = sg.conv2d(x, w, b if bias else None, stride=stride, padding=padding, dilation=dilation)
    d, values, want = _compare(out, syms, arrays, lambda *t: F.conv2d(
        t[0], t[1], t[2] if bias else None, stride=stride, padding=padding, dilation=dilation), n)
    # the readable form: convolutions again, and it evaluates to the same numbers
    gx, gw = d.gradients[:2]
    flipped = "flip(w, (2, 3))" if kh * kw > 1 else "w"          # a 1×1 kernel is its own flip
    assert str(gx).startswith(f"conv2d(dout, {flipped}.transpose(1, 0, 2, 3)"), gx
    assert str(gw).startswith("conv2d(x.transpose(1, 0, 2, 3), dout.transpose(1, 0, 2, 3)"), gw
    for g, t in zip(d.gradients, want):
        np.testing.assert_allclose(sg.numeric(g, values), t, rtol=1e-9, atol=1e-9)


CONV1D_GRID = [(1, 2, 3, 9, 3, 1, 0, 1), (5, 3, 2, 10, 2, 2, 2, 1), (5, 1, 2, 11, 3, 3, 1, 2)]


@pytest.mark.parametrize("case", CONV1D_GRID, ids=[f"conv1d-{i}" for i in range(len(CONV1D_GRID))])
def test_conv1d_gradients_equal_torch(case):
    n, c, f, L, k, stride, padding, dilation = case
    x, w, b = sg.tensor("x", (N, c, L)), sg.tensor("w", (f, c, k)), sg.tensor("b", (f,))
    arrays = [rng.standard_normal((n, c, L)), rng.standard_normal((f, c, k)), rng.standard_normal(f)]
    out = sg.conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    d, values, want = _compare(out, [x, w, b], arrays, lambda *t: F.conv1d(
        *t, stride=stride, padding=padding, dilation=dilation), n)
    assert str(d.gradients[0]).startswith("conv1d(dout, flip(w, (2,))")


POOL_GRID = [  # (batch, C, H, W, kernel, stride, padding)
    (1, 1, 4, 4, 2, None, 0),
    (5, 3, 7, 6, (3, 2), None, 1),
    (1, 2, 6, 8, 3, 2, 1),
    (5, 2, 5, 7, (2, 3), (1, 2), 0),        # overlapping windows (stride 1 along H)
]


@pytest.mark.parametrize("case", POOL_GRID, ids=[f"pool-{i}" for i in range(len(POOL_GRID))])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_gradients_equal_torch(case, kind):
    n, c, h, w_, k, s, p = case
    x = sg.tensor("x", (N, c, h, w_))
    layer, tfn = (sg.max_pool2d, F.max_pool2d) if kind == "max" else (sg.avg_pool2d, F.avg_pool2d)
    out = layer(x, k, stride=s, padding=p)
    d, values, want = _compare(out, [x], [rng.standard_normal((n, c, h, w_))],
                               lambda t: tfn(t, k, stride=s, padding=p), n)
    np.testing.assert_allclose(sg.numeric(d.gradients[0], values), want[0], rtol=1e-9, atol=1e-9)


def test_pool_forward_values_equal_torch():
    x = sg.tensor("x", (2, 3, 7, 6))
    a = rng.standard_normal((2, 3, 7, 6)) - 3.0          # all negative: the −∞ padding matters
    for layer, tfn in ((sg.max_pool2d, F.max_pool2d), (sg.avg_pool2d, F.avg_pool2d)):
        got = sg.numeric(layer(x, 3, stride=2, padding=1), {"x": a})
        np.testing.assert_allclose(got, tfn(torch.tensor(a), 3, stride=2, padding=1).numpy(), rtol=1e-12)


def test_max_pool_ties_go_to_the_first_arg_max_in_row_major_order():
    """The documented tie rule: a window whose entries are equal sends all of δ to its first entry
    (row-major order within the window), as torch does; nothing goes to the other tied entries."""
    x = sg.tensor("x", (1, 1, 4, 4))
    a = np.zeros((1, 1, 4, 4))
    a[0, 0, 2:, 2:] = [[1.0, 5.0], [5.0, 5.0]]          # a tie between three entries in one window
    D = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    g = sg.numeric(sg.grad(sg.sum(sg.max_pool2d(x, 2) * sg.tensor("dout", (1, 1, 2, 2))), x),
                   {"x": a, "dout": D})
    want = np.zeros((1, 1, 4, 4))
    want[0, 0, 0, 0], want[0, 0, 0, 2], want[0, 0, 2, 0], want[0, 0, 2, 3] = 1.0, 2.0, 3.0, 4.0
    np.testing.assert_array_equal(g, want)
    t = torch.tensor(a, requires_grad=True)
    (F.max_pool2d(t, 2) * torch.tensor(D)).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), want)


def test_second_order_through_conv_is_a_convolution_again():
    """The adjoint of the adjoint closes over the table: Hessian-vector products through a strided,
    padded conv equal torch's double backward."""
    x, w = sg.tensor("x", (2, 2, 6, 5)), sg.tensor("w", (3, 2, 3, 2))
    xa, wa = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 2))
    out = sg.conv2d(x, w, stride=2, padding=1)
    loss = sg.sum(out * out)
    gx = sg.grad(loss, x)
    v = rng.standard_normal(xa.shape)
    hv = sg.grad(sg.sum(gx * sg.tensor("v", xa.shape)), w)
    got = sg.numeric(hv, {"x": xa, "w": wa, "v": v})
    tx, tw = torch.tensor(xa, requires_grad=True), torch.tensor(wa, requires_grad=True)
    o = F.conv2d(tx, tw, stride=2, padding=1)
    (g,) = torch.autograd.grad((o * o).sum(), tx, create_graph=True)
    (want,) = torch.autograd.grad((g * torch.tensor(v)).sum(), tw)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-9, atol=1e-9)
