"""Whole-batch steps arranged by codegen.lifetimes (as the per-example writer's): each parameter's
update as soon as its gradient is final and nothing reads the old parameter — directly, or through a
transpose or reshape of it — and each temporary deleted after its last use. The values are torch's."""
import re

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _tied():
    """An autoencoder with tied weights, declared over the batch: W is read as Wᵀ by the encoder and
    as W by the decoder, U through a reshape. The backward pass reads W (δ·Wᵀ… and δ·W) and U's
    reshape after U's gradient is final."""
    x = sg.tensor("x", (N, 6))
    W, b, U = sg.tensor("W", (4, 6)), sg.tensor("b", (4,)), sg.tensor("U", (2, 2, 6))
    h = sp.tanh(x @ W.T + b)
    out = sg.as_tensor(h) @ U.reshape(4, 6) + sg.relu(h) @ W
    return sg.mean((out - x) ** 2), [W, b, U], [x]


def _torch_steps(values, batches, make_opt):
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    opt = make_opt(list(t.values()))
    losses = []
    for x in batches:
        x = torch.tensor(x, dtype=torch.float64)
        h = torch.tanh(x @ t["W"].T + t["b"])
        out = h @ t["U"].reshape(4, 6) + torch.relu(h) @ t["W"]
        loss = ((out - x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return {k: v.detach().numpy() for k, v in t.items()}, losses


@pytest.mark.parametrize("ours, theirs", [
    (sg.optim.SGD(lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    (sg.optim.Adam(lr=0.05), lambda ps: torch.optim.Adam(ps, lr=0.05)),
])
def test_tied_weights_step_equals_torch(ours, theirs):
    loss, params, inputs = _tied()
    prog = sg.compile(loss, params, inputs, optimizer=ours, dtype="float64")
    rng = np.random.default_rng(3)
    start = {p.name: rng.standard_normal(tuple(p.shape)) * 0.5 for p in params}
    batches = [rng.standard_normal((n, 6)) for n in (7, 11, 5)]
    want, want_losses = _torch_steps(start, batches, theirs)
    values, state = {k: v.copy() for k, v in start.items()}, None
    losses = []
    for x in batches:
        values, state = prog.step(values, state, {"x": x})
        losses.append(prog.last_loss)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-12)
    for k in want:
        np.testing.assert_allclose(values[k], want[k], rtol=1e-10, atol=1e-12, err_msg=k)


def _step_lines(prog):
    src = prog.source
    body = src[src.index("def step("):].split("\n\n\ndef ")[0]
    return [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def test_updates_come_as_soon_as_nothing_reads_the_old_parameter():
    loss, params, inputs = _tied()
    lines = _step_lines(sg.compile(loss, params, inputs, dtype="float64"))
    update = {i: next(k for k, ln in enumerate(lines) if re.match(rf"p{i} -= ", ln)) for i in range(3)}
    reads = {i: [k for k, ln in enumerate(lines) if re.search(rf"\bp{i}\b", ln) and k != update[i]
                 and not ln.startswith(("assert", "["))] for i in range(3)}
    matmuls = [k for k, ln in enumerate(lines) if " @ " in ln]
    # U (p2) is read last through its reshape's transpose in δ·Uᵀ; its update follows that read
    # and comes before the backward pass's last products (the encoder's weight gradient xᵀ·δ)
    assert max(reads[2]) < update[2] < matmuls[-1]
    for i in range(3):          # never before a read of the old parameter
        assert update[i] > max(reads[i]), (i, lines)
    # every temporary is deleted, once
    for name in sorted({m for ln in lines for m in re.findall(r"^(v\d+) = ", ln)}):
        assert sum(1 for ln in lines if ln.startswith("del ") and name in ln[4:].split(", ")) == 1, name
