"""A ResNet basic block over the batch — conv → bn → relu → conv → bn, plus the identity, then relu —
declared with the tensor API (batch norm over (N, H, W) per channel composes from axis reductions):
every gradient equals torch.autograd's in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from symgrad.core.differentiate import differentiate
from symgrad.frontend.conv import Conv

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


@pytest.mark.slow
def test_resnet18_shaped_declaration_builds_and_differentiates():
    """Eight basic blocks deep (four stages, strided 1×1 projections): the residual DAG printed as a
    tree is exponential in the depth, so neither declaring nor differentiating may print it; the
    gradients come back in the conv vocabulary."""
    x, y = sg.tensor("x", (N, 3, 8, 8)), sg.tensor("y", (N,), integer=True)
    params = []

    def p(name, shape):
        params.append(sg.tensor(name, shape))
        return params[-1]

    def bn(h, name):
        c = h.shape[1]
        return batch_norm2d(h, p(name + "g", (c,)), p(name + "b", (c,)))

    h, c = sg.relu(bn(sg.conv2d(x, p("stem", (4, 3, 3, 3)), padding=1), "bn0")), 4
    for stage in range(4):
        out_c = 4 * 2 ** stage
        for blk in range(2):
            s = 2 if stage and not blk else 1
            name = f"s{stage}b{blk}"
            o = sg.relu(bn(sg.conv2d(h, p(name + "w1", (out_c, c, 3, 3)), stride=s, padding=1), name + "n1"))
            o = bn(sg.conv2d(o, p(name + "w2", (out_c, out_c, 3, 3)), padding=1), name + "n2")
            short = h if s == 1 and c == out_c else bn(sg.conv2d(h, p(name + "p", (out_c, c, 1, 1)), stride=s),
                                                         name + "np")
            h, c = sg.as_tensor(sg.relu(o + short)), out_c
    loss = sg.cross_entropy(sg.mean(h, axis=(2, 3)) @ p("fc", (c, 10)), y)
    grads = sg.grad(loss, params)
    assert len(grads) == len(params) == 61          # 20 convs + 19 batch norms (γ, β) + fc
    # ∂L/∂stem = conv2d(x.transpose(1, 0, 2, 3), δ.transpose(1, 0, 2, 3), ...).transpose(1, 0, 2, 3);
    # not printed: δ written out as a tree repeats every residual path
    assert grads[0].shape == (4, 3, 3, 3) and isinstance(grads[0].args[0], Conv)
    assert grads[0].args[0].args[0] == x.transpose(1, 0, 2, 3)
