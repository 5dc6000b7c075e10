"""A weight's gradient returned transposed is told how to write it in the layout the layer uses:
cs231n's z = x @ W gives dW = x.T @ dz; the slides' z = W·y gives δ·yᵀ (the only words before, which
read backwards for a row-major affine layer)."""
import numpy as np
import sympy as sp

import symgrad as sg

from verdicts import N, wrong


def test_a_row_layout_weight_is_told_x_T_at_dz():
    x, W = sg.tensor("x", (N, 4)), sg.tensor("W", (4, 5))

    def backward(dout, x, W):
        dz = dout * (1 - np.tanh(x @ W) ** 2)
        return dz.T @ x                      # (5, 4): dW transposed
    r = wrong(sg.check_backward(sg.tanh(x @ W), W, backward), "transpose: the claim is the transpose of the gradient")
    assert "for z = x @ W, dW = x.T @ dz, not dz.T @ x" in r.hint, r.hint


def test_a_column_layout_weight_keeps_the_slides_words():
    W, y = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("y", 2, 1)
    r = wrong(sg.check(sg.sum(sp.HadamardPower(W * y, 2)), W, 2 * y * (W * y).T), "transpose")
    assert "for z = W·y, ∂f/∂W = δ·yᵀ, not y·δᵀ" in r.hint, r.hint
