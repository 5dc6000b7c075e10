"""log(softmax(x)) is lowered as log_softmax(x) = x − lse(x) (2026-11-30, eighth session). Before, the
softmax was computed and then its log: a logit 800 below the largest (float64; about 100 in
float32) made the softmax 0, the loss inf and the gradient NaN. Knowledge distillation writes it so
(sg.kl_div(p_teacher, sg.softmax(s / T, axis=-1)), torch's F.softmax(s, -1).log()). Checked against
torch's F.kl_div of F.log_softmax in float64, at such logits and at ordinary ones (with central
differences)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import compare_with_torch

torch = pytest.importorskip("torch")
TF = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
C, TEMP = 4, 2.0


def _distillation(data):
    x, W, zt = sg.tensor("x", (N, 3)), sg.tensor("W", (3, C)), sg.tensor("zt", (N, C))
    loss = sg.kl_div(sg.softmax(zt / TEMP, axis=-1), sg.softmax(x @ W / TEMP, axis=-1)) * TEMP ** 2

    def twin(t, d):
        return TF.kl_div(TF.log_softmax(d["x"] @ t["W"] / TEMP, -1), TF.softmax(d["zt"] / TEMP, -1),
                         reduction="batchmean") * TEMP ** 2
    return loss, [W], [x, zt], data, twin


def test_distillation_at_logits_where_the_softmax_underflows():
    loss, params, inputs, (vals, data), twin = _distillation(
        ({"W": np.eye(3, C) * 2.0}, {"x": np.array([[900.0, 0.0, -900.0], [1.0, -2.0, 0.5]]),
                                     "zt": np.array([[0.0, 1.0, 2.0, 3.0], [800.0, 0.0, -800.0, 1.0]])}))
    prog = sg.compile(loss, params, inputs, dtype="float64")
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    want = twin(t, {k: torch.tensor(v) for k, v in data.items()})
    want.backward()
    assert np.isfinite(want.item())
    got = prog.loss(vals, data)
    assert abs(got - want.item()) <= 1e-12 * abs(want.item())
    np.testing.assert_allclose(prog.grad(vals, data)["W"], t["W"].grad.numpy(), rtol=1e-12, atol=1e-9)
    assert abs(sg.numeric(loss, {**vals, **data}) - want.item()) <= 1e-12 * abs(want.item())   # the evaluator too


def test_distillation_at_ordinary_logits_with_central_differences():
    rng = np.random.default_rng(0)
    loss, params, inputs, (vals, data), twin = _distillation(
        ({"W": rng.normal(size=(3, C))}, {"x": rng.normal(size=(5, 3)), "zt": rng.normal(size=(5, C))}))
    compare_with_torch(torch, (loss, params, inputs, vals, data, twin), rng)


def test_log_of_softmax_method_and_its_gradient_read_as_log_softmax():
    s = sg.tensor("s", (N, C))
    lp = sg.softmax(s, axis=-1).log()                 # torch's F.softmax(s, -1).log()
    vals = {"s": np.array([[1000.0, 0.0, -1000.0, 3.0]])}
    ts = torch.tensor(vals["s"], requires_grad=True)
    c = torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=torch.float64)
    (TF.log_softmax(ts, -1) * c).sum().backward()
    np.testing.assert_allclose(sg.numeric(lp, vals), TF.log_softmax(ts, -1).detach().numpy(), rtol=1e-15)
    ct = sg.tensor("c", (N, C))
    g = sg.grad(sg.sum(lp * ct), s)
    np.testing.assert_allclose(sg.numeric(g, {**vals, "c": c.numpy()}), ts.grad.numpy(), rtol=1e-12, atol=1e-12)
