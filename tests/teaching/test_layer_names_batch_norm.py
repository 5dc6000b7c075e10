"""A layer with a batch norm between its affine map and its activation names the two nodes apart,
as cs231n's affine → batchnorm → relu does: a⁽¹⁾ = x @ W₁ + b₁ (the affine output), z⁽¹⁾ = u + β
(what relu takes, δ⁽¹⁾ = ∂L/∂z⁽¹⁾), never z⁽¹⁾₁ and z⁽¹⁾₂, which read as two neurons or two
entries of one z⁽¹⁾. Two neurons of a scalar layer keep z⁽¹⁾₁ and z⁽¹⁾₂."""
import re

import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _forward(text):
    lines = text.split("Forward pass:")[1].split("Backward pass")[0].splitlines()
    return dict(li.strip().split(" = ", 1) for li in lines if " = " in li)


def test_affine_then_batch_norm_then_relu():
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    w1, b1, g, be, w2, b2 = (sg.tensor("W1", (4, 3)), sg.tensor("b1", (3,)), sg.tensor("gamma", (3,)),
                             sg.tensor("beta", (3,)), sg.tensor("W2", (3, 2)), sg.tensor("b2", (2,)))
    a = x @ w1 + b1
    xhat = (a - a.mean(axis=0)) / sp.sqrt(a.var(axis=0) + 1e-5)
    d = sg.derive(sg.cross_entropy(sg.relu(g * xhat + be) @ w2 + b2, y), [w1, b1, g, be, w2, b2], output_name="L")
    text = d.render("unicode")
    defs = _forward(text)
    assert defs["a⁽¹⁾"] == "x @ W₁ + b₁", defs
    assert defs["h⁽¹⁾"] == "relu(z⁽¹⁾)" and defs["z⁽¹⁾"].endswith("+ β"), defs
    assert not re.search(r"z⁽¹⁾[₁₂]", text), text
    assert "δ⁽¹⁾ = ∂L/∂z⁽¹⁾" in text and "∂L/∂W₁ = ∂L/∂a⁽¹⁾ · ∂a⁽¹⁾/∂W₁" in text


def test_two_neurons_of_a_scalar_layer_keep_their_numbers():
    x1, x2, w1, w2, w3, w4 = sp.symbols("x1 x2 w1 w2 w3 w4")
    d = sg.derive(sp.tanh(w1 * x1 + w2 * x2) + sp.tanh(w3 * x1 + w4 * x2), [w1, w2, w3, w4])
    defs = _forward(d.render("unicode"))
    assert {"z₁", "z₂"} <= set(defs) or {"z⁽¹⁾₁", "z⁽¹⁾₂"} <= set(defs), defs
