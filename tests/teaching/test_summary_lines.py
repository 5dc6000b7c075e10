"""str(d)'s summary lines (f and its gradients, above the steps) read as the steps do: the Gradient
section's closed form with the forward pass's names put back, in the user's symbols
(symgrad/teaching/derivation.py `_in_user_symbols`). A literal class label's ∂L/∂b₂ is
softmax(…) − one_hot(1), as its step — not sg.grad's [[0], [−1], [0]] + softmax(…) (until
2026-11-30, ninth session); the sigmoid neuron's circuit x₀·σ(s)·(1 − σ(s)), as the Gradient
section, not exp(−w₂ − …)/(1 + exp(…))²."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
HEAD = "softmax(W₂·relu(W₁·x + b₁) + b₂)"


def _summary(d):
    return str(d).split("\n\n")[0].splitlines()


def _b2(d):
    return next(l for l in _summary(d) if l.startswith("∂L/∂b₂ = "))


@pytest.mark.parametrize("scale, label, want", [
    (1, 1, f"{HEAD} − one_hot(1)"),
    (0.5, 1, f"0.5·({HEAD} − one_hot(1))"),
    (sp.Rational(1, 4), 2, f"(1/4)·({HEAD} − one_hot(2))"),
])
def test_a_literal_label_reads_softmax_minus_its_one_hot(scale, label, want):
    net = sg.mlp([4, 5, 3])
    d = sg.derive(scale * sg.cross_entropy(net.output, label), net.params)
    assert _b2(d) == f"∂L/∂b₂ = {want}", _summary(d)
    assert "[[" not in "\n".join(_summary(d))
    # the fact the line states: ∂L/∂b₂ = scale·(softmax(z) − e_k), at a random point (sg.grad's numbers)
    rng = np.random.default_rng(1)
    at = {p: rng.normal(size=p.shape) for p in net.params}
    at[net.input] = rng.normal(size=net.input.shape)
    W1, b1, W2, b2 = (np.asarray(at[p], float) for p in net.params)
    z = W2 @ np.maximum(W1 @ np.asarray(at[net.input], float) + b1, 0) + b2
    s = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    e = np.zeros_like(s)
    e[label] = 1
    np.testing.assert_allclose(np.asarray(sg.numeric(sg.grad(d.f, net.params[3]), at), float).reshape(-1),
                               (float(scale) * (s - e)).reshape(-1), rtol=1e-9)


def test_a_target_over_n_reads_its_delta_once():
    net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
    d = sg.derive(sg.cross_entropy(net.output, t) / N, net.params, given={sg.sum(t): 1})
    assert _b2(d) == f"∂L/∂b₂ = 1/N·({HEAD} − t)", _summary(d)


def test_the_sigmoid_circuit_reads_sigma_as_its_gradient_section():
    w0, x0, w1, x1, w2 = sp.symbols("w0 x0 w1 x1 w2")
    s = sp.Add(sp.Add(w0 * x0, w1 * x1, evaluate=False), w2, evaluate=False)
    d = sg.derive(1 / (1 + sp.exp(sp.Mul(-1, s, evaluate=False))), [w0, w2])
    lines = _summary(d)
    assert lines[1] == "∂f/∂w₀ = x₀·σ(w₀·x₀ + w₁·x₁ + w₂)·(1 − σ(w₀·x₀ + w₁·x₁ + w₂))", lines
    assert lines[2] == "∂f/∂w₂ = σ(w₀·x₀ + w₁·x₁ + w₂)·(1 − σ(w₀·x₀ + w₁·x₁ + w₂))", lines


def test_a_name_the_forward_pass_defines_is_written_out():
    x, y, z, q = sp.symbols("x y z q")
    d = sg.derive((x + y) * z, [x, z], names={q: x + y})
    assert _summary(d) == ["f = z·(x + y)", "∂f/∂x = z", "∂f/∂z = x + y"]
