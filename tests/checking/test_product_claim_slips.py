"""A Hessian-vector product (Pearlmutter: Hv = ∇ₓ(∇g(x)ᵀv)) or a vector–Jacobian product (Jᵀv =
∇ₓ(u(x)ᵀv)) claimed as a gradient: a wrong one is named — Jv for Jᵀv, Av for (A + Aᵀ)v, the gradient
∇g for Hv (v left out), a factor 2 — where the verdict used to come without a slip."""
import numpy as np
import sympy as sp
import torch

import symgrad as sg

A, W = sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("W", 3, 3)
x, v = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("v", 3, 1)


def hv_of(g):
    return (sg.grad(g, x).T * v)[0, 0]


def test_quadratic_hv_symmetrisation_left_out():
    f = hv_of((x.T * A * x)[0, 0])
    assert sg.check(f, x, (A + A.T) * v)
    for wrong in (A * v, A.T * v):
        r = sg.check(f, x, wrong)
        assert not r and r.hint.kind == "symmetrisation left out", r.hint
        assert "(A + Aᵀ)v" in r.hint.text


def test_quadratic_hv_factor_2_is_named():
    r = sg.check(hv_of((x.T * A * x)[0, 0]), x, 2 * (A + A.T) * v)
    assert not r and "2 times" in r.hint.text, r.hint


def test_vjp_claimed_as_jvp_is_a_transpose():
    u = (W * x).applyfunc(sp.tanh)
    f = (u.T * v)[0, 0]
    J = sg.jacobian(u, x)
    # the oracle: torch's vector–Jacobian product of tanh(W x) is the claim called right
    rng = np.random.default_rng(1)
    Wn, xn, vn = rng.standard_normal((3, 3)), rng.standard_normal((3, 1)), rng.standard_normal((3, 1))
    xt = torch.tensor(xn, requires_grad=True)
    (torch.tanh(torch.tensor(Wn) @ xt) * torch.tensor(vn)).sum().backward()
    sub = {**{W[i, j]: Wn[i, j] for i in range(3) for j in range(3)}, **{x[i, 0]: xn[i, 0] for i in range(3)},
           **{v[i, 0]: vn[i, 0] for i in range(3)}}
    jtv = np.array(sp.Matrix(J.T * sp.Matrix(v)).xreplace(sub).evalf(), dtype=float)
    assert np.allclose(jtv, xt.grad.numpy())
    assert sg.check(f, x, J.T * v)
    r = sg.check(f, x, J * v)
    assert not r and r.hint.kind == "transpose" and "Jv" in r.hint.text, r.hint


def test_logistic_hv_v_left_out():
    X = sp.MatrixSymbol("X", 4, 3)
    y = sp.MatrixSymbol("y", 4, 1)
    g = sg.sum(sg.softplus(X * x) - sp.HadamardProduct(y, X * x))
    r = sg.check(hv_of(g), x, sg.grad(g, x))
    assert not r and r.hint.kind == "v left out", r.hint


def test_gradient_claims_without_a_probe_vector_get_other_hints():
    """A plain ‖Wx‖² gradient written transposed is still the transpose slip of sign_transpose_hints."""
    f = sg.sum(sp.HadamardPower(W * x, 2))
    r = sg.check(f, W, 2 * x * x.T * W.T)
    assert not r and r.hint.kind == "transpose"
