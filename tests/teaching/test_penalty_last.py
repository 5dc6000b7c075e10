"""∂L/∂W of L = L_data + L_reg writes the data term first and the penalty's share after it, as
cs231n's code adds them (dW = x.T @ dscores; dW += reg·W) and the slides write ∇W = xᵀδ + λW:
in the step's chain, its note, the Gradient section (tensor and MatrixSymbol networks alike;
symgrad/teaching/loss_terms.py `uses_in_turn`, `penalty_last`). Until 2026-11-30, ninth session,
the penalty came first (0.1·W + x.T @ δ). The numbers are torch.autograd's."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
N, D, C, REG = 4, 5, 3, 0.1


def _tensor_loss():
    x, W, b = sg.tensor("x", (N, D)), sg.tensor("W", (D, C)), sg.tensor("b", (C,))
    y = sg.tensor("y", (N,), integer=True)
    return sg.cross_entropy(x @ W + b, y) + 0.5 * REG * sg.sum(W * W), (x, W, b, y)


def _line(text, start):
    return next(l for l in text.splitlines() if l.startswith(start))


def test_the_tensor_steps_take_the_data_term_first():
    L, (x, W, b, y) = _tensor_loss()
    rng = np.random.default_rng(7)
    v = dict(x=rng.normal(size=(N, D)), W=rng.normal(size=(D, C)), b=rng.normal(size=C), y=np.array([2, 0, 1, 1]))
    d = sg.derive(L, [W, b], output_name="L", at={x: v["x"], W: v["W"], b: v["b"], y: v["y"]})
    text = d.render("unicode")
    step = _line(text, "  ∂L/∂W = ")
    assert step.startswith("  ∂L/∂W = δ · ∂z/∂W + ∂L/∂u₂ · ∂u₂/∂W = x.T @ δ + 0.1·W = "), step
    note = step.split("    [", 1)[1]
    assert "(in z, u₂)" in note and note.index("matrix product") < note.index("power rule"), note
    gradient = text.split("Gradient:\n")[1]
    assert _line(gradient, "  ∂L/∂W = ").startswith("  ∂L/∂W = x.T @ ((softmax(z, axis=1) − one_hot(y, 3))/4) + 0.1·W")
    assert r"= x^{T} \delta + 0.1 W" in d.latex()
    # the value is the gradient's, whichever order prints: torch.autograd's
    T = {k: torch.tensor(a, dtype=torch.float64, requires_grad=k in ("W", "b")) for k, a in v.items()}
    loss = torch.nn.functional.cross_entropy(T["x"] @ T["W"] + T["b"], T["y"].long()) \
        + 0.5 * REG * (T["W"] ** 2).sum()
    loss.backward()
    (_, _, gW), (_, _, gb) = d.steps.gradients
    np.testing.assert_allclose(np.asarray(gW, float), T["W"].grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(np.asarray(gb, float), T["b"].grad.numpy(), rtol=1e-9)


def test_a_matrix_networks_gradient_section_takes_the_data_term_first():
    net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
    W1 = net.params[0]
    lam = sp.Rational(1, 20)
    d = sg.derive(sg.cross_entropy(net.output, t) + lam * sg.sum(sp.HadamardPower(W1, 2)), net.params,
                  given={sg.sum(t): 1})
    text = d.render("unicode")
    assert "  ∂L/∂W₁ = δ⁽¹⁾ · ∂z⁽¹⁾/∂W₁ + ∂L/∂u₂ · ∂u₂/∂W₁ = δ⁽¹⁾·xᵀ + (1/10)·W₁    [" in text
    gradient = _line(text.split("Gradient:\n")[1], "  ∂L/∂W₁ = ")
    assert gradient.startswith("  ∂L/∂W₁ = δ⁽¹⁾·xᵀ + (1/10)·W₁ = "), gradient
    assert gradient.endswith("·xᵀ + (1/10)·W₁"), gradient
    # the term last is the penalty's: the derivative of λ·Σ W₁∘² entry by entry, 2λ·W₁ (sympy.diff)
    (_, expr, _) = d.steps.gradients[0]
    w = sp.Symbol("w")
    assert expr.args[-1] == sp.diff(lam * w ** 2, w).subs(w, 1) * W1


def test_a_loss_without_a_penalty_is_unchanged():
    x, W = sg.tensor("x", (N, D)), sg.tensor("W", (D, C))
    y = sg.tensor("y", (N,), integer=True)
    text = sg.derive(sg.cross_entropy(x @ W, y), [W], output_name="L").render("unicode")
    assert "  ∂L/∂W = ∂L/∂u₁ · ∂u₁/∂W = x.T @ ∂L/∂u₁ = " in text


def test_the_closed_form_through_a_relu_keeps_the_data_term_first():
    # cs231n's two-layer net with L2 on both weights: the closed form written out through relu's
    # H(z⁽¹⁾) read 0.1·W₁ + X.T @ (…) (the step's H, put in for printing, re-sorted the sum) until
    # 2026-12-01, eleventh session; the named form above it had the data term first
    X, W1, b1 = sg.tensor("X", (N, 3)), sg.tensor("W1", (3, 5)), sg.tensor("b1", (5,))
    W2, b2, y = sg.tensor("W2", (5, C)), sg.tensor("b2", (C,)), sg.tensor("y", (N,), integer=True)
    L = sg.cross_entropy(sg.relu(X @ W1 + b1) @ W2 + b2, y) + 0.5 * REG * (sg.sum(W1 * W1) + sg.sum(W2 * W2))
    rng = np.random.default_rng(5)
    at = {X: rng.normal(size=(N, 3)), W1: rng.normal(size=(3, 5)), b1: rng.normal(size=5),
          W2: rng.normal(size=(5, C)), b2: rng.normal(size=C), y: np.array([0, 2, 1, 2])}
    d = sg.derive(L, [W1, b1, W2, b2], output_name="L", at=at)
    grad = d.render("unicode").split("Gradient:\n")[1]
    assert grad.startswith("  ∂L/∂W₁ = X.T @ δ⁽¹⁾ + 0.1·W₁\n         = X.T @ (H(z⁽¹⁾) ⊙ (") and \
        grad.splitlines()[1].endswith(")) + 0.1·W₁"), grad
    assert r"\right)\right) + 0.1 W_{1}" in d.latex().split("Gradient")[1]
    t = {k: torch.tensor(at[v], dtype=torch.float64, requires_grad=True) for k, v in
         {"W1": W1, "b1": b1, "W2": W2, "b2": b2}.items()}
    Xt = torch.tensor(at[X])
    z = torch.relu(Xt @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    loss = torch.nn.functional.cross_entropy(z, torch.tensor(at[y])) + 0.5 * REG * ((t["W1"] ** 2).sum() + (t["W2"] ** 2).sum())
    loss.backward()
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in d.steps.gradients}
    for k in ("W1", "b1", "W2", "b2"):
        assert np.allclose(got[k], t[k].grad.numpy(), atol=1e-10), k
