"""A normalisation layer's affine part y = γ ⊙ x̂ + β is one node of the steps, as cs231n's
batchnorm_backward writes it: dgamma = Σ dout ⊙ x̂ and dbeta = Σ dout from ∂L/∂y, never "via ∂L/∂u₄"
(the lowering's γ ⊙ x̂ before + β); in a network the node is the z⁽ᵏ⁾ that the activation takes.
The numbers are torch.autograd's (symgrad/teaching/norm_affine.py)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
B, D = 4, 3


def _layer(axis):
    x, g, b, dout = sg.tensor("x", (B, D)), sg.tensor("gamma", (D,)), sg.tensor("beta", (D,)), sg.tensor("dout", (B, D))
    mu = x.mean(axis=axis, keepdims=True)
    xhat = (x - mu) / sp.sqrt(((x - mu) ** 2).mean(axis=axis, keepdims=True) + sp.Rational(1, 100000))
    return sg.derive(sg.sum((g * xhat + b) * dout), [x, g, b], output_name="L"), (x, g, b, dout)


def _steps(text):
    return {li.split(" = ", 1)[0].strip(): li.split("    [")[0].strip() for li in
            text.split("Backward pass", 1)[1].split("Gradient:")[0].splitlines()[1:]}


@pytest.mark.parametrize("axis", [0, 1])          # batch norm, layer norm
def test_gamma_and_beta_are_reached_from_the_layers_output(axis):
    d, (x, g, b, dout) = _layer(axis)
    rng = np.random.default_rng(5)
    at = {x: rng.normal(size=(B, D)) * 2 + 1, g: rng.normal(size=D), b: rng.normal(size=D), dout: rng.normal(size=(B, D))}
    text = d.render("unicode", at=at)
    assert "\n  y = γ ⊙ x̂ + β = " in text, text
    steps = _steps(text)
    assert steps["∂L/∂γ"].startswith("∂L/∂γ = ∂L/∂y · ∂y/∂γ = (dout ⊙ x̂).sum(axis=0) = "), steps["∂L/∂γ"]
    assert steps["∂L/∂β"].startswith("∂L/∂β = ∂L/∂y · ∂y/∂β = dout.sum(axis=0) = "), steps["∂L/∂β"]
    assert steps["∂L/∂x̂"].startswith("∂L/∂x̂ = ∂L/∂y · ∂y/∂x̂ = ∂L/∂y ⊙ γ = dout ⊙ γ"), steps["∂L/∂x̂"]
    assert not any(k.startswith("∂L/∂u") and "⊙ γ" in v for k, v in steps.items()), steps
    # the numbers: torch.autograd's
    tx, tg, tb = (torch.tensor(at[s], requires_grad=True) for s in (x, g, b))
    mu = tx.mean(dim=axis, keepdim=True)
    xh = (tx - mu) / torch.sqrt(((tx - mu) ** 2).mean(dim=axis, keepdim=True) + 1e-5)
    ((tg * xh + tb) * torch.tensor(at[dout])).sum().backward()
    got = {str(w): v for w, _, v in d.explain(at=at).gradients}
    np.testing.assert_allclose(got["gamma"], tg.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(got["beta"], tb.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(got["x"], tx.grad.numpy(), rtol=1e-7, atol=1e-10)


def test_in_a_network_the_affine_output_is_the_activations_z():
    N = sp.Symbol("N", integer=True, positive=True)
    x, W, g, b = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 4)), sg.tensor("gamma", (4,)), sg.tensor("beta", (4,))
    a = x @ W
    xhat = (a - a.mean(axis=0)) / sp.sqrt(a.var(axis=0) + sp.Rational(1, 100000))
    d = sg.derive(sg.sum(sg.relu(g * xhat + b)), [W, g, b], output_name="L")
    steps = _steps(d.render("unicode"))
    assert steps["∂L/∂γ"].startswith("∂L/∂γ = δ · ∂z/∂γ = "), steps
    assert steps["∂L/∂β"].startswith("∂L/∂β = δ · ∂z/∂β = δ.sum(axis=0)"), steps
