"""cs231n's batched two-layer net has labels y: its hidden layer is h⁽¹⁾ = relu(z⁽¹⁾), not y⁽¹⁾ beside
the labels y (two different ys on one slide). A network whose names leave y free keeps 11-785's y⁽ᵏ⁾."""
import re

import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _two_layer(label="y"):
    X, W1, b1 = sg.tensor("X", (N, 4)), sg.tensor("W1", (4, 5)), sg.tensor("b1", (5,))
    W2, b2 = sg.tensor("W2", (5, 3)), sg.tensor("b2", (3,))
    y = sg.tensor(label, (N,), integer=True)
    loss = sg.cross_entropy(sg.relu(X @ W1 + b1) @ W2 + b2, y)
    rng = np.random.default_rng(3)
    at = {X: rng.normal(size=(2, 4)).round(2), W1: rng.normal(size=(4, 5)).round(2), b1: np.zeros(5),
          W2: rng.normal(size=(5, 3)).round(2), b2: np.zeros(3), y: np.array([0, 2])}
    return sg.derive(loss, [W1, b1, W2, b2], output_name="L"), at


def _forward(text):
    lines = text.split("Forward pass:\n")[1].split("Backward pass")[0].splitlines()
    return [l.strip() for l in lines]


def test_labels_named_y_make_the_hidden_layer_h():
    d, _ = _two_layer()
    text = d.render("unicode")
    assert _forward(text) == ["z⁽¹⁾ = X @ W₁ + b₁", "h⁽¹⁾ = relu(z⁽¹⁾)", "z⁽²⁾ = h⁽¹⁾ @ W₂ + b₂",
                              "L = cross_entropy(z⁽²⁾, y)"], text
    assert "y⁽" not in text
    assert "  ∂L/∂W₂ = δ⁽²⁾ · ∂z⁽²⁾/∂W₂ = h⁽¹⁾.T @ δ⁽²⁾" in text, text
    latex = d.latex()
    assert "h^{(1)}" in latex and "y^{(1)}" not in latex, latex
    picture = d.graph().source            # the edge from relu is labelled h⁽¹⁾
    assert "h⁽¹⁾" in picture and "y⁽" not in picture, picture


def test_the_h_line_carries_the_hidden_activations():
    d, at = _two_layer()
    vals = {str(k): v for k, v in at.items()}
    hidden = np.maximum(vals["X"] @ vals["W1"] + vals["b1"], 0)       # the oracle: NumPy's relu layer
    line = next(l for l in d.render("unicode", at=at).splitlines() if l.strip().startswith("h⁽¹⁾ = relu"))
    shown = [float(t.replace("−", "-")) for t in re.findall(r"−?\d+\.?\d*(?:e−?\d+)?", line.split("= ", 2)[2])]
    np.testing.assert_allclose(shown, hidden.ravel(), rtol=1e-3, atol=1e-4)


def test_a_target_y_pred_also_takes_y():
    d, _ = _two_layer("y_pred")
    assert "h⁽¹⁾ = relu(z⁽¹⁾)" in d.render("unicode")


def test_labels_named_d_keep_the_lectures_y():
    d, _ = _two_layer("d")
    text = d.render("unicode")
    assert "y⁽¹⁾ = relu(z⁽¹⁾)" in text and "h⁽" not in text, text


def test_the_relu_note_has_one_bracket_after_its_convention():
    # "(subgradient convention) (elementwise)" read as two asides in a row (twelfth session)
    d, _ = _two_layer()
    text = d.render("unicode")
    assert ("[the derivative of relu is the step H(u), with relu'(0) = 1 (subgradient convention), "
            "elementwise: ∂h⁽¹⁾/∂z⁽¹⁾ = H(z⁽¹⁾)]") in text, text
    assert ") (elementwise)" not in text
