"""A weight gradient that the backward pass makes transposed ((x.T @ δ).T for a linear layer's W) is
copied row-major, as the parameter is laid out: `grad` returns C-contiguous arrays, and the update
of the step (Adam: nine passes over the gradient, the parameter and its slots) runs over arrays of
one memory order. The values are those of torch.autograd and torch.optim.Adam in float64."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _mlp():
    x, y = sg.tensor("x", (N, 6)), sg.tensor("y", (N,), integer=True)
    W1, b1, W2 = sg.tensor("W1", (9, 6)), sg.tensor("b1", (9,)), sg.tensor("W2", (4, 9))
    loss = sg.cross_entropy(sg.linear(sg.relu(sg.linear(x, W1, b1)), W2), y)
    return loss, [W1, b1, W2], [x, y]


def _start(r):
    return {"W1": r.standard_normal((9, 6)) / 3, "b1": r.standard_normal(9) / 3, "W2": r.standard_normal((4, 9)) / 3}


def _twin(t, xa, ya):
    return F.cross_entropy(F.linear(F.relu(F.linear(torch.tensor(xa), t["W1"], t["b1"])), t["W2"]), torch.tensor(ya))


def test_gradients_come_out_row_major_and_equal_torch():
    loss, params, inputs = _mlp()
    prog = sg.compile(loss, params, inputs, dtype="float64")
    assert re.search(r"numpy\.array\(v\d+\.T, dtype=DTYPE, order='C'\)", prog.source), prog.source
    r = np.random.default_rng(0)
    vals, xa, ya = _start(r), r.standard_normal((7, 6)), r.integers(0, 4, 7)
    g = prog.grad(vals, {"x": xa, "y": ya})
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    _twin(t, xa, ya).backward()
    for k in vals:
        assert g[k].flags.c_contiguous, k
        np.testing.assert_allclose(g[k], t[k].grad.numpy(), rtol=1e-12, atol=1e-14)


def test_adam_steps_equal_torchs_adam():
    loss, params, inputs = _mlp()
    prog = sg.compile(loss, params, inputs, dtype="float64", optimizer=sg.optim.Adam(lr=0.05))
    r = np.random.default_rng(1)
    vals = _start(r)
    t = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in vals.items()}
    opt = torch.optim.Adam(t.values(), lr=0.05)
    state = prog.init_state(vals)
    for n in (7, 5, 7):
        xa, ya = r.standard_normal((n, 6)), r.integers(0, 4, n)
        vals, state = prog.step(vals, state, {"x": xa, "y": ya})
        opt.zero_grad()
        want = _twin(t, xa, ya)
        want.backward()
        opt.step()
        assert prog.last_loss == pytest.approx(want.item(), rel=1e-12)
    for k in vals:
        np.testing.assert_allclose(vals[k], t[k].detach().numpy(), rtol=1e-10, atol=1e-12)


def test_adams_bias_correction_is_a_python_float_and_steps_stay_near_torchs_in_float32():
    """``g *= float(1/numpy.sqrt(1 - 0.999**t))``: NumPy's float64 scalar would run the pass over a
    float32 gradient in float64 loops and cast back (4-5 times the time); a Python float is taken in
    the array's dtype."""
    loss, params, inputs = _mlp()
    prog = sg.compile(loss, params, inputs, dtype="float32", optimizer=sg.optim.Adam(lr=0.05))
    step = prog.source[prog.source.index("def step("):]
    assert "*= float(1/numpy.sqrt(1 - 0.999**t))" in step and "*= 1/numpy.sqrt(" not in step, step
    r = np.random.default_rng(2)
    start = _start(r)
    vals = {k: v.astype(np.float32) for k, v in start.items()}
    t = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in vals.items()}
    opt = torch.optim.Adam(t.values(), lr=0.05)
    state = prog.init_state(vals)
    for n in (7, 5, 7):
        xa, ya = r.standard_normal((n, 6)).astype(np.float32), r.integers(0, 4, n)
        vals, state = prog.step(vals, state, {"x": xa, "y": ya})
        opt.zero_grad()
        _twin(t, xa, ya).backward()
        opt.step()
    for k in vals:
        assert vals[k].dtype == np.float32
        np.testing.assert_allclose(vals[k], t[k].detach().numpy(), rtol=1e-5, atol=1e-6)
