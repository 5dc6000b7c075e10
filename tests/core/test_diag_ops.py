"""sp.DiagMatrix(v) and sp.DiagonalOf(M) as one diag / diagonal equation each in a derivation
(2026-12-01, twelfth session): a lecturer's steps read u₂ = v·𝟙, u₃ = I ⊙ u₂ for diag(v), and
sg.grad returned HadamardProduct(x*x.T*W.T, I)*OneMatrix(3, 1) for diag(x·xᵀ·Wᵀ). The expected
lines are written by hand; values against torch.autograd in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.frontend.matrix_diagonal import DiagonalOf

torch = pytest.importorskip("torch")

v, x = sp.MatrixSymbol("v", 3, 1), sp.MatrixSymbol("x", 3, 1)
W = sp.MatrixSymbol("W", 3, 3)
rng = np.random.default_rng(11)
VALS = {"v": rng.normal(size=(3, 1)), "W": rng.normal(size=(3, 3)), "x": rng.normal(size=(3, 1))}


def _torch_grads(f):
    t = {k: torch.tensor(a, requires_grad=True) for k, a in VALS.items()}
    f(**t).backward()
    return {k: a.grad.numpy() for k, a in t.items() if a.grad is not None}


def test_the_steps_read_one_diag_and_its_gradient_the_diagonal():
    text = str(sg.derive(x.T * sp.DiagMatrix(v) * W * x, [v, W]))
    forward = text.split("Forward pass:")[1].split("Backward pass")[0].splitlines()
    assert "  u₂ = diag(v)" in forward and not any("⊙" in line or "𝟙" in line for line in forward), forward
    assert "∂L/∂v = ∂L/∂u₂ · ∂u₂/∂v = diag(∂L/∂u₂) = diag(x·xᵀ·Wᵀ)" in text, text
    assert text.rstrip().endswith("∂L/∂W = diag(v)·x·xᵀ"), text


def test_grad_is_the_diagonal_with_torchs_values():
    gv, gW = sg.grad(x.T * sp.DiagMatrix(v) * W * x, [v, W])
    assert gv == DiagonalOf(x * x.T * W.T) and gW == sp.DiagMatrix(v) * x * x.T
    want = _torch_grads(lambda v, W, x: x.T @ torch.diag(v[:, 0]) @ W @ x)
    np.testing.assert_allclose(np.asarray(sg.numeric(gv, VALS), float), want["v"], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(sg.numeric(gW, VALS), float), want["W"], rtol=1e-12)
    # numbers substituted, as SymPy users do: a column of numbers (SymPy's DiagonalOf stayed unevaluated)
    got = gv.subs({W: sp.Matrix(VALS["W"]), x: sp.Matrix(VALS["x"])}).doit()
    np.testing.assert_allclose(np.asarray(got, float), want["v"], rtol=1e-12)


def test_the_gradient_of_a_diagonal_is_a_diag():
    f = sg.sum(sp.HadamardPower(DiagonalOf(W), 3) * x.T)
    g = sg.grad(f, W)
    assert isinstance(g, sp.DiagMatrix), g
    want = _torch_grads(lambda v, W, x: (torch.diagonal(W)[:, None] ** 3 @ x.T).sum())
    np.testing.assert_allclose(np.asarray(sg.numeric(g, VALS), float), want["W"], rtol=1e-12)


def test_hessian_and_jacobian_write_the_diagonals_out():
    H = sg.hessian(x.T * sp.DiagMatrix(sp.HadamardPower(v, 2)) * x, v)
    assert H == sp.diag(*[2 * x[i, 0] ** 2 for i in range(3)])
    J = sg.jacobian(DiagonalOf(W * W), W)
    Wv = VALS["W"]
    t = torch.tensor(Wv)
    want = torch.autograd.functional.jacobian(lambda M: torch.diagonal(M @ M), t).reshape(3, 9).numpy()
    got = np.asarray(J.subs({W[i, j]: Wv[i, j] for i in range(3) for j in range(3)}), float)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_compiled_step_is_unchanged_and_torchs():
    """sg.compile lowers diag as the broadcast and ewise every backend prints."""
    prog = sg.compile(x.T * sp.DiagMatrix(v) * W * x, params=[v, W], inputs=[x], dtype="float64")
    g = prog.grad({"v": VALS["v"], "W": VALS["W"]}, {"x": VALS["x"].T})
    want = _torch_grads(lambda v, W, x: x.T @ torch.diag(v[:, 0]) @ W @ x)
    np.testing.assert_allclose(g["v"], want["v"], rtol=1e-12)
    np.testing.assert_allclose(g["W"], want["W"], rtol=1e-12)


def test_inverse_and_powers_of_diag_are_entrywise():
    """diag(s)⁻¹ (a diagonal Gaussian's precision) lowers as diag(1/s): its gradient has no general
    inverse in it (it read −Yᵀ·Ȳ·Yᵀ of an n×n inverse), and its values are torch's; diag(v)² is diag(v²)."""
    s, mu = sp.MatrixSymbol("s", 3, 1), sp.MatrixSymbol("mu", 3, 1)
    f = sp.Rational(1, 2) * (x - mu).T * sp.DiagMatrix(s).inv() * (x - mu)
    gmu, gs = sg.grad(f, [mu, s])
    assert not (gmu.atoms(sp.Inverse) | gs.atoms(sp.Inverse)), (gmu, gs)
    assert "  u₅ = diag(u₄)" in str(sg.derive(f, s))
    vals = {"s": rng.uniform(0.5, 2, size=(3, 1)), "mu": rng.normal(size=(3, 1)), "x": VALS["x"]}
    t = {k: torch.tensor(a, requires_grad=True) for k, a in vals.items()}
    (0.5 * (t["x"] - t["mu"]).T @ torch.linalg.inv(torch.diag(t["s"][:, 0])) @ (t["x"] - t["mu"])).sum().backward()
    np.testing.assert_allclose(np.asarray(sg.numeric(gs, vals), float), t["s"].grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(sg.numeric(gmu, vals), float), t["mu"].grad.numpy(), rtol=1e-12)
    prog = sg.compile(f, params=[mu, s], inputs=[x], dtype="float64")
    got = prog.grad({"mu": vals["mu"], "s": vals["s"]}, {"x": vals["x"].T})
    np.testing.assert_allclose(got["s"], t["s"].grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(sg.numeric(sp.DiagMatrix(v) ** 2, VALS), float),
                               np.diag(VALS["v"][:, 0] ** 2), rtol=1e-15)
