"""A sum of the squares of a vector's entries prints as its squared norm, as the notes write
f(x, W) = ‖Wx‖² and ½‖y − t‖² (symgrad/teaching/render.py `squared_norm_of`); a matrix's
sum(W∘²) stays as written. The summary under the header reads as the notes' gradients,
∇_W f = 2Wxxᵀ and ∇_x f = 2WᵀWx (03's worked example)."""
import numpy as np
import sympy as sp

import symgrad as sg

W, x, q = sp.MatrixSymbol("W", 2, 2), sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("q", 2, 1)


def test_norm_wx_reads_as_the_notes():
    d = sg.derive(sg.sum(sp.HadamardPower(W * x, 2)), [W, x], names={q: W * x}, output_name="f")
    head = str(d).split("\n\n")[0].splitlines()
    assert head == ["f = ‖W·x‖²", "∂f/∂W = 2·W·x·xᵀ", "∂f/∂x = 2·Wᵀ·W·x"], head
    assert d.render("text").splitlines()[0] == "f = ||W*x||^2"
    assert r"f &= \left\lVert W x \right\rVert^{2}" in d.latex()
    # the forward pass still computes it as the slide: q = W·x, its square, the sum
    assert "  q = W·x\n  u₁ = q∘²\n  f = sum(u₁)\n" in d.render("unicode")
    # the facts the summary states, at the notes' point: 2Wxxᵀ and 2WᵀWx (numpy, by hand)
    Wv, xv = np.array([[0.1, 0.5], [-0.3, 0.8]]), np.array([[0.2], [0.4]])
    at = {W: Wv, x: xv}
    np.testing.assert_allclose(np.asarray(sg.numeric(sg.grad(d.f, W), at), float), 2 * Wv @ xv @ xv.T)
    np.testing.assert_allclose(np.asarray(sg.numeric(sg.grad(d.f, x), at), float).reshape(2, 1), 2 * Wv.T @ Wv @ xv)


def test_half_the_squared_error_of_a_network():
    net, t = sg.mlp([3, 4, 2]), sp.MatrixSymbol("t", 2, 1)
    d = sg.derive(sg.mse(net.output, t), net.params)
    assert d.render("unicode").splitlines()[0] == "L = ‖W₂·relu(W₁·x + b₁) + b₂ − t‖²/2"


def test_a_matrix_penalty_stays_a_sum_of_squares():
    A = sp.MatrixSymbol("A", 2, 3)
    d = sg.derive(sg.sum(sp.HadamardPower(A, 2)), [A])
    assert d.render("unicode").splitlines()[0] == "L = sum(A∘²)"
