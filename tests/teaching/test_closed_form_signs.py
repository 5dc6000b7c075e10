"""cs231n lecture 4's two-layer net, staged as its NumPy code (h = 1/(1 + exp(−x·w₁)),
y_pred = h·w₂, loss = Σ(y_pred − y)²): the Gradient section's closed form puts the adjoints into
each other and lets the signs meet, x.T @ (u₄⁻² ⊙ u₃ ⊙ (2·(y_pred − y) @ w₂.T)), not
x.T @ (−(−u₄⁻² ⊙ (2·u₅ @ w₂.T)) ⊙ u₃); and a u-node that is a difference of two named values is
written out there, 2·(y_pred − y) (symgrad/teaching/steps.py). Numbers: torch.autograd's."""
import numpy as np
import pytest

import symgrad as sg

torch = pytest.importorskip("torch")


def _two_layer(at=None):
    x, y = sg.tensor("x", (4, 3)), sg.tensor("y", (4, 2))
    w1, w2 = sg.tensor("w1", (3, 5)), sg.tensor("w2", (5, 2))
    h = 1 / (1 + sg.exp(-(x @ w1)))
    y_pred = h @ w2
    names = {sg.tensor("h", (4, 5)): h, sg.tensor("y_pred", (4, 2)): y_pred}
    return sg.derive(sg.sum((y_pred - y) ** 2), [w1, w2], names=names, output_name="loss", at=at), (x, y, w1, w2)


def test_the_signs_meet_in_the_closed_form():
    d, _ = _two_layer()
    text = d.render("unicode")
    gradient = text.split("Gradient:\n")[1]
    assert "  ∂loss/∂w₁ = x.T @ ∂loss/∂u₁ = x.T @ (u₄⁻² ⊙ u₃ ⊙ (2·(y_pred − y) @ w₂.T))\n" in gradient, gradient
    # the difference u₅ = y_pred − y written out, as cs231n's grad_w2 = h.T @ (2·(y_pred − y))
    assert gradient.endswith("  ∂loss/∂w₂ = h.T @ ∂loss/∂y_pred = h.T @ (2·(y_pred − y))"), gradient
    assert "−(−" not in text, text


def test_the_numbers_are_torchs():
    rng = np.random.default_rng(4)
    vals = [rng.normal(size=s) for s in ((4, 3), (4, 2), (3, 5), (5, 2))]
    _, syms = _two_layer()
    d, _ = _two_layer(at=dict(zip(syms, vals)))
    x, y, w1, w2 = (torch.tensor(v, requires_grad=k >= 2) for k, v in enumerate(vals))
    (((1 / (1 + torch.exp(-(x @ w1)))) @ w2 - y) ** 2).sum().backward()
    got = [np.asarray(v, dtype=float) for _, _, v in d.steps.gradients]
    np.testing.assert_allclose(got[0], w1.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[1], w2.grad.numpy(), rtol=1e-10, atol=1e-12)
