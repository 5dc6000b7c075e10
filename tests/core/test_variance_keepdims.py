"""A variance with keepdims=True over leading axes, written beside the mean with keepdims=True (a
layer or batch norm by hand: ``(x - x.mean(axis=0, keepdims=True)) / sqrt(x.var(axis=0,
keepdims=True) + eps)``), shares that mean: the derivation computes μ once and names σ², and the
gradient equals torch's. The variance's own deviation was built from a mean without keepdims, a
node of another shape, so the steps showed two means and an unnamed variance."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")


def _normalised(x, keepdims):
    eps = sp.Rational(1, 100000)
    return (x - x.mean(axis=0, keepdims=keepdims)) / sp.sqrt(x.var(axis=0, keepdims=keepdims) + eps)


@pytest.mark.parametrize("keepdims", [True, False])
def test_the_mean_is_computed_once_and_the_variance_named(keepdims):
    x, d = sg.tensor("x", (4, 3)), sg.tensor("d", (4, 3))
    text = sg.derive(sg.sum(_normalised(x, keepdims) * d), [x], output_name="L").render("unicode")
    forward = text.split("Forward pass:")[1].split("Backward pass")[0]
    lines = [ln.strip() for ln in forward.strip().splitlines()]
    assert sum(ln.split(" = ")[1].startswith(("x.sum(", "x.mean(")) for ln in lines) == 1, forward
    assert sum(ln.split(" = ")[1] == "x − μ" for ln in lines) == 1, forward
    assert any(ln.startswith("σ² = ") for ln in lines), forward


def test_the_gradient_equals_torchs():
    rng = np.random.default_rng(0)
    xv, dv = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    x, d = sg.tensor("x", (4, 3)), sg.tensor("d", (4, 3))
    g = sg.numeric(sg.grad(sg.sum(_normalised(x, True) * d), x), {"x": xv, "d": dv})
    xt = torch.tensor(xv, requires_grad=True)
    y = (xt - xt.mean(0, keepdim=True)) / torch.sqrt(xt.var(0, unbiased=False, keepdim=True) + 1e-5)
    (y * torch.tensor(dv)).sum().backward()
    np.testing.assert_allclose(np.asarray(g, float), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
