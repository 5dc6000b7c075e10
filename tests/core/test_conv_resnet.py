"""A ResNet basic block over the batch — conv → bn → relu → conv → bn, plus the identity, then relu —
declared with the tensor API (batch norm over (N, H, W) per channel composes from axis reductions):
every gradient equals torch.autograd's in float64."""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from symgrad.core.differentiate import differentiate

N = sp.Symbol("N", integer=True, positive=True)
EPS = sp.Rational(1, 100000)


def batch_norm2d(h, gamma, beta):
    """Training-mode batch norm: per channel, over the batch and both spatial axes."""
    mu = sg.mean(h, axis=(0, 2, 3), keepdims=True)
    var = sg.var(h, axis=(0, 2, 3), keepdims=True)
    C = h.shape[1]
    return gamma.reshape(1, C, 1, 1) * (h - mu) / sg.as_tensor(sp.sqrt(var + EPS)) + beta.reshape(1, C, 1, 1)


def basic_block(x, w1, g1, b1, w2, g2, b2):
    h = sg.relu(batch_norm2d(sg.conv2d(x, w1, padding=1), g1, b1))
    return sg.relu(batch_norm2d(sg.conv2d(h, w2, padding=1), g2, b2) + x)


def test_resnet_basic_block_gradients_equal_torch():
    C, H, W, n = 3, 5, 4, 3
    x = sg.tensor("x", (N, C, H, W))
    w1, w2 = sg.tensor("w1", (C, C, 3, 3)), sg.tensor("w2", (C, C, 3, 3))
    g1, b1, g2, b2 = (sg.tensor(s, (C,)) for s in ("g1", "b1", "g2", "b2"))
    syms = [x, w1, g1, b1, w2, g2, b2]
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal((n, C, H, W)), rng.standard_normal((C, C, 3, 3)) * 0.5,
              1 + 0.1 * rng.standard_normal(C), 0.1 * rng.standard_normal(C),
              rng.standard_normal((C, C, 3, 3)) * 0.5, 1 + 0.1 * rng.standard_normal(C),
              0.1 * rng.standard_normal(C)]
    out = basic_block(*syms)
    assert sg.as_tensor(out).shape == (N, C, H, W)
    D = rng.standard_normal((n, C, H, W))
    d = differentiate(sg.sum(out * sg.tensor("dout", (N, C, H, W))), syms)
    got = d.values({**{s.name: a for s, a in zip(syms, arrays)}, "dout": D})["gradients"]

    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    tx, tw1, tg1, tb1, tw2, tg2, tb2 = ts

    def bn(h, g, b):
        return F.batch_norm(h, None, None, g, b, training=True, eps=1e-5)

    th = F.relu(bn(F.conv2d(tx, tw1, padding=1), tg1, tb1))
    tout = F.relu(bn(F.conv2d(th, tw2, padding=1), tg2, tb2) + tx)
    (tout * torch.tensor(D)).sum().backward()
    for s, g, t in zip(syms, got, ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-9, atol=1e-9, err_msg=f"∂/∂{s.name}")
    # ∂L/∂w2 reads as a correlation of the block's inner activation with a δ, not as scalar sums
    assert str(d.gradients[4]).startswith("conv2d(")
