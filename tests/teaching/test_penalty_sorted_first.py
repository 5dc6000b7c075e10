"""A weight decay that SymPy sorts before the data term — λ·Σ W² + ‖W @ x − y‖² (a Symbol λ, or a
number: 0.1·(W²).sum() sorts first too) — is still written after it, as a lecture writes
L = L_data + L_reg: the loss's sum, the backward steps (the data term's δ first, then the
penalty's), W's fan-out (x's path first) and the Gradient section, 2·(W @ x − y) @ x.T + 2·λ·W
(symgrad/teaching/loss_terms.py). Until 2026-12-01, eleventh session, the penalty came first
wherever there was no cross-entropy to split. The gradient's value is torch.autograd's."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
LAM = sp.Symbol("lambda", positive=True)


def _declare():
    return sg.tensor("W", (2, 3)), sg.tensor("x", (3,)), sg.tensor("y", (2,))


def _line(text, start):
    return next(l for l in text.splitlines() if l.startswith(start))


def _backward(text):
    return text.split("Backward pass")[1].split("Gradient:")[0]


@pytest.mark.parametrize("penalty, shown", [(LAM, "λ"), (0.1, "0.1")], ids=["symbol", "number"])
@pytest.mark.parametrize("typed", ["penalty first", "data first"])
def test_the_data_term_is_written_first(penalty, shown, typed):
    W, x, y = _declare()
    data, reg = sg.norm(W @ x - y) ** 2, penalty * (W ** 2).sum()
    d = sg.derive(reg + data if typed == "penalty first" else data + reg, [W])
    text = d.render("unicode")
    assert text.splitlines()[0] == f"f = ‖W @ x − y‖² + {shown}·(W²).sum()", text.splitlines()[0]
    back = _backward(text)
    # the data term's δ = 2·(W @ x − y) before the penalty's λ·𝟙
    assert back.index("2·(W @ x − y)") < back.index(f"{shown}·𝟙"), back
    step = _line(back, "  ∂f/∂W = ")
    two_lam = "2·λ·W" if shown == "λ" else "0.2·W"
    assert step.endswith(f"= 2·(W @ x − y) @ x.T + {two_lam}") or f"= 2·(W @ x − y) @ x.T + {two_lam}    [" in step, step
    assert step.index("matrix product") < step.index("power rule"), step
    gradient = text.split("Gradient:\n")[1]
    assert _line(gradient, "  ∂f/∂W = ") == f"  ∂f/∂W = 2·(W @ x − y) @ x.T + {two_lam}"


def test_the_reordered_gradient_is_the_same_number():
    W, x, y = _declare()
    rng = np.random.default_rng(3)
    v = dict(W=rng.normal(size=(2, 3)), x=rng.normal(size=3), y=rng.normal(size=2))
    d = sg.derive(0.1 * (W ** 2).sum() + sg.norm(W @ x - y) ** 2, [W], at={W: v["W"], x: v["x"], y: v["y"]})
    T = {k: torch.tensor(a, dtype=torch.float64, requires_grad=k == "W") for k, a in v.items()}
    L = 0.1 * (T["W"] ** 2).sum() + torch.linalg.norm(T["W"] @ T["x"] - T["y"]) ** 2
    L.backward()
    got = {str(w): np.asarray(val, dtype=float) for w, _, val in d.steps.gradients}
    np.testing.assert_allclose(got["W"], T["W"].grad.numpy(), rtol=1e-10)


def test_a_batch_net_reads_its_data_term_first():
    # relu(X @ W₁ + b₁) @ W₂ + b₂ with λ·(ΣW₁² + ΣW₂²) typed first: the mean's steps, then the penalty's
    N = 4
    X, W1, b1 = sg.tensor("X", (N, 3)), sg.tensor("W1", (3, 5)), sg.tensor("b1", (5,))
    W2, b2, Y = sg.tensor("W2", (5, 2)), sg.tensor("b2", (2,)), sg.tensor("Y", (N, 2))
    out = sg.relu(X @ W1 + b1) @ W2 + b2
    d = sg.derive(LAM * (sg.sum(W1 ** 2) + sg.sum(W2 ** 2)) + sg.mean((out - Y) ** 2), [W1, b1, W2, b2])
    text = d.render("unicode")
    assert text.splitlines()[0].startswith("f = ((relu(X @ W₁ + b₁) @ W₂ + b₂ − Y)²).mean() + λ·("), text.splitlines()[0]
    back = _backward(text)
    assert back.index("∂f/∂b₂ = ") < back.index("∂u₁₀/∂u₉ = λ"), back
    gradient = text.split("Gradient:\n")[1]
    assert _line(gradient, "  ∂f/∂W₁ = ").endswith(" + 2·λ·W₁")
    assert _line(gradient, "  ∂f/∂W₂ = ").endswith(" + 2·λ·W₂")


def test_a_scalar_network_is_left_to_its_own_order():
    # every input 0-d (a penalty's λ and a data term's x alike): not split here, read as before
    w, x, y = sp.symbols("w x y")
    d = sg.derive((w * x - y) ** 2 + LAM * w ** 2, [w])
    assert d.render("unicode").splitlines()[0] == "f = (w·x − y)² + λ·w²"
    from symgrad.teaching.loss_terms import split_penalties
    assert split_penalties(d) is d
