"""sp.DiagMatrix(v) (the diagonal matrix of a column or a row) and sp.DiagonalOf(M) (the diagonal
of a square M, a column) lower: sg.numeric, sg.grad and sg.hessian of XᵀSX forms, against NumPy
and torch.autograd (they raised "cannot lower DiagMatrix")."""
import numpy as np
import sympy as sp
import torch

import symgrad as sg

X, v, w = sp.MatrixSymbol("X", 4, 3), sp.MatrixSymbol("v", 4, 1), sp.MatrixSymbol("w", 3, 1)
rng = np.random.default_rng(7)
Xv, vv, wv = rng.standard_normal((4, 3)), rng.standard_normal((4, 1)), rng.standard_normal((3, 1))


def test_numeric_of_x_transpose_diag_x():
    got = sg.numeric(X.T * sp.DiagMatrix(v) * X, {X: Xv, v: vv})
    np.testing.assert_allclose(got, Xv.T @ np.diag(vv[:, 0]) @ Xv, rtol=1e-13)


def test_diag_of_a_row_is_the_same_matrix():
    got = sg.numeric(sp.DiagMatrix(v.T), {v: vv})
    np.testing.assert_allclose(got, np.diag(vv[:, 0]), rtol=0)


def test_grad_through_diag_against_torch():
    """f = Σ (Xᵀ diag(v) X)ᵢⱼ wᵢ² … a weighted Gram matrix: gradients in v and in X."""
    f = sg.sum(sp.HadamardProduct(X.T * sp.DiagMatrix(sg.sigmoid(X * w)) * X, w * w.T))
    gv = sg.grad(f, [X, w])
    tX, tw = torch.tensor(Xv, requires_grad=True), torch.tensor(wv, requires_grad=True)
    s = torch.sigmoid(tX @ tw)[:, 0]
    (tX.T @ torch.diag(s) @ tX * (tw @ tw.T)).sum().backward()
    np.testing.assert_allclose(sg.numeric(gv[0], {X: Xv, w: wv}), tX.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(sg.numeric(gv[1], {X: Xv, w: wv}), tw.grad.numpy(), rtol=1e-12)


def test_diagonal_of_a_matrix():
    M = sp.MatrixSymbol("M", 3, 3)
    Mv = rng.standard_normal((3, 3))
    np.testing.assert_allclose(sg.numeric(sp.DiagonalOf(M), {M: Mv}), np.diag(Mv)[:, None], rtol=0)
    g = sg.grad(sg.sum(sp.HadamardPower(sp.DiagonalOf(M), 3)), M)        # 3·diag(M)² on the diagonal
    np.testing.assert_allclose(sg.numeric(g, {M: Mv}), np.diag(3 * np.diag(Mv) ** 2), rtol=1e-13)


def test_hessian_through_diag():
    f = sg.sum(w.T * X.T * sp.DiagMatrix(sp.HadamardPower(v, 2)) * X * w)      # wᵀXᵀ diag(v²) X w
    H = sg.hessian(f, w)
    from oracle import substitute
    want = 2 * Xv.T @ np.diag(vv[:, 0] ** 2) @ Xv
    np.testing.assert_allclose(substitute(H, {X: Xv, v: vv, w: wv}), want, rtol=1e-12)
