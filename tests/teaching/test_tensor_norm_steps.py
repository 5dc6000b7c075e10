"""A tensor layer's squared norm reads as the lecture writes it (2026-12-01, eleventh session):

- `sg.norm(W @ x + b)**2` is derived as ‖W @ x + b‖² — u₁ = W @ x + b, u₂ = u₁², f = u₂.sum(),
  ∂f/∂u₁ = 2·u₁ — not through the root `sg.norm` writes safe at a zero vector (u₄ = (u₃ if u₃ > 0;
  else 1), u₅ = √u₄, ...);
- a tensor affine form keeps its bias last, W @ x + b, x @ W.T + b, as typed (SymPy sorts b first);
- a vector's sum of squares is its squared norm in the header, as a MatrixSymbol's is;
- the gradient of a sum arriving at a vector is 𝟙, not 𝟙.reshape(2).

Numbers are checked against central differences in float64 and torch.autograd."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from oracle import central_differences_of

W, x, b = sg.tensor("W", (2, 3)), sg.tensor("x", (3,)), sg.tensor("b", (2,))
rng = np.random.default_rng(7)
AT = {W: rng.standard_normal((2, 3)), x: rng.standard_normal(3), b: rng.standard_normal(2)}


def _lines(text, section):
    return text.split(section + ":\n")[1].split(":\n")[0]


def test_squared_norm_of_an_affine_layer_reads_as_the_slide():
    d = sg.derive(sg.norm(W @ x + b) ** 2, [W, b])
    text = d.render("unicode")
    assert text.splitlines()[0] == "f = ‖W @ x + b‖²", text
    assert "Forward pass:\n  u₁ = W @ x + b\n  u₂ = u₁²\n  f = u₂.sum()\nBackward" in text, text
    assert "∂f/∂u₁ = ∂f/∂u₂ · ∂u₂/∂u₁ = 2·u₁ = 2·(W @ x + b)" in text, text
    assert "where" not in text and " if " not in text and "√" not in text, text
    assert d.render("text").splitlines()[0] == "f = ||W @ x + b||^2"
    assert r"f &= \left\lVert W x + b \right\rVert^{2}" in d.latex()
    assert r"\frac{\partial f}{\partial W} &= 2 \left(W x + b\right) x^{T} \\" in d.latex()   # not (2 (W x + b)) xᵀ
    assert str(d).splitlines()[:3] == ["f = ‖W @ x + b‖²", "∂f/∂W = 2·(W @ x + b) @ x.T",
                                       "∂f/∂b = 2·(W @ x + b)"], str(d)


def test_squared_norm_numbers_are_the_gradient():
    Wv, xv, bv = AT[W], AT[x], AT[b]
    d = sg.derive(sg.norm(W @ x + b) ** 2, [W, b], at=AT)
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in d.steps.gradients}
    loss = lambda Wa, ba: float(np.linalg.norm(Wa @ xv + ba) ** 2)      # noqa: E731
    assert np.allclose(got["W"], central_differences_of(lambda a: loss(a, bv), Wv), atol=1e-6)
    assert np.allclose(got["b"], central_differences_of(lambda a: loss(Wv, a), bv), atol=1e-6)


def test_at_a_zero_vector_the_gradient_is_zero_as_torchs():
    at = {W: np.zeros((2, 3)), x: AT[x], b: np.zeros(2)}
    d = sg.derive(sg.norm(W @ x + b) ** 2, [W, b], at=at)
    Wt = torch.zeros((2, 3), dtype=torch.float64, requires_grad=True)
    bt = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    (torch.linalg.vector_norm(Wt @ torch.tensor(AT[x]) + bt) ** 2).backward()
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in d.steps.gradients}
    assert np.array_equal(got["W"], Wt.grad.numpy()) and np.array_equal(got["b"], bt.grad.numpy())
    assert "nan" not in d.render("unicode")


def test_half_the_squared_norm_beside_a_penalty_and_the_fourth_power():
    lam = sp.Symbol("lam", positive=True)
    f = sg.norm(W @ x + b) ** 2 / 2 + lam * sg.norm(b) ** 4
    d = sg.derive(f, [W, b], at={**AT, lam: 0.3})
    text = d.render("unicode")
    assert text.splitlines()[0] == "f = ‖W @ x + b‖²/2 + lam·‖b‖⁴", text        # not ‖b‖²²
    assert d.render("text").splitlines()[0] == "f = ||W @ x + b||^2/2 + lam*||b||^4"
    assert r"\mathit{lam} \cdot \left\lVert b \right\rVert^{4}" in d.latex()
    assert "where" not in text and "broadcast_to" not in text, text
    assert "∂f/∂u₄ = ∂f/∂u₅ · ∂u₅/∂u₄ = ∂f/∂u₅·𝟙 = " in text, text          # a sum hands v·𝟙 to each entry
    assert "4·lam·‖b‖²·b" in text and "⊙ ‖b‖²" not in text, text               # ‖b‖² is a number, no ⊙
    Wv, xv, bv = AT[W], AT[x], AT[b]
    loss = lambda Wa, ba: 0.5 * np.sum((Wa @ xv + ba) ** 2) + 0.3 * np.sum(ba ** 2) ** 2   # noqa: E731
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in d.steps.gradients}
    assert np.allclose(got["W"], central_differences_of(lambda a: loss(a, bv), Wv), atol=1e-6)
    assert np.allclose(got["b"], central_differences_of(lambda a: loss(Wv, a), bv), atol=1e-6)


@pytest.mark.parametrize("power,head,grad", [(1, "f = ‖b‖", "  ∂f/∂b = b/‖b‖ = ["),
                                              (3, "f = ‖b‖³", "  ∂f/∂b = 3·‖b‖·b = [")])
def test_a_norm_reads_as_its_root(power, head, grad):
    # ‖b‖ and ‖b‖³: the root √s of the sum of squares, the slide's ∂‖b‖/∂b = b/‖b‖
    d = sg.derive(sg.norm(b) ** power, [b], at=AT)
    text = d.render("unicode")
    assert text.splitlines()[0] == head and grad in text and "where" not in text, text
    got = np.asarray(d.steps.gradients[0][2], dtype=float)
    assert np.allclose(got, central_differences_of(lambda a: float(np.linalg.norm(a) ** power), AT[b]), atol=1e-6)


def test_a_norm_at_a_zero_vector_keeps_the_root_safe_at_zero():
    # at b = 0 the root's gradient b/‖b‖ is 0/0; sg.norm's (and torch's) is 0: the steps keep it
    d = sg.derive(sg.norm(b), [b], at={b: np.zeros(2)})
    got = np.asarray(d.steps.gradients[0][2], dtype=float)
    bt = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    torch.linalg.vector_norm(bt).backward()
    assert np.array_equal(got, bt.grad.numpy()), got
    assert "nan" not in d.render("unicode")
    # without the point, and at another point, the same derivation reads ‖b‖
    assert d.render("unicode", at={b: np.ones(2)}).splitlines()[0] == "f = ‖b‖"
    assert sg.derive(sg.norm(b), [b]).render("text").splitlines()[-1] == "  df/db = b/||b||"
    assert r"\frac{b}{\left\lVert b \right\rVert}" in sg.derive(sg.norm(b), [b]).latex()


def test_the_bias_stays_last_in_a_tensor_layer():
    X, Wt = sg.tensor("X", (4, 3)), sg.tensor("W", (2, 3))
    d = sg.derive(((X @ Wt.T + b) ** 2).sum(), [Wt, b])
    text = d.render("unicode")
    assert text.splitlines()[0] == "f = ((X @ W.T + b)²).sum()", text      # a matrix: no norm
    assert "  z = X @ W.T + b\n" in text, text
    assert "X W^{T} + b" in d.latex()
    # a sum that is no affine form keeps SymPy's order
    y = sg.tensor("y", (2,))
    assert sg.derive(((W @ x + y * b) ** 2).sum(), [W]).render().splitlines()[0] == "f = ‖b ⊙ y + W @ x‖²"


def test_the_ones_of_a_sum_are_not_reshaped():
    d = sg.derive(sg.sum(x @ W.T), [W, x], at=AT)
    text = d.render("unicode")
    assert "reshape" not in text, text
    assert "∂f/∂u₁ = ∂f/∂f · ∂f/∂u₁ = 𝟙 = [1, 1]" in text, text
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in d.steps.gradients}
    assert np.allclose(got["W"], np.outer(np.ones(2), AT[x])) and np.allclose(got["x"], AT[W].sum(axis=0))


def test_a_weight_decay_beside_a_matrix_vector_product():
    # ∂L/∂W = 2·W + δ @ x.T: the two shares raised IndexError (x.T of a vector) until 2026-12-01,
    # in the steps and in the picture
    lam = sp.Symbol("lam", positive=True)
    f = sg.norm(W @ x + b) ** 2 + lam * (W ** 2).sum()
    d = sg.derive(f, [W, b], at={**AT, lam: 0.1})
    text = d.render("unicode")
    # the data term's share first, as the header (‖W @ x + b‖² + lam·(W²).sum()) and a lecture
    # write them (until 2026-12-01, eleventh session, SymPy's order put the penalty's first);
    # the scalars first: 2·lam·W, not 2·W·lam
    assert "= ∂f/∂u₁ @ x.T + 2·lam·W = 2·(W @ x + b) @ x.T + 2·lam·W = [" in text, text
    assert "df/dW = 2*(W @ x + b) @ x.T + 2*lam*W" in d.render("text")
    assert r"x^{T} + 2 \mathit{lam} \cdot W" in d.latex()
    Wv, xv, bv = AT[W], AT[x], AT[b]
    loss = lambda Wa: float(np.sum((Wa @ xv + bv) ** 2) + 0.1 * np.sum(Wa ** 2))     # noqa: E731
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in d.steps.gradients}
    assert np.allclose(got["W"], central_differences_of(loss, Wv), atol=1e-6)
    src = sg.derive(f, [W, b]).graph().source
    assert "fan-out: ∂f/∂W = Σ = ∂f/∂u₁ @ x.T + 2·lam·W" in src, src


def test_a_matrix_networks_output_sum_reads_as_its_header():
    net, t = sg.mlp([3, 4, 2]), sp.MatrixSymbol("t", 2, 1)
    text = sg.derive(sg.mse(net.output, t), net.params).render("unicode")
    assert text.splitlines()[0] == "L = ‖W₂·relu(W₁·x + b₁) + b₂ − t‖²/2", text
    assert "  u₁ = W₂·y\n  u₂ = u₁ + b₂ − t\n" in text, text       # not b₂ + u₁ − t


def test_the_divergence_of_a_sigmoid_layer_reads_as_the_slides():
    # 11-785's Div = ½‖Y − d‖², Y = σ(W x + b): σ′ = y ⊙ (1 − y), as the scalar σ(z)·(1 − σ(z)) (SymPy
    # orders (1 − y) ⊙ y), and an elementwise product before @ in brackets, as NumPy computes it
    d = sg.tensor("d", (2,))
    D = sg.derive(sg.norm(sg.sigmoid(W @ x + b) - d) ** 2 / 2, [W, b], output_name="Div", at={**AT, d: np.array([0.2, 0.9])})
    text = D.render("unicode")
    assert text.splitlines()[0] == "Div = ‖σ(W @ x + b) − d‖²/2", text
    assert "δ = ∂Div/∂z = ∂Div/∂y · ∂y/∂z = ∂Div/∂y ⊙ y ⊙ (1 − y) = [" in text, text
    assert "∂y/∂z = y ⊙ (1 − y)]" in text, text
    assert "  ∂Div/∂W = δ @ x.T\n          = (y ⊙ (1 − y) ⊙ (y − d)) @ x.T\n" in text, text
    assert "  ∂Div/∂b = δ = y ⊙ (1 − y) ⊙ (y − d) = [" in text, text
    assert str(D).splitlines()[1] == "∂Div/∂W = (σ(W @ x + b) ⊙ (1 − σ(W @ x + b)) ⊙ (σ(W @ x + b) − d)) @ x.T"
    Wv, xv, bv, dv = AT[W], AT[x], AT[b], np.array([0.2, 0.9])
    sig = lambda z: 1 / (1 + np.exp(-z))                                     # noqa: E731
    loss = lambda Wa, ba: 0.5 * float(np.sum((sig(Wa @ xv + ba) - dv) ** 2))   # noqa: E731
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in D.steps.gradients}
    assert np.allclose(got["W"], central_differences_of(lambda a: loss(a, bv), Wv), atol=1e-6)
    assert np.allclose(got["b"], central_differences_of(lambda a: loss(Wv, a), bv), atol=1e-6)


def test_a_norm_in_a_sum_of_three_terms():
    # SymPy flattens ‖W @ x + b‖² + ‖b‖ into one sum of three terms, the root's two among them:
    # until 2026-12-01 the steps read u₃ = (u₂ if u₂ > 0; else 1), ...
    f = sg.norm(W @ x + b) ** 2 + sg.norm(b)
    d = sg.derive(f, [W, b], at=AT)
    text = d.render("unicode")
    # as typed: the penalty ‖b‖ of the parameters alone after the data term (SymPy sorts it first)
    assert text.splitlines()[0] == "f = ‖W @ x + b‖² + ‖b‖", text
    assert "where" not in text and " if " not in text, text
    assert "  ∂f/∂b = 2·(W @ x + b) + b/‖b‖ = [" in text, text
    Wv, xv, bv = AT[W], AT[x], AT[b]
    loss = lambda ba: float(np.sum((Wv @ xv + ba) ** 2) + np.linalg.norm(ba))      # noqa: E731
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in d.steps.gradients}
    assert np.allclose(got["b"], central_differences_of(loss, bv), atol=1e-6)
    # at b = 0 the root safe at 0 is kept: ∂‖b‖/∂b is 0 there (torch's), not 0/0
    zero = sg.derive(f, [W, b], at={**AT, b: np.zeros(2)})
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in zero.steps.gradients}
    assert np.allclose(got["b"], 2 * (Wv @ xv)), got["b"]


def test_the_root_of_a_reduction_is_bracketed():
    # F.normalize's ‖X‖ along axis 1: √((X²).sum(axis=1, keepdims=True)); it printed
    # √(X²).sum(axis=1, keepdims=True), which reads as the sum of √(X²), until 2026-12-01
    X, T = sg.tensor("X", (2, 3)), sg.tensor("T", (2, 3))
    text = sg.derive((sg.normalize(X, axis=1) * T).sum(), [X]).render("unicode")
    assert "max(1e−12, √((X²).sum(axis=1, keepdims=True)))" in text.splitlines()[0], text
    assert "√(X²).sum" not in text, text
