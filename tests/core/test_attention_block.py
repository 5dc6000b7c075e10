"""sg.grad of transformer blocks (`transformer_twins`: embeddings, multi-head causal self-attention
with the head reshape, layer norm, a GELU MLP, residuals; next-token and sequence-class losses)
equals torch.autograd of the same network with the same weights in float64, to 1e-9 relative, and
central differences of symgrad's own loss on a few entries."""
from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
from transformer_twins import Config, batch, declare, torch_grads, values

CONFIGS = {
    "block-2-heads-causal-next-token": Config(),
    "two-layers-2-heads-causal-next-token": Config(layers=2),
    "block-one-head-3d-matmul": Config(heads=None),
    "block-4-heads-not-causal-classify": Config(heads=4, causal=False, task="classify"),
}


def _rel(got, want):
    return np.abs(got - want).max() / max(np.abs(want).max(), 1e-300)


@pytest.mark.parametrize("name", CONFIGS)
def test_grad_equals_torch(name):
    c = CONFIGS[name]
    loss, params, _ = declare(c)
    vals, b = values(c), batch(c)
    want_loss, want = torch_grads(c, vals, b)
    grads = sg.grad(loss, params)
    at = dict(vals, **b)
    assert abs(sg.numeric(loss, at) - want_loss) <= 1e-12 * abs(want_loss)
    for p, g in zip(params, grads):
        assert g.shape == p.shape
        assert _rel(sg.numeric(g, at), want[p.name]) <= 1e-9, p.name


def test_grad_equals_central_differences():
    c = Config(layers=2)
    loss, params, _ = declare(c)
    vals, b = values(c, seed=3), batch(c, seed=4)
    grads = dict(zip([p.name for p in params], sg.grad(loss, params)))
    rng = np.random.default_rng(5)
    h = 1e-5
    for name in ("E", "P", "Wq0", "Wk1", "g1_0", "W2_1", "Wout"):
        g = sg.numeric(grads[name], dict(vals, **b))
        for _ in range(2):
            i = tuple(int(rng.integers(0, d)) for d in vals[name].shape)
            if name == "E":                       # a row that the batch reads (others have gradient 0)
                i = (int(b["ids"][0, 0]),) + i[1:]
            up, down = dict(vals), dict(vals)
            up[name], down[name] = vals[name].copy(), vals[name].copy()
            up[name][i] += h
            down[name][i] -= h
            fd = (sg.numeric(loss, dict(up, **b)) - sg.numeric(loss, dict(down, **b))) / (2 * h)
            assert abs(g[i] - fd) <= 1e-7 * max(1.0, abs(fd)), (name, i, g[i], fd)

