"""sg.kl_div as knowledge distillation uses it (2026-11-30, eighth session).

torch's F.kl_div(input, target) takes log q first and the target second; sg.kl_div(p, q) takes two
distributions, the target first. The torch order written with symgrad's function was a silent NaN
loss (the log of a log-probability); now it is an ArgumentError that gives the translation, and so
is torch's log_target=.

The log of a softmax argument is taken as its log_softmax, x − lse(x). Before, the softmax was
computed and then its log: a logit 800 below the largest (float64; about 100 in float32) made the
softmax 0, the loss inf and the gradient NaN. Checked against torch's F.kl_div of F.log_softmax in
float64, at such logits and at ordinary ones (with central differences)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import compare_with_torch

N = sp.Symbol("N", integer=True, positive=True)
s, t = sg.tensor("s", (N, 3)), sg.tensor("t", (N, 3))


@pytest.mark.parametrize("build, named", [
    (lambda: sg.kl_div(sg.log_softmax(s, axis=-1), sg.softmax(t, axis=-1), reduction="batchmean"), "p = log_softmax"),
    (lambda: sg.kl_div(sg.softmax(s, axis=-1).log(), t), "p = log(softmax"),
    (lambda: sg.kl_div(sg.softmax(t, axis=-1), sg.log_softmax(s, axis=-1)), "q = log_softmax"),
    (lambda: sg.kl_div(sg.softmax(s, axis=-1), sg.softmax(t, axis=-1), log_target=True), "log_target="),
])
def test_torch_order_is_refused_with_the_translation(build, named):
    with pytest.raises(sg.ArgumentError) as e:
        build()
    msg = str(e.value)
    assert named in msg and "sg.kl_div(p, sg.softmax(s, axis=-1))" in msg and "target first" in msg


def test_symgrads_order_is_torchs_value():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    vals = {"s": rng.normal(size=(4, 3)), "t": rng.normal(size=(4, 3))}
    ours = sg.numeric(sg.kl_div(sg.softmax(t, axis=-1), sg.softmax(s, axis=-1)), vals)
    S, Tt = torch.tensor(vals["s"]), torch.tensor(vals["t"])
    want = torch.nn.functional.kl_div(S.log_softmax(-1), Tt.log_softmax(-1), reduction="batchmean", log_target=True)
    assert abs(ours - want.item()) < 1e-14


def test_torch_dim_keyword_names_axis():
    with pytest.raises(sg.ArgumentError, match="did you mean 'axis'"):
        sg.kl_div(s, t, dim=1)


C, TEMP = 4, 2.0


def _distillation(vals, data):
    torch = pytest.importorskip("torch")
    x, W, zt = sg.tensor("x", (N, 3)), sg.tensor("W", (3, C)), sg.tensor("zt", (N, C))
    loss = sg.kl_div(sg.softmax(zt / TEMP, axis=-1), sg.softmax(x @ W / TEMP, axis=-1)) * TEMP ** 2

    def twin(t, d):
        F = torch.nn.functional
        return F.kl_div(F.log_softmax(d["x"] @ t["W"] / TEMP, -1), F.softmax(d["zt"] / TEMP, -1),
                        reduction="batchmean") * TEMP ** 2
    return torch, (loss, [W], [x, zt], vals, data, twin)


def test_distillation_at_logits_where_the_softmax_underflows():
    torch, (loss, params, inputs, vals, data, twin) = _distillation(
        {"W": np.eye(3, C) * 2.0}, {"x": np.array([[900.0, 0.0, -900.0], [1.0, -2.0, 0.5]]),
                                    "zt": np.array([[0.0, 1.0, 2.0, 3.0], [800.0, 0.0, -800.0, 1.0]])})
    prog = sg.compile(loss, params, inputs, dtype="float64")
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    want = twin(t, {k: torch.tensor(v) for k, v in data.items()})
    want.backward()
    assert np.isfinite(want.item())
    assert abs(prog.loss(vals, data) - want.item()) <= 1e-12 * abs(want.item())
    np.testing.assert_allclose(prog.grad(vals, data)["W"], t["W"].grad.numpy(), rtol=1e-12, atol=1e-9)
    assert abs(sg.numeric(loss, {**vals, **data}) - want.item()) <= 1e-12 * abs(want.item())   # the evaluator too


def test_distillation_at_ordinary_logits_with_central_differences():
    rng = np.random.default_rng(0)
    torch, built = _distillation({"W": rng.normal(size=(3, C))}, {"x": rng.normal(size=(5, 3)), "zt": rng.normal(size=(5, C))})
    compare_with_torch(torch, built, rng)
