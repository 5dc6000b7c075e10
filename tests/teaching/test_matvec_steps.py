"""W @ x of a vector x (shape (n,)) reads as typed: one line u₁ = W @ x (or z = W @ x + b, the bias last as typed), not the
lowering's x.reshape(3, 1), W @ u₁, u₂.reshape(2); its gradients δ @ xᵀ and Wᵀ @ δ without those
reshapes, in the text, the LaTeX and the picture — and the numbers unchanged (central differences)."""
import numpy as np

import symgrad as sg
from picture_parse import node_names
from oracle import central_differences_of

x = sg.tensor("x", (3,))
W = sg.tensor("W", (2, 3))
b = sg.tensor("b", (2,))
c = sg.tensor("c", (2,))
V = sg.tensor("V", (2, 2))
rng = np.random.default_rng(3)
AT = {W: rng.standard_normal((2, 3)), x: rng.standard_normal(3), b: rng.standard_normal(2),
      c: rng.standard_normal(2), V: rng.standard_normal((2, 2))}


def _forward(text):
    return text.split("Forward pass:\n")[1].split("Backward pass")[0]


def test_norm_of_w_x_is_one_line():
    text = sg.derive(sg.sum((W @ x) ** 2), [W, x]).render()
    assert "  u₁ = W @ x\n  u₂ = u₁²\n" in text, text
    assert "reshape" not in text, text
    assert "∂f/∂W = ∂f/∂u₁ · ∂u₁/∂W = ∂f/∂u₁ @ x.T = 2·(W @ x) @ x.T" in text, text
    assert "∂f/∂x = ∂f/∂u₁ · ∂u₁/∂x = W.T @ ∂f/∂u₁ = W.T @ (2·(W @ x))" in text, text


def test_affine_layer_is_one_node_as_in_the_batch_case():
    d = sg.derive(sg.sum(sg.tanh(W @ x + b)), [W, x, b])
    text = d.render()
    assert _forward(text) == "  z = W @ x + b\n  y = tanh(z)\n  f = y.sum()\n", text
    assert "∂f/∂W = δ · ∂z/∂W = δ @ x.T" in text and "∂f/∂x = δ · ∂z/∂x = W.T @ δ" in text, text
    tex = d.latex()
    assert "reshape" not in tex and "z &= W x + b" in tex, tex


def test_a_named_layer_output_takes_the_product():
    text = sg.derive(sg.sum(sg.tanh(V @ sg.tanh(W @ x + b))), [W, x]).render()
    assert "  z⁽²⁾ = V @ y⁽¹⁾\n" in text and "reshape" not in text, text


def test_docs_gate_sentence():
    text = sg.derive(sg.sum((W @ x + b + c) ** 2), [W, x, b, c], gates="binary").render()
    assert _forward(text).startswith("  u₁ = W @ x + b\n  u₂ = u₁ + c\n"), text
    assert "reshape" not in text


def test_the_picture_draws_no_reshape():
    d = sg.derive(sg.sum((W @ x + b) ** 2), [W, x, b])
    src = d.graph().source
    assert "reshape" not in src, src
    assert not any("reshape" in n for n in node_names(src).values())
    assert "∂f/∂W = ∂f/∂u₁ @ x.T" in src and "∂f/∂x = W.T @ (2·(W @ x + b))" in src, src


def test_values_and_gradients_unchanged():
    Wv, xv, bv = AT[W], AT[x], AT[b]
    d = sg.derive(sg.sum((W @ x + b) ** 2), [W, x, b], at=AT)
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in d.steps.gradients}
    loss = lambda Wa, xa, ba: float(np.sum((Wa @ xa + ba) ** 2))      # noqa: E731
    assert np.allclose(got["W"], central_differences_of(lambda a: loss(a, xv, bv), Wv), atol=1e-6)
    assert np.allclose(got["x"], central_differences_of(lambda a: loss(Wv, a, bv), xv), atol=1e-6)
    assert np.allclose(got["b"], central_differences_of(lambda a: loss(Wv, xv, a), bv), atol=1e-6)
    # the forward line's number is W @ x as a vector of 2, and the printed formulas hold
    defs = {str(s): v for s, _, v in d.steps.definitions}
    assert np.shape(defs["u1"]) == (2,) and np.allclose(defs["u1"], Wv @ xv + bv)
    delta = 2 * (Wv @ xv + bv)
    assert np.allclose(got["W"], np.outer(delta, xv)) and np.allclose(got["x"], Wv.T @ delta)
    text = d.render()
    assert "u₁ = W @ x + b = [" in text and "reshape" not in text, text


def test_a_row_vector_times_a_matrix_reads_as_typed():
    Wr = sg.tensor("W", (3, 2))
    text = sg.derive(sg.sum(sg.tanh(x @ Wr + b)), [Wr, x, b]).render()
    assert _forward(text) == "  z = x @ W + b\n  y = tanh(z)\n  f = y.sum()\n", text
    assert "∂f/∂W = δ · ∂z/∂W = x.T @ δ" in text and "∂f/∂x = δ · ∂z/∂x = δ @ W.T" in text, text
    assert "reshape" not in text


def test_x_times_w_transposed_derives():
    # x @ W.T of a vector x raised IndexError (a transpose of the vector x) until 2026-12-01
    d = sg.derive(sg.sum(x @ W.T), [W, x], at=AT)
    text = d.render()
    assert "  u₁ = x @ W.T = [" in text, text
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in d.steps.gradients}
    assert np.allclose(got["W"], np.outer(np.ones(2), AT[x]))
    assert np.allclose(got["x"], AT[W].T @ np.ones(2))
