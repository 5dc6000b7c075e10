"""A layer norm's backward sums as matrix-vector products (`WholeBatchScheduler._matvec_sum`): the γ
gradient Σ over the rows of r·u⊙ḡ (r of shape (…, 1)) as ``r.reshape((1, -1)) @ (u*ḡ).reshape((-1, D))``,
and the row sums Σ_k γ·u⊙ḡ as ``(u*ḡ) @ γ``. The gradients and steps equal torch.autograd's in float64
(3-d and 2-d layer norms, the transformer's five); a sum of another shape is left as it was."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from transformer_twins import Config, batch, declare, layer_norm, steps_equal_torch, torch_grads, values

GAMMA = re.compile(r"= \(\w+\.reshape\(\(1, -1\)\) @ \(.*\)\.reshape\(\(-1, \d+\)\)\)\.reshape\(\(1, (1, )?\d+\)\)")
ROWS = re.compile(r"= \(\(.*\) @ p\d+\)\[\.\.\., None\]")
N = sp.Symbol("N", integer=True, positive=True)


def _function(source: str, name: str) -> str:
    return source[source.index(f"\ndef {name}("):].split("\n\n\ndef ")[0]


def test_the_transformers_layer_norm_sums_are_matrix_vector_products():
    c = Config(T=8, D=16, heads=2, V=11, layers=1)
    loss, params, inputs = declare(c)
    prog = sg.compile(loss, params, inputs, dtype="float64", optimizer=sg.optim.SGD(lr=0.05))
    for kind in ("grad", "step"):
        code = _function(prog.source, kind)
        assert len(GAMMA.findall(code)) == 3 and len(ROWS.findall(code)) == 3, kind    # ln1, ln2, ln_f
    vals, b = values(c, seed=2), batch(c, n=5, seed=3)
    want_loss, want = torch_grads(c, vals, b)
    got = prog.grad(vals, b)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-12, err_msg=k)
    steps_equal_torch(prog, c, vals, lambda ps: torch.optim.SGD(ps, lr=0.05), seeds=[4, 5], n=3, moved=1e-6)


@pytest.mark.parametrize("rank", [2, 3])
def test_a_layer_norm_of_two_or_three_axes_equals_torch(rank):
    """loss = Σ (LN(x·V)·W)² / N with γ, β: the γ gradient and the row sums (of V's gradient) by
    matrix-vector products, for x of (N, 16) and of (N, 5, 16)."""
    shape = (N, 16) if rank == 2 else (N, 5, 16)
    x = sg.tensor("x", shape)
    V, W = sg.tensor("V", (16, 16)), sg.tensor("W", (16, 3))
    g, b = sg.tensor("g", (16,)), sg.tensor("b", (16,))
    loss = sg.sum((layer_norm(x @ V, g, b) @ W) ** 2) / N
    prog = sg.compile(loss, [V, g, b, W], [x], dtype="float64", optimizer=sg.optim.SGD(lr=0.1))
    code = _function(prog.source, "grad")
    assert GAMMA.search(code) and ROWS.search(code)
    rng = np.random.default_rng(rank)
    vals = {"V": rng.normal(size=(16, 16)) / 4, "g": 1 + 0.1 * rng.normal(size=16), "b": 0.1 * rng.normal(size=16),
            "W": rng.normal(size=(16, 3))}
    xs = rng.normal(size=(7,) + shape[1:]) * 2 + 1
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    want = (torch.nn.functional.layer_norm(torch.tensor(xs) @ t["V"], (16,), t["g"], t["b"], 1e-5) @ t["W"]) ** 2
    want = want.sum() / len(xs)
    want.backward()
    got = prog.grad(vals, {"x": xs})
    assert prog.loss(vals, {"x": xs}) == pytest.approx(want.item(), rel=1e-12)
    for k, v in t.items():
        np.testing.assert_allclose(got[k], v.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


def test_a_sum_over_the_rows_of_a_per_feature_factor_is_left_alone():
    """Σ over N of u⊙w⊙s with s of shape (1, D) (a batch norm's 1/σ): no row factor, no vector of
    the last axis — NumPy's sum as before, and the gradient torch's."""
    x = sg.tensor("x", (N, 6))
    g = sg.tensor("g", (6,))
    mu = x.mean(axis=0, keepdims=True)
    z = (x - mu) / sp.sqrt(x.var(axis=0, keepdims=True) + 1e-5) * g
    prog = sg.compile(sg.sum(z ** 3) / N, [g], [x], dtype="float64")
    assert not GAMMA.search(_function(prog.source, "grad"))
    rng = np.random.default_rng(1)
    xs, gv = rng.normal(size=(9, 6)), 1 + 0.1 * rng.normal(size=6)
    xt, gt = torch.tensor(xs), torch.tensor(gv, requires_grad=True)
    zt = (xt - xt.mean(0, keepdim=True)) / torch.sqrt(xt.var(0, keepdim=True, unbiased=False) + 1e-5) * gt
    ((zt ** 3).sum() / 9).backward()
    np.testing.assert_allclose(prog.grad({"g": gv}, {"x": xs})["g"], gt.grad.numpy(), rtol=1e-9, atol=1e-12)
