"""A Matrix Cookbook claim off by the factor det X (a function of the point, not a constant) is named:
∂ det X/∂X written X⁻ᵀ (the factor det X left out), ∂ log det X/∂X written det(X)·X⁻ᵀ (the derivative
of det X for that of log det X). The slips are first shown to be what the hints say by torch.autograd
(torch.linalg.det / slogdet, float64) and sympy.diff of an explicit 2×2 determinant."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from oracle import torch_grads

torch = pytest.importorskip("torch")

X = sp.MatrixSymbol("X", 3, 3)
Xi = X.inv()
AT = {X: 2.0 * np.eye(3) + 0.3 * np.random.default_rng(5).normal(size=(3, 3))}


def test_the_slips_are_what_the_hints_say_by_torch():
    x = AT[X]
    d = np.linalg.det(x)
    (g_det,) = torch_grads(lambda x_: torch.linalg.det(x_), [X], AT)
    (g_log,) = torch_grads(lambda x_: torch.linalg.slogdet(x_)[1], [X], AT)
    np.testing.assert_allclose(d * sg.numeric(Xi.T, AT), g_det, rtol=1e-10)      # X⁻ᵀ · det X = ∂ det
    np.testing.assert_allclose(sg.numeric(sp.det(X) * Xi.T, AT), d * g_log, rtol=1e-10)  # = det X · ∂ log det


def test_sympy_diff_of_a_2x2_determinant():
    m = sp.Matrix(2, 2, sp.symbols("p q r s"))
    grad = sp.Matrix(2, 2, lambda i, j: sp.diff(m.det(), m[i, j]))
    assert sp.simplify(grad - m.det() * m.inv().T) == sp.zeros(2, 2)
    assert sp.simplify(grad - m.inv().T) != sp.zeros(2, 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_det_without_its_factor_det_x(seed):
    r = sg.check(sp.det(X), X, Xi.T, seed=seed)
    assert r.verdict == "not equal"
    assert r.hint.kind == "det factor left out", r.hint
    assert "missing the factor det X" in r.hint


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_det_claimed_as_the_derivative_of_det(seed):
    r = sg.check(sp.log(sp.det(X)), X, sp.det(X) * Xi.T, seed=seed)
    assert r.verdict == "not equal"
    assert r.hint.kind == "derivative of det for that of log det", r.hint
    assert "∂ log det X/∂X = X⁻ᵀ" in r.hint


def test_a_constant_factor_is_still_the_constant_factor_hint():
    r = sg.check(sp.log(sp.det(X)), X, 2 * Xi.T, seed=0)
    assert r.verdict == "not equal" and "det" not in r.hint.kind, r.hint


def test_a_det_factor_in_a_larger_expression():
    """f = det X · tr(AX): det X left out of the whole claim is named; left out of one term, it is not."""
    A = sp.MatrixSymbol("A", 3, 3)
    f = sp.det(X) * sp.Trace(A * X)
    right = sp.det(X) * sp.Trace(A * X) * Xi.T + sp.det(X) * A.T
    assert sg.check(f, X, right, seed=0)
    whole = sg.check(f, X, sp.Trace(A * X) * Xi.T + A.T, seed=0)
    assert whole.hint.kind == "det factor left out", whole.hint
    r = sg.check(f, X, sp.det(X) * sp.Trace(A * X) * Xi.T + A.T, seed=0)
    assert r.verdict == "not equal" and (r.hint is None or "det" not in (r.hint.kind or "")), r.hint


def test_det_of_a_product_without_its_factor():
    """∂ det(AXB)/∂X = det(AXB)·X⁻ᵀ (torch); SymPy writes det(AXB) as det A·det B·det X, so the factor is named so."""
    A, B = sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("B", 3, 3)
    rng = np.random.default_rng(2)
    at = {**AT, A: rng.normal(size=(3, 3)), B: rng.normal(size=(3, 3))}
    a_, b_ = torch.tensor(at[A]), torch.tensor(at[B])
    (g,) = torch_grads(lambda x_: torch.linalg.det(a_ @ x_ @ b_), [X], at)
    d = np.linalg.det(at[A] @ at[X] @ at[B])
    np.testing.assert_allclose(d * np.linalg.inv(at[X]).T, g, rtol=1e-10)
    f = sp.det(A * X * B)
    assert sg.check(f, X, f * Xi.T, seed=0)
    r = sg.check(f, X, Xi.T, seed=0)
    assert r.hint.kind == "det factor left out" and "missing the factor det A·det B·det X" in r.hint, r.hint


def test_log_abs_det_claimed_as_the_derivative_of_det():
    """∂ log|det X|/∂X = X⁻ᵀ too (torch's slogdet's log|det|): det(X)·X⁻ᵀ is det's derivative."""
    (g,) = torch_grads(lambda x_: torch.linalg.slogdet(x_)[1], [X], AT)
    np.testing.assert_allclose(sg.numeric(Xi.T, AT), g, rtol=1e-10)
    f = sp.log(sp.Abs(sp.det(X)))
    assert sg.check(f, X, Xi.T, seed=1)
    r = sg.check(f, X, sp.det(X) * Xi.T, seed=1)
    assert r.hint.kind == "derivative of det for that of log det", r.hint
