"""The Jacobian form of sg.derive (convention="row" / "column") is the view of one example's vectors;
a derivation of tensors is refused by name (its lines read ∂f/∂w = δ · x, shapes that do not fit),
and the steps still print without it. The full Jacobian array of a small tensor layer is sg.jacobian's,
checked here against torch.autograd.functional.jacobian (float64)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
from sympy.tensor.array.expressions import ArrayElement

import symgrad as sg


def _tensor_layer():
    N = sp.Symbol("N", integer=True, positive=True)
    x, w, b = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 2)), sg.tensor("b", (2,))
    return sg.sum(sg.tanh(x @ w + b) ** 2) / N, [w, b]


@pytest.mark.parametrize("convention", ["row", "column"])
def test_the_jacobian_form_of_a_tensor_derivation_is_refused_by_name(convention):
    f, wrt = _tensor_layer()
    d = sg.derive(f, wrt, convention=convention)
    for fmt in ("unicode", "latex", "markdown"):
        with pytest.raises(sg.SymgradError, match=r"Jacobian form .* tensors .*sg\.jacobian\(out, w\)"):
            d.render(fmt)
    assert "steps unavailable: the Jacobian form" in str(d)   # print(d) says why, with f and the gradients
    assert "∂f/∂w" in str(sg.derive(f, wrt))                 # without convention= it prints


def test_the_jacobian_form_of_matrices_still_prints():
    W, x, t = sp.MatrixSymbol("W", 2, 2), sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("t", 2, 1)
    text = str(sg.derive(sg.mse(sg.sigmoid(W * x), t), W, convention="row"))
    assert "Jacobian form" in text and "diag(y·(1 − y))" in text


def test_the_full_jacobian_of_a_small_tensor_layer_is_torchs():
    x, w = sg.tensor("x", (2, 3)), sg.tensor("w", (3, 2))
    J = sg.jacobian(sg.tanh(x @ w), w)
    rng = np.random.default_rng(7)
    xv, wv = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    sub = {ArrayElement(x, i): xv[i] for i in np.ndindex(2, 3)} | {ArrayElement(w, i): wv[i] for i in np.ndindex(3, 2)}
    got = np.array([float(e.xreplace(sub)) for e in np.asarray(J.tolist(), dtype=object).ravel()]).reshape(J.shape)
    want = torch.autograd.functional.jacobian(lambda t: torch.tanh(torch.tensor(xv) @ t), torch.tensor(wv))
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-12)
