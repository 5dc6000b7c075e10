"""Symbolic pictures of tensor layers and their legend (fourth-session trial): a bias broadcast over
the batch had the bare label ∂f/∂b (no gradient) while its weight read ∂f/∂W = x.T @ δ, and the
legend said δₖ = ∂L/∂zₖ for an output named f and for labels written δ⁽²⁾."""
import re

import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _legend(src):
    return re.search(r"gradient ∂[^<]*", src).group()


def test_tensor_bias_edge_carries_its_gradient():
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (4, 3)), sg.tensor("b", (3,))
    src = sg.derive(sg.cross_entropy(x @ W + b, y), [W, b]).graph().source
    assert "∂f/∂b = δ.sum(axis=0)" in src
    assert "∂f/∂W = x.T @ δ" in src
    assert _legend(src) == "gradient ∂f/∂· (below) (δ = ∂f/∂z)"     # the output is f, one layer: one δ


def test_legend_writes_delta_as_the_labels_do():
    net = sg.mlp([3, 4, 4, 2])
    src = sg.derive(sg.mse(net.output, sp.MatrixSymbol("t", 2, 1)), net.params).graph().source
    assert "δ⁽²⁾" in src                                   # the labels' notation ...
    assert _legend(src) == "gradient ∂L/∂· (below) (δ⁽ᵏ⁾ = ∂L/∂z⁽ᵏ⁾)"   # ... is the legend's


def test_conv_layer_labels_name_what_reads_well():
    # 4-d gradients in the names' form where it prints no reshape; the bias, whose form would
    # (the sum of δ over (0, 2, 3) of b.reshape(2, 1, 1)), keeps its bare name
    x, w, b = sg.tensor("x", (N, 1, 5, 5)), sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,))
    src = sg.derive(sg.sum(sg.relu(sg.conv2d(x, w, b)) ** 2), [w, b]).graph().source
    labels = re.findall(r'#c0392b">([^<]*)', src)
    assert "∂f/∂z = H(z) ⊙ ∂f/∂y" in labels and "∂f/∂b" in labels, labels
    assert not any("reshape" in l for l in labels if not l.startswith("∂f/∂y")), labels
