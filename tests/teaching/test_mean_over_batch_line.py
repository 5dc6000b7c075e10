"""A mean over a symbolic batch N reads f = u₄/N, as a lecture writes it — not u₅ = 1/N then
f = u₅·u₄ (until 2026-12-01, eleventh session: a scalar of the batch size alone had a line and a u
of its own, and the step read ∂f/∂u₄ = 1 · u₅). Values: numpy's."""
import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def test_the_mean_of_a_batch_divides_by_n_in_its_line():
    X, W, Y = sg.tensor("X", (N, 3)), sg.tensor("W", (3, 2)), sg.tensor("Y", (N, 2))
    rng = np.random.default_rng(0)
    x, w, y = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    d = sg.derive(sg.sum((X @ W - Y) ** 2) / N, [W], at={X: x, W: w, Y: y, N: 4})
    text = d.render("unicode")
    forward = text.split("Backward pass")[0].splitlines()[2:]
    assert [l.split(" = ")[0].strip() for l in forward] == ["u₁", "u₂", "u₃", "u₄", "f"], forward
    assert forward[-1].startswith("  f = u₄/N = "), forward
    assert abs(float(forward[-1].split(" = ")[-1]) - ((x @ w - y) ** 2).sum() / 4) < 1e-3
    assert "1/N" not in text.split("Forward pass:")[1].split("Backward")[0].replace("u₄/N", ""), text
    assert "  ∂f/∂u₄ = ∂f/∂f · ∂f/∂u₄ = 1 · 1/N = 1/N = 0.25" in text, text
    (_, _, value), = d.steps.gradients
    assert np.allclose(np.asarray(value, dtype=float), 2 * x.T @ (x @ w - y) / 4)
    assert r"f &= \frac{u_{4}}{N}" in d.render("latex")
