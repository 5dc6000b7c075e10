"""The compiled NumPy program of a transformer (`transformer_twins`): its loss and gradients equal
torch.autograd's in float64, and three `Program.step`s with Adam equal three steps of torch.optim.Adam
on the same network, weights and batches."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
from transformer_twins import Config, batch, declare, torch_grads, torch_loss, values

CONFIGS = {
    "two-layers-causal-next-token": Config(layers=2),
    "block-one-head-classify": Config(heads=None, task="classify"),
}


def _rel(got, want):
    return np.abs(got - want).max() / max(np.abs(want).max(), 1e-300)


@pytest.mark.parametrize("name", CONFIGS)
def test_compiled_grad_equals_torch(name):
    c = CONFIGS[name]
    loss, params, inputs = declare(c)
    prog = sg.compile(loss, params, inputs, target="numpy", dtype="float64")
    vals, b = values(c), batch(c, n=5)
    want_loss, want = torch_grads(c, vals, b)
    assert abs(prog.loss(vals, b) - want_loss) <= 1e-12 * abs(want_loss)
    got = prog.grad(vals, b)
    for p in params:
        assert _rel(got[p.name], want[p.name]) <= 1e-9, p.name


@pytest.mark.slow          # ~10 s: compiling a two-layer model's Adam step
def test_three_adam_steps_equal_torch():
    c = Config(layers=2)
    loss, params, inputs = declare(c)
    opt = dict(lr=0.01, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)
    prog = sg.compile(loss, params, inputs, target="numpy", dtype="float64", optimizer=sg.optim.Adam(**opt))
    vals = values(c, seed=7)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    torch_opt = torch.optim.Adam(list(t.values()), **opt)
    ours, state = {k: v.copy() for k, v in vals.items()}, None
    for step in range(3):
        b = batch(c, n=4, seed=10 + step)
        ours, state = prog.step(ours, state, b)
        torch_opt.zero_grad()
        theirs = torch_loss(c, t, b["ids"], b["y"])
        theirs.backward()
        torch_opt.step()
        assert prog.last_loss == pytest.approx(theirs.item(), rel=1e-12)
    for name, v in t.items():
        moved = v.detach().numpy() - vals[name]
        assert np.abs(moved).max() > 1e-4, name            # every parameter moved
        np.testing.assert_allclose(ours[name], v.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
