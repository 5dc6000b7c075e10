"""F.gaussian_nll_loss and F.poisson_nll_loss (2026-11-30, eighth session; before, missing), compiled
to the NumPy target and compared with torch.autograd in float64 and central differences — with a
variance below eps, where torch clamps the value but passes the gradient through (its in-place
clamp under no_grad)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import compare_with_torch

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B = 4


@pytest.mark.parametrize("var_shape, kw", [((N, 2), {}), ((N,), {"full": True}), ((N, 1), {"reduction": "sum"}),
                                           ((N, 2), {"eps": 1e-3, "reduction": "none"})])
def test_gaussian_nll_loss(var_shape, kw):
    rng = np.random.default_rng(len(var_shape) + len(kw))
    x, W, y, Wv = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 2)), sg.tensor("y", (N, 2)), sg.tensor("Wv", (3,) + tuple(var_shape[1:]))
    var = sg.softplus(x @ Wv) + 0.1
    loss = sg.gaussian_nll_loss(x @ W, y, var, **kw)
    c = sg.tensor("c", (2,)) if kw.get("reduction") == "none" else None
    if c is not None:
        loss = sg.sum(loss * c)

    def twin(t, d):
        out = F.gaussian_nll_loss(d["x"] @ t["W"], d["y"], F.softplus(d["x"] @ t["Wv"]) + 0.1, **kw)
        return (out * d["c"]).sum() if c is not None else out
    data = {"x": rng.normal(size=(B, 3)), "y": rng.normal(size=(B, 2))}
    if c is not None:
        data["c"] = rng.normal(size=2)
    vals = {"W": rng.normal(size=(3, 2)), "Wv": rng.normal(size=(3,) + tuple(var_shape[1:]))}
    compare_with_torch(torch, (loss, [W, Wv], [x, y] + ([c] if c is not None else []), vals, data, twin), rng)


def test_gaussian_nll_loss_clamps_the_value_and_passes_the_gradient_as_torch():
    """A variance below eps: torch's value uses eps, its gradient is var's as if unclamped (not the
    derivative of the clamped loss, so central differences are no oracle here; torch is)."""
    x, y, Wv = sg.tensor("x", (N, 2)), sg.tensor("y", (N, 2)), sg.tensor("Wv", (2, 2))
    var = sg.softplus(x @ Wv)
    loss = sg.gaussian_nll_loss(x, y, var, eps=0.5)
    prog = sg.compile(loss, [Wv], [x, y], dtype="float64")
    vals = {"Wv": np.array([[1.0, -1.0], [0.5, 2.0]])}
    data = {"x": np.array([[-3.0, 0.2], [1.0, 1.0], [0.3, -0.4]]), "y": np.array([[0.1, 0.2], [0.3, 0.4], [0.0, 1.0]])}
    assert np.log1p(np.exp(data["x"] @ vals["Wv"])).min() < 0.5          # some entries are clamped
    t = torch.tensor(vals["Wv"], requires_grad=True)
    X, Y = torch.tensor(data["x"]), torch.tensor(data["y"])
    want = F.gaussian_nll_loss(X, Y, F.softplus(X @ t), eps=0.5)
    want.backward()
    assert abs(prog.loss(vals, data) - want.item()) < 1e-12
    np.testing.assert_allclose(prog.grad(vals, data)["Wv"], t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", [{}, {"log_input": False}, {"full": True, "reduction": "sum"}])
def test_poisson_nll_loss(kw):
    rng = np.random.default_rng(len(kw) + 10)
    x, W, y = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 2)), sg.tensor("y", (N, 2))
    rate = x @ W if kw.get("log_input", True) else sg.softplus(x @ W)
    loss = sg.poisson_nll_loss(rate, y, **kw)

    def twin(t, d):
        r = d["x"] @ t["W"] if kw.get("log_input", True) else F.softplus(d["x"] @ t["W"])
        return F.poisson_nll_loss(r, d["y"], **kw)
    compare_with_torch(torch, (loss, [W], [x, y], {"W": rng.normal(size=(3, 2))},
                               {"x": rng.normal(size=(B, 3)), "y": rng.poisson(2.0, (B, 2)).astype(float)}, twin), rng)


def test_refusals():
    mu, y = sg.tensor("mu", (3, 2)), sg.tensor("y", (3, 2))
    with pytest.raises(sg.ShapeError, match=r"var .* must be \(3, 2\), or that with the last axis 1 or dropped"):
        sg.gaussian_nll_loss(mu, y, sg.tensor("v", (2,)))
    with pytest.raises(sg.ArgumentError, match="eps must be a positive number"):
        sg.gaussian_nll_loss(mu, y, y, eps=0)
    with pytest.raises(sg.ArgumentError, match="log_input= must be True or False"):
        sg.poisson_nll_loss(mu, y, log_input="yes")
