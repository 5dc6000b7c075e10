"""A batch net's gradient writes a forward sum in the order its forward line does: the mean squared
error of y @ W₂ + b₂ − Y reads ∂f/∂u₂ = (y @ W₂ + b₂ − Y)/2, as u₂ = u₁ + b₂ − Y (until
2026-12-01, eleventh session, (b₂ + y @ W₂ − Y)/2: the subtracted −Y, held as an elementwise
node, kept the bias from being read as one). Values: numpy's."""
import numpy as np
import sympy as sp

import symgrad as sg


def _net():
    X, W1, b1 = sg.tensor("X", (4, 3)), sg.tensor("W1", (3, 5)), sg.tensor("b1", (5,))
    W2, b2, Y = sg.tensor("W2", (5, 2)), sg.tensor("b2", (2,)), sg.tensor("Y", (4, 2))
    rng = np.random.default_rng(3)
    at = {X: rng.normal(size=(4, 3)), W1: rng.normal(size=(3, 5)), b1: rng.normal(size=5),
          W2: rng.normal(size=(5, 2)), b2: rng.normal(size=2), Y: rng.normal(size=(4, 2))}
    return X, W1, b1, W2, b2, Y, at


def test_the_gradient_reads_the_bias_where_the_forward_line_does():
    X, W1, b1, W2, b2, Y, at = _net()
    L = sg.sum((sg.relu(X @ W1 + b1) @ W2 + b2 - Y) ** 2) / 4
    text = sg.derive(L, [W2, b2]).render("unicode")
    assert "  u₂ = u₁ + b₂ − Y" in text.splitlines(), text
    grad = text.split("Gradient:")[1]
    assert "(y @ W₂ + b₂ − Y)/2" in grad and "b₂ + y @ W₂" not in text, text
    # the closed form is the gradient: ∂f/∂b₂ = Σₙ (h @ W₂ + b₂ − Y)/2
    h = np.maximum(at[X] @ at[W1] + at[b1], 0)
    want = ((h @ at[W2] + at[b2] - at[Y]) / 2).sum(axis=0)
    d = sg.derive(L, [W2, b2], at=at)
    value = [val for (_, _, val) in d.steps.gradients][1]
    assert np.allclose(np.asarray(value, dtype=float), want), value


def test_latex_writes_the_same_order():
    X, W1, b1, W2, b2, Y, _ = _net()
    tex = sg.derive(sg.sum(((X @ W1 + b1) @ W2 + b2 - Y) ** 2) / 4, [b2]).render("latex")
    assert "b_{2} + " not in tex, tex
