"""Cross-entropy with integer labels over a batch (a two-layer relu network): the steps name the
log-sum-exp u = logsumexp(z⁽²⁾, axis=1), and its gradient exp(z⁽²⁾ − u) is written softmax(z⁽²⁾,
axis=1) in the closed forms, as the slides write δ = (softmax(z) − Y)/N — not exp(z⁽²⁾ − u₁) in one
line and softmax(...) in the next. The numbers are NumPy's own backward of the network."""
import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def test_gradient_section_writes_softmax_of_the_named_logits():
    x, W, b, W2, b2 = (sg.tensor("x", (N, 3)), sg.tensor("W", (3, 2)), sg.tensor("b", (2,)),
                       sg.tensor("W2", (2, 3)), sg.tensor("b2", (3,)))
    y = sg.tensor("y", (N,), integer=True)
    L = sg.cross_entropy(sg.relu(x @ W + b) @ W2 + b2, y)
    rng = np.random.default_rng(0)
    n = 4
    at = {x: rng.normal(size=(n, 3)), W: rng.normal(size=(3, 2)), b: rng.normal(size=2),
          W2: rng.normal(size=(2, 3)), b2: rng.normal(size=3), y: np.array([0, 2, 1, 0])}
    d = sg.derive(L, [W, b, W2, b2], at=at, output_name="L")
    text = d.render("unicode")
    grads = text[text.index("Gradient:"):]
    assert "exp(" not in grads, grads
    assert "softmax(z⁽²⁾, axis=1)" in grads, grads
    # NumPy's backward
    z1 = at[x] @ at[W] + at[b]
    h = np.maximum(z1, 0)
    z2 = h @ at[W2] + at[b2]
    p = np.exp(z2 - z2.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dz2 = (p - np.eye(3)[at[y]]) / n
    dz1 = (dz2 @ at[W2].T) * (z1 >= 0)
    want = {"W": at[x].T @ dz1, "b": dz1.sum(axis=0), "W₂": h.T @ dz2, "b₂": dz2.sum(axis=0)}
    for sym, _, val in d.steps.gradients:
        np.testing.assert_allclose(np.asarray(val, float), want[str(sym).replace("2", "₂")], rtol=1e-9)
