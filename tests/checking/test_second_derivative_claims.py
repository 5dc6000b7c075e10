"""sg.check of a Hessian or a Jacobian claim (symgrad.checking.jacobian_claims): the verdict against
torch.autograd.functional.hessian / jacobian, and the usual slips of second-order methods named."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

A, x = sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("x", 3, 1)
QUAD = (x.T * A * x)[0, 0]


def test_quadratic_form_hessian_right_and_slips_named():
    assert sg.check(QUAD, x, A + A.T)
    r = sg.check(QUAD, x, A)
    assert not r and r.hint.kind == "symmetrisation left out"
    r = sg.check(QUAD, x, 2 * A)
    assert not r and r.hint.kind == "symmetric A assumed"
    r = sg.check(QUAD, x, 2 * (A + A.T))
    assert not r and r.hint.kind == "constant factor" and "2 times" in r.hint
    assert "the Hessian differs" in repr(r)


def test_hessian_of_gradient_claimed_as_a_jacobian():
    g = sg.grad(QUAD, x)        # an explicit 3×1 Matrix
    assert sg.check(g, x, A + A.T)
    assert not sg.check(g, x, A)


def test_softmax_jacobian_against_torch():
    z = sp.MatrixSymbol("z", 3, 1)
    p = sg.softmax(z)
    J = sp.DiagMatrix(p) - p * p.T
    r = sg.check(p, z, J)
    assert r, r
    zv = np.array([[0.3], [-1.2], [0.8]])
    torch_j = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, 0), torch.tensor(zv[:, 0]))
    claim = np.diag(np.exp(zv[:, 0]) / np.exp(zv[:, 0]).sum())
    pv = np.exp(zv[:, 0]) / np.exp(zv[:, 0]).sum()
    assert np.allclose(claim - np.outer(pv, pv), torch_j.numpy())      # the claim is torch's Jacobian
    r = sg.check(p, z, sp.DiagMatrix(p))
    assert not r and r.hint.kind == "rank-one term left out" and "ppᵀ" in r.hint
    r = sg.check(p, z, p * p.T - sp.DiagMatrix(p))
    assert not r and r.hint.kind == "flipped sign"


def test_jacobian_transposed_shape_named():
    W, v = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("v", 3, 1)
    F = sp.HadamardPower(W * v, 2)
    assert sg.check(F, v, 2 * sp.DiagMatrix(W * v) * W)
    r = sg.check(F, v, 2 * W.T * sp.DiagMatrix(W * v))
    assert not r and r.hint.kind == "transpose"


def test_logistic_regression_hessian_against_torch():
    X, w, y = sp.MatrixSymbol("X", 4, 2), sp.MatrixSymbol("w", 2, 1), sp.MatrixSymbol("y", 4, 1)
    one = sp.OneMatrix(4, 1)
    L = sg.sum(sp.HadamardProduct(y, sg.softplus(-X * w)) + sp.HadamardProduct(one - y, sg.softplus(X * w)))
    s = sg.sigmoid(X * w)
    H = X.T * sp.DiagMatrix(sp.HadamardProduct(s, one - s)) * X
    r = sg.check(L, w, H)
    assert r, r
    rng = np.random.default_rng(1)
    Xv, wv, yv = rng.standard_normal((4, 2)), rng.standard_normal((2, 1)), rng.uniform(size=(4, 1))
    tX, ty = torch.tensor(Xv), torch.tensor(yv[:, 0])

    def loss(t):
        z = tX @ t
        return (ty * torch.nn.functional.softplus(-z) + (1 - ty) * torch.nn.functional.softplus(z)).sum()
    torch_h = torch.autograd.functional.hessian(loss, torch.tensor(wv[:, 0])).numpy()
    sv = 1 / (1 + np.exp(-(Xv @ wv)[:, 0]))
    assert np.allclose(Xv.T @ np.diag(sv * (1 - sv)) @ Xv, torch_h)    # the claim, in NumPy, is torch's
    r = sg.check(L, w, X.T * X)                     # S = diag(σ(1 − σ)) left out
    assert not r and r.hint.kind == "weight left out" and "σ" in r.hint
    assert "∂²f/∂w" in str(r.counterexample)


def test_gauss_newton_part_only_named():
    a, b = sp.MatrixSymbol("a", 3, 1), sp.MatrixSymbol("b", 3, 1)
    v = sp.MatrixSymbol("v", 2, 1)
    M = sp.MatrixSymbol("M", 3, 2)
    r_ = sp.HadamardPower(M * v, 2) - b                # residuals, nonlinear in v
    f = sg.sum(sp.HadamardPower(r_, 2)) / 2
    Jr = 2 * sp.DiagMatrix(M * v) * M
    r = sg.check(f, v, Jr.T * Jr)
    assert not r and r.hint.kind == "Gauss–Newton part only"
    lin = sg.sum(sp.HadamardPower(M * v - b, 2)) / 2   # linear residuals: JᵀJ is the Hessian
    assert sg.check(lin, v, M.T * M)


def test_wrong_claim_shape_for_a_hessian_is_a_clear_error():
    with pytest.raises(sg.ShapeError, match="Jacobian"):
        sg.check(sp.HadamardPower(x, 2), x, sp.MatrixSymbol("B", 2, 2))


def test_the_command_line_checks_a_hessian(capsys):
    from symgrad.cli import main
    code = main(["check", "(x.T*A*x)[0,0]", "--matrix", "A:3x3", "--matrix", "x:3x1", "--wrt", "x",
                 "--claimed", "A"])
    out = capsys.readouterr().out
    assert code == 1 and "symmetrisation left out" in out and "∂²f/∂x" in out
    code = main(["check", "(x.T*A*x)[0,0]", "--matrix", "A:3x3", "--matrix", "x:3x1", "--wrt", "x",
                 "--claimed", "A + A.T"])
    assert code == 0 and capsys.readouterr().out.startswith("equal.")


def test_rosenbrock_hessian_of_scalar_symbols_against_torch():
    xs, ys = sp.symbols("x y")
    f = (1 - xs) ** 2 + 100 * (ys - xs ** 2) ** 2
    H = sp.Matrix([[2 - 400 * (ys - xs ** 2) + 800 * xs ** 2, -400 * xs], [-400 * xs, 200]])
    point = torch.tensor([0.3, -0.7], dtype=torch.float64)
    torch_h = torch.autograd.functional.hessian(
        lambda v: (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2, point).numpy()
    assert np.allclose(np.array(H.subs({xs: 0.3, ys: -0.7}), dtype=float), torch_h)   # H is torch's
    assert sg.check(f, [xs, ys], H)
    assert sg.check(f, sp.Matrix([xs, ys]), H)
    r = sg.check(f, [xs, ys], H.subs(-400 * xs, -200 * xs))
    assert not r and r.hint.kind == "one entry wrong" and "∂²f/∂x∂y" in r.hint and "mirror" in r.hint
    r = sg.check(f, [xs, ys], 2 * H, at={xs: 1, ys: 1})
    assert not r and r.hint.kind == "constant factor"
    assert "at x = 1, y = 1" in str(r.counterexample) and "∂²f/∂x∂x" in str(r.counterexample)


def test_jacobian_of_scalar_functions():
    xs, ys = sp.symbols("x y")
    F = [xs ** 2 * ys, sp.sin(xs)]
    assert sg.check(F, [xs, ys], sp.Matrix([[2 * xs * ys, xs ** 2], [sp.cos(xs), 0]]))
    r = sg.check(F, [xs, ys], sp.Matrix([[2 * xs * ys, sp.cos(xs)], [xs ** 2, 0]]))
    assert not r and r.hint.kind == "transpose"


def test_a_numpy_hessian_function_is_checked_as_one():
    X, w, y = sp.MatrixSymbol("X", 4, 2), sp.MatrixSymbol("w", 2, 1), sp.MatrixSymbol("y", 4, 1)
    one = sp.OneMatrix(4, 1)
    L = sg.sum(sp.HadamardProduct(y, sg.softplus(-X * w)) + sp.HadamardProduct(one - y, sg.softplus(X * w)))

    def hess(v):
        s = 1 / (1 + np.exp(-(v["X"] @ v["w"])[:, 0]))
        return v["X"].T @ np.diag(s * (1 - s)) @ v["X"]

    def gram(v):
        return v["X"].T @ v["X"]

    def gradient(v):
        s = 1 / (1 + np.exp(-v["X"] @ v["w"]))
        return v["X"].T @ (s - v["y"])

    rng = np.random.default_rng(3)
    vals = {"X": rng.standard_normal((4, 2)), "w": rng.standard_normal((2, 1)), "y": rng.uniform(size=(4, 1))}
    tX, ty = torch.tensor(vals["X"]), torch.tensor(vals["y"][:, 0])
    torch_h = torch.autograd.functional.hessian(
        lambda t: (ty * torch.nn.functional.softplus(-(tX @ t))
                   + (1 - ty) * torch.nn.functional.softplus(tX @ t)).sum(), torch.tensor(vals["w"][:, 0]))
    assert np.allclose(hess(vals), torch_h.numpy())         # the function is torch's Hessian
    assert sg.check(L, w, hess)
    r = sg.check(L, w, gram)
    assert not r and r.hint.kind == "weight left out"
    assert sg.check(L, w, gradient, batch=None)             # a gradient function: the gradient check, as before


def test_report_names_the_scalar_variables():
    xs, ys = sp.symbols("x y")
    d = sg.check(xs ** 2 * ys, [xs, ys], sp.Matrix([[ys, 2 * xs], [2 * xs, 0]])).to_dict()
    assert d["wrong"] == ["x", "y"] and d["counterexample"]["variable"] == "x"
    assert d["hint"]["kind"] == "one entry wrong"


def test_a_hessian_claim_of_the_wrong_square_shape_names_the_product_side():
    """‖Mx − c‖²'s Hessian 2MᵀM claimed as 2MMᵀ (4×4 for x 3×1): neither the gradient's nor the
    Hessian's shape, and the product's sides are named. (It said only "cannot be the gradient's".)"""
    import sympy as sp
    import symgrad as sg
    x, M, c = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("M", 4, 3), sp.MatrixSymbol("c", 4, 1)
    f = ((M * x - c).T * (M * x - c))[0, 0]
    assert sg.check(f, x, 2 * M.T * M)
    r = sg.check(f, x, 2 * M * M.T)
    assert not r and r.hint.kind == "shape", r.hint
    assert "nor the Hessian's (3, 3)" in r.hint and "M.T*M is 3×3" in r.hint, r.hint


def _lse_of_affine():
    import sympy as sp
    import symgrad as sg
    x, A, b = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("b", 3, 1)
    p = sg.softmax(A * x + b)
    return sg.logsumexp(A * x + b), x, A, sp.DiagMatrix(p) - p * p.T


def test_the_affine_lse_hessian_is_torchs():
    import numpy as np
    import torch
    import symgrad as sg
    from symgrad.core.evaluate import numeric
    f, x, A, inner = _lse_of_affine()
    rng = np.random.default_rng(4)
    Av, bv, xv = rng.normal(size=(3, 3)), rng.normal(size=(3, 1)), rng.normal(size=(3, 1))
    want = torch.autograd.functional.hessian(
        lambda t: torch.logsumexp(torch.tensor(Av) @ t + torch.tensor(bv[:, 0]), 0), torch.tensor(xv[:, 0])).numpy()
    got = numeric(A.T * inner * A, {"A": Av, "b": bv, "x": xv})
    np.testing.assert_allclose(np.asarray(got, float), want, rtol=1e-10)
    assert sg.check(f, x, A.T * inner * A)


def test_the_affine_lse_hessian_with_its_sides_swapped_or_its_A_left_out():
    """A(…)Aᵀ for Aᵀ(…)A, and the inner Hessian alone, are named (no hint fitted them before)."""
    import symgrad as sg
    f, x, A, inner = _lse_of_affine()
    r = sg.check(f, x, A * inner * A.T)
    assert not r and r.hint.kind == "transposes left out", r.hint
    r = sg.check(f, x, inner)
    assert not r and r.hint.kind == "matrix factor left out" and "A.T·(…)·A" in r.hint, r.hint


def test_a_norms_hessian_with_its_rank_one_term_wrong_is_not_called_left_out():
    """‖x‖'s Hessian (I − xxᵀ/‖x‖²)/‖x‖ claimed with the term's sign flipped or without its 1/‖x‖²:
    "rank-one term wrong"; I/‖x‖ alone is still "left out"."""
    import numpy as np
    import sympy as sp
    import torch
    import symgrad as sg
    from symgrad.core.evaluate import numeric
    x, I = sp.MatrixSymbol("x", 3, 1), sp.Identity(3)
    r = sp.sqrt(sg.sum(sp.HadamardPower(x, 2)))
    right = (I - x * x.T / r ** 2) / r
    xv = np.random.default_rng(6).normal(size=(3, 1))
    want = torch.autograd.functional.hessian(lambda t: torch.linalg.norm(t), torch.tensor(xv[:, 0])).numpy()
    np.testing.assert_allclose(np.asarray(numeric(right, {"x": xv}), float), want, rtol=1e-10)
    assert sg.check(r, x, right)
    for wrong_sign_or_scale in ((I + x * x.T / r ** 2) / r, (I - x * x.T) / r):
        h = sg.check(r, x, wrong_sign_or_scale).hint
        assert h.kind == "rank-one term wrong", h
    assert sg.check(r, x, I / r).hint.kind == "rank-one term left out"


def test_another_rank_one_term_left_out_is_not_called_the_claims_term_wrong():
    """‖x‖ + (aᵀx)²: the claim has ‖x‖'s Hessian right, xxᵀ term and all, and leaves out 2aaᵀ. The
    difference is rank one, but not along the claim's xxᵀ: the term left out, not the one there
    "with the wrong sign or scale"."""
    import numpy as np
    import sympy as sp
    import torch
    import symgrad as sg
    from symgrad.core.evaluate import numeric
    x, a, I = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("a", 3, 1), sp.Identity(3)
    r2 = (x.T * x)[0, 0]
    f = sp.sqrt(r2) + (a.T * x)[0, 0] ** 2
    norm_part = (I - x * x.T / r2) / sp.sqrt(r2)
    rng = np.random.default_rng(7)
    xv, av = rng.normal(size=(3, 1)), rng.normal(size=(3, 1))
    want = torch.autograd.functional.hessian(
        lambda t: torch.linalg.norm(t) + (torch.tensor(av[:, 0]) @ t) ** 2, torch.tensor(xv[:, 0])).numpy()
    got = np.asarray(numeric(norm_part + 2 * a * a.T, {"x": xv, "a": av}), float)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert sg.check(f, x, norm_part + 2 * a * a.T)
    h = sg.check(f, x, norm_part).hint
    assert h.kind == "rank-one term left out", h
