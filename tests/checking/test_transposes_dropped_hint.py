"""Matrix Cookbook identities claimed with some transposes left out — AB for ∂ tr(AXB)/∂X = AᵀBᵀ,
−X⁻¹abᵀX⁻¹ for ∂ aᵀX⁻¹b/∂X = −X⁻ᵀabᵀX⁻ᵀ — are named, with the matrices that want a transpose.
(No hint fitted them before.) The right forms are checked against torch.autograd first."""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch

import symgrad as sg

from verdicts import wrong

X, A, B = (sp.MatrixSymbol(n, 3, 3) for n in "XAB")
a, b = sp.MatrixSymbol("a", 3, 1), sp.MatrixSymbol("b", 3, 1)


def test_the_cookbook_forms_are_torchs():
    rng = np.random.default_rng(2)
    Av, Bv, Xv = (torch.tensor(rng.normal(size=(3, 3))) for _ in range(3))
    av, bv = torch.tensor(rng.normal(size=(3, 1))), torch.tensor(rng.normal(size=(3, 1)))
    Xt = Xv.clone().requires_grad_(True)
    torch.trace(Av @ Xt @ Bv).backward()
    np.testing.assert_allclose(Xt.grad.numpy(), (Av.T @ Bv.T).numpy(), rtol=1e-10)
    Xt = Xv.clone().requires_grad_(True)
    (av.T @ torch.linalg.inv(Xt) @ bv).sum().backward()
    Xi = torch.linalg.inv(Xv)
    np.testing.assert_allclose(Xt.grad.numpy(), (-Xi.T @ av @ bv.T @ Xi.T).numpy(), rtol=1e-8)
    assert sg.check(sp.Trace(A * X * B), X, A.T * B.T)
    assert sg.check((a.T * X.I * b)[0, 0], X, -X.I.T * a * b.T * X.I.T)


def test_both_transposes_of_tr_AXB_left_out():
    r = wrong(sg.check(sp.Trace(A * X * B), X, A * B), "transposes left out")
    assert "once A and B are exchanged" in r.hint, r.hint


def test_the_inverse_not_transposed():
    r = wrong(sg.check((a.T * X.I * b)[0, 0], X, -X.I * a * b.T * X.I), "transposes left out")
    assert "once X is exchanged with its transpose" in r.hint, r.hint


def test_the_whole_claim_transposed_keeps_its_own_hint():
    r = wrong(sg.check(sp.Trace(A * X * B), X, B * A), "transpose:")
