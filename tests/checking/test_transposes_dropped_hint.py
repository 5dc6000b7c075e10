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


def test_a_factor_moved_from_one_end_of_the_product_to_the_other():
    """∂ aᵀXᵀXa/∂X = 2Xaaᵀ claimed as 2aaᵀX: the product rotated, named as the order slip (it had no
    hint: neither a swap of neighbours nor the reversed order fits)."""
    Xv = torch.tensor(np.random.default_rng(3).normal(size=(3, 3)), requires_grad=True)
    av = torch.tensor(np.random.default_rng(4).normal(size=(3, 1)))
    (av.T @ Xv.T @ Xv @ av).sum().backward()
    np.testing.assert_allclose(Xv.grad.numpy(), (2 * Xv @ av @ av.T).detach().numpy(), rtol=1e-10)
    f = sg.sum(a.T * X.T * X * a)
    assert sg.check(f, X, 2 * X * a * a.T)
    r = wrong(sg.check(f, X, 2 * a * a.T * X), "factors in another order")
    assert "2*X*a*a.T" in r.hint, r.hint


def test_a_transpose_exchanged_back_is_said_without_a_double_transpose():
    """Bᵀ in the claim exchanged with its transpose is B, not B.T.T: the gradient the hint shows was
    "2*B.T*B.T.T" for ∂²(xᵀBᵀBx)/∂x² claimed as 2BBᵀ."""
    x = sp.MatrixSymbol("x", 3, 1)
    r = wrong(sg.check((x.T * B.T * B * x)[0, 0], x, 2 * B * B.T), "transposes left out")
    assert ".T.T" not in r.hint and "2*B.T*B" in r.hint, r.hint
