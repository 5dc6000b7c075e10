"""A bias broadcast over the batch: its step names δ, as the weight's step beside it does
(fourth-session trial). ∂L/∂W read x.T @ δ, but ∂L/∂b wrote δ out in full
(((exp(u₁ − u₂)/N − u₄/N) ⊙ H(z)).sum(axis=0)) where the slide writes Σₙ δₙ = δ.sum(axis=0)."""
import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
x, W, b = sg.tensor("x", (N, 4)), sg.tensor("W", (4, 3)), sg.tensor("b", (3,))
y = sg.tensor("y", (N,), integer=True)


def _step(d, lhs):
    return next(l.strip() for l in d.render("unicode").splitlines() if l.strip().startswith(lhs + " = δ"))


def test_bias_step_is_the_sum_of_delta():
    rng = np.random.default_rng(0)
    at = {x: rng.normal(size=(5, 4)), W: rng.normal(size=(4, 3)), b: rng.normal(size=3), y: np.array([0, 2, 1, 1, 0])}
    d = sg.derive(sg.cross_entropy(sg.relu(x @ W + b), y), [W, b], at=at, output_name="L")
    assert _step(d, "∂L/∂b").startswith("∂L/∂b = δ · ∂z/∂b = δ.sum(axis=0) = ")
    assert "x.T @ δ" in _step(d, "∂L/∂W")
    # the number on the step is still the gradient: δ summed over the batch (δ by hand: softmax − one-hot)
    z = at[x] @ at[W] + at[b]
    h = np.maximum(z, 0)
    s = np.exp(h - h.max(1, keepdims=True))
    s /= s.sum(1, keepdims=True)
    delta = (s - np.eye(3)[at[y]]) / 5 * (z >= 0)
    shown = _step(d, "∂L/∂b").rsplit(" = ", 1)[1].split("    [")[0]
    assert np.allclose([float(v.replace("−", "-")) for v in shown.strip("[]").split(", ")], delta.sum(0), atol=1e-3)


def test_tanh_layer_bias_step_too():
    t = sg.tensor("t", (N, 3))
    d = sg.derive(sg.sum((sg.tanh(x @ W + b) - t) ** 2) / 2, [W, b], output_name="L")
    assert _step(d, "∂L/∂b").startswith("∂L/∂b = δ · ∂z/∂b = δ.sum(axis=0)")


def test_bias_step_with_dout_names_delta_then_dout():
    dout = sg.tensor("dout", (N, 3))
    d = sg.derive(sg.sum((x @ W + b) * dout), [W, b], output_name="L")
    assert "∂L/∂b = δ · ∂z/∂b = δ.sum(axis=0) = dout.sum(axis=0)" in d.render("unicode")


def test_a_named_gradient_is_bracketed_before_a_method():
    # ∂L/∂u₁.T read as ∂L/∂(u₁.T); the slide brackets the fraction: (∂L/∂u₁).T
    Q, K, G = sg.tensor("Q", (3, 2)), sg.tensor("K", (3, 2)), sg.tensor("G", (3, 3))
    d = sg.derive(sg.sum(sg.softmax(Q @ K.T, axis=1) * G), [K], output_name="L")
    for fmt, frac in (("unicode", "∂L/∂u₁"), ("text", "dL/du1")):
        step = next(l for l in d.render(fmt).splitlines() if l.strip().startswith(frac[:-2] + "K = " + frac))
        assert f"= ({frac}).T @ Q = " in step, step
    # a linear layer x @ W.T (torch's) is one node, z = x @ W.T, and ∇W = δᵀ @ x, as the slides
    Wt, dout = sg.tensor("W", (3, 4)), sg.tensor("dout", (N, 3))
    text = sg.derive(sg.sum(sg.tanh(x @ Wt.T) * dout), [Wt], output_name="L").render("unicode")
    assert "z = x @ W.T" in text and "∂L/∂W = δ · ∂z/∂W = δ.T @ x = ((1 − y²) ⊙ dout).T @ x    [" in text, text
    # δ is a name, not a fraction: no brackets
    assert "δ.sum(axis=0)" in sg.derive(sg.sum((x @ W + b) * dout), [b], output_name="L").render("unicode")
