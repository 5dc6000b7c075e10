"""cs231n's two-layer net, softmax cross-entropy plus 0.5·reg·(Σ W₁² + Σ W₂²), reads as its
slides and code: the forward pass computes the network and the data loss, then the penalty; the
backward pass does the data loss's steps first, then the penalty's; ∂L/∂W₁ = X.T @ δ⁽¹⁾ + … ·W₁,
the data term first (until 2026-12-01, eleventh session, the penalty of two weights came first in
all three: with the cross-entropy apart, the loss's other term was "all penalties" and left
unsplit). Values: numpy's, the gradient of the loss written out by hand in NumPy."""
import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _net():
    X, y = sg.tensor("X", (N, 4)), sg.tensor("y", (N,), integer=True)
    W1, b1, W2, b2 = sg.tensor("W1", (4, 5)), sg.tensor("b1", (5,)), sg.tensor("W2", (5, 3)), sg.tensor("b2", (3,))
    reg = sp.Symbol("reg", positive=True)
    loss = sg.cross_entropy(sg.relu(X @ W1 + b1) @ W2 + b2, y) + 0.5 * reg * (sg.sum(W1 * W1) + sg.sum(W2 * W2))
    rng = np.random.default_rng(1)
    at = {X: rng.normal(size=(3, 4)), y: np.array([0, 2, 1]), W1: rng.normal(size=(4, 5)), b1: rng.normal(size=5),
          W2: rng.normal(size=(5, 3)), b2: rng.normal(size=3), reg: 0.1, N: 3}
    return loss, [W1, b1, W2, b2], at


def _by_hand(at):
    X, y, W1, b1, W2, b2, reg = list(at.values())[:7]
    n = X.shape[0]
    h = np.maximum(X @ W1 + b1, 0)
    s = h @ W2 + b2
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    ds = p.copy()
    ds[np.arange(n), y] -= 1
    ds /= n
    dh = ds @ W2.T * (X @ W1 + b1 > 0)
    return [X.T @ dh + reg * W1, dh.sum(axis=0), h.T @ ds + reg * W2, ds.sum(axis=0)]


def test_the_forward_pass_computes_the_network_then_the_penalty():
    loss, wrt, at = _net()
    lines = sg.derive(loss, wrt).render("unicode").split("Backward pass")[0].splitlines()
    forward = [l.split(" = ")[0].strip() for l in lines[2:]]
    assert forward[:4] == ["z⁽¹⁾", "h⁽¹⁾", "z⁽²⁾", "u₁"] and forward[-1] == "f", lines
    assert "cross_entropy" in lines[5] and lines[-1] == "  f = u₁ + u₇", lines


def test_the_backward_pass_and_the_gradient_read_the_data_term_first():
    loss, wrt, at = _net()
    d = sg.derive(loss, wrt, at=at)
    text = d.render("unicode")
    steps = [l.split(" = ")[0].strip() for l in text.split("Backward pass")[1].split("Gradient:")[0].splitlines()[1:]]
    assert steps.index("∂f/∂b₁") < steps.index("∂f/∂u₇"), steps      # the net's steps, then the penalty's
    grad = text.split("Gradient:")[1].splitlines()
    assert grad[1].startswith("  ∂f/∂W₁ = X.T @ δ⁽¹⁾ + "), grad
    assert any(l.startswith("  ∂f/∂W₂ = h⁽¹⁾.T @ ") for l in grad), grad
    for (_, _, value), want in zip(d.steps.gradients, _by_hand(at)):
        assert np.allclose(np.asarray(value, dtype=float), want), (value, want)


def test_half_reg_times_two_reads_reg_times_w():
    # 0.5·reg·Σ W² differentiates to 1.0·reg·W (a float 0.5 times 2): cs231n's dW += reg * W, and
    # the text read 1.0·reg·W₁ until 2026-12-01, eleventh session
    loss, wrt, at = _net()
    d = sg.derive(loss, wrt, at=at)
    text, tex = d.render("unicode"), d.render("latex")
    grad = text.split("Gradient:")[1]
    assert "∂f/∂W₁ = X.T @ δ⁽¹⁾ + reg·W₁" in grad and "1.0·" not in text, grad
    assert r"+ \mathit{reg} \cdot W_{1}" in tex and r"1.0 \cdot" not in tex, tex
    a, b, lam = sp.symbols("a b lambda")
    scalar = sg.derive(0.5 * lam * (a ** 2 + b ** 2), [a, b], at={a: 1, b: 2, lam: 3}).render("unicode")
    line = scalar.split("Gradient:")[1].splitlines()[1]
    assert line.startswith("  ∂f/∂a = ") and "1.0" not in line and line.endswith(" = 3"), scalar    # λ·a = 3·1


def test_a_hidden_layer_named_h_keeps_the_logits_named():
    # cs231n names the hidden layer h: names={h: relu(X @ W1 + b1)} wrote the logits out,
    # δ⁽²⁾ = (softmax(h @ W₂ + b₂, axis=1) − one_hot(y, 3))/N, though the forward pass defines
    # z⁽²⁾ = h @ W₂ + b₂ and the unnamed net reads softmax(z⁽²⁾) (until 2026-12-01, eleventh session)
    loss, wrt, at = _net()
    X, W1, b1 = next(iter(at)), wrt[0], wrt[1]
    h = sg.tensor("h", (N, 5))
    d = sg.derive(loss, wrt, names={h: sg.relu(X @ W1 + b1)}, at=at)
    text = d.render("unicode")
    assert "  h = relu(z⁽¹⁾)" in text and "  z⁽²⁾ = h @ W₂ + b₂" in text, text
    assert "softmax(h @ W₂" not in text, text
    grad = text.split("Gradient:")[1]
    assert "∂f/∂W₂ = h.T @ ((softmax(z⁽²⁾, axis=1) − one_hot(y, 3))/N) + reg·W₂" in grad, grad
    assert r"\operatorname{softmax}_{\text{axis}=1}\left(h W_{2}" not in d.render("latex")
    for (_, _, value), want in zip(d.steps.gradients, _by_hand(at)):
        assert np.allclose(np.asarray(value, dtype=float), want), (value, want)
