"""A tensor scaled by a hyperparameter and divided by a scalar reads as a lecture writes it,
λ·b/‖b‖ — in the steps, the Gradient section, the text view, LaTeX and the picture's fan-out label
(symgrad/teaching/render.py `_over`). Until 2026-12-01, eleventh session, SymPy's order printed
b·λ/‖b‖. The value is the finite differences'."""
import numpy as np
import sympy as sp

import symgrad as sg

LAM = sp.Symbol("lambda", positive=True)
W, x, b = sg.tensor("W", (2, 3)), sg.tensor("x", (3,)), sg.tensor("b", (2,))
AT = {W: np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]]), x: np.array([0.7, -0.1, 0.2]), b: np.array([0.25, -0.4]),
      LAM: 0.3}


def _derive(**kw):
    return sg.derive(sg.norm(W @ x + b) ** 2 + LAM * sg.norm(b), [W, b], **kw)


def test_lambda_before_the_tensor_and_the_norm_below():
    d = _derive()
    text = d.render("unicode")
    assert "  ∂f/∂b = 2·(W @ x + b) + λ·b/‖b‖" in text.split("Gradient:\n")[1], text
    step = next(l for l in text.splitlines() if l.startswith("  ∂f/∂b = ∂f/∂u"))
    assert "= ∂f/∂u₁ + λ·b/√u₅ = 2·(W @ x + b) + λ·b/‖b‖    [" in step, step
    assert "df/db = 2*(W @ x + b) + lambda*b/||b||" in d.render("text")
    assert r"\frac{\lambda \cdot b}{\left\lVert b \right\rVert}" in d.latex()
    assert "fan-out: ∂f/∂b = Σ = 2·(W @ x + b) + λ·b/‖b‖" in d.graph().source


def test_a_divisor_of_two_factors_is_bracketed():
    # (λ/2)·b/(N·‖b‖): the divisors together under one bracket, never b/N·‖b‖
    N = sp.Symbol("N", positive=True)
    d = sg.derive(sg.norm(W @ x + b) ** 2 + LAM * sg.norm(b) / N, [b])
    grad = d.render("unicode").split("Gradient:\n")[1]
    assert "λ·b/(N·‖b‖)" in grad, grad


def test_the_value_is_the_gradient():
    d = _derive(at=AT)
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in d.steps.gradients}
    Wv, xv, bv = AT[W], AT[x], AT[b]
    loss = lambda bb: float(np.sum((Wv @ xv + bb) ** 2) + 0.3 * np.linalg.norm(bb))     # noqa: E731
    fd = np.array([(loss(bv + h) - loss(bv - h)) / 2e-6 for h in np.eye(2) * 1e-6])
    assert np.allclose(got["b"], fd, atol=1e-6), (got["b"], fd)
