"""sg.hessian / sg.jacobian of matrices and scalars written out from the IR (core/matrix_jacobian.py):
reverse over reverse in one graph, no sp.simplify per entry (13 s for a 4×3 logistic regression's
Hessian, 34 s at 8×3), and the entries still exact — against torch.autograd.functional.hessian."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from oracle import substitute


def _logistic(n, d):
    X, w, y = sp.MatrixSymbol("X", n, d), sp.MatrixSymbol("w", d, 1), sp.MatrixSymbol("y", n, 1)
    one = sp.OneMatrix(n, 1)
    L = sg.sum(sp.HadamardProduct(y, sg.softplus(-X * w)) + sp.HadamardProduct(one - y, sg.softplus(X * w)))
    return X, w, y, L


def _torch_logistic(Xv, yv, b=None):
    tX, ty = torch.tensor(Xv), torch.tensor(yv[:, 0])

    def loss(t):
        z = tX @ t if b is None else tX @ t[:-1] + t[-1]
        return (ty * torch.nn.functional.softplus(-z) + (1 - ty) * torch.nn.functional.softplus(z)).sum()
    return loss


@pytest.fixture
def no_simplify(monkeypatch):
    """sp.simplify made to fail: the Hessian of an ordinary loss must not need it."""
    def refuse(*args, **kwargs):
        raise AssertionError("sp.simplify called (seconds per entry)")
    monkeypatch.setattr(sp, "simplify", refuse)


def test_logistic_regression_hessian_without_simplify_against_torch(no_simplify):
    X, w, y, L = _logistic(8, 3)
    H = sg.hessian(L, w)
    assert H.shape == (3, 3)
    rng = np.random.default_rng(3)
    Xv, wv, yv = rng.standard_normal((8, 3)), rng.standard_normal((3, 1)), rng.uniform(size=(8, 1))
    want = torch.autograd.functional.hessian(_torch_logistic(Xv, yv), torch.tensor(wv[:, 0])).numpy()
    got = substitute(H, {X: Xv, w: wv, y: yv})
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_hessian_over_weights_and_bias_is_one_block_matrix(no_simplify):
    """wrt=[w, b] with w a column and b a scalar: the (d+1)×(d+1) Hessian, w's entries first (it
    raised 'each entry of F must be a scalar')."""
    X, w, y = sp.MatrixSymbol("X", 5, 2), sp.MatrixSymbol("w", 2, 1), sp.MatrixSymbol("y", 5, 1)
    b = sp.Symbol("b")
    z = X * w + b * sp.OneMatrix(5, 1)
    L = sg.sum(sp.HadamardProduct(y, sg.softplus(-z)) + sp.HadamardProduct(sp.OneMatrix(5, 1) - y, sg.softplus(z)))
    H = sg.hessian(L, [w, b])
    assert H.shape == (3, 3)
    rng = np.random.default_rng(4)
    Xv, wv, yv, bv = rng.standard_normal((5, 2)), rng.standard_normal((2, 1)), rng.uniform(size=(5, 1)), 0.3
    want = torch.autograd.functional.hessian(_torch_logistic(Xv, yv, b=True),
                                             torch.tensor(np.append(wv[:, 0], bv))).numpy()
    got = substitute(H, {X: Xv, w: wv, y: yv, b: bv})
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_quadratic_form_hessian_is_exactly_a_plus_a_transpose(no_simplify):
    A, x = sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("x", 3, 1)
    H = sg.hessian((x.T * A * x)[0, 0], x)
    assert H == sp.ImmutableMatrix(3, 3, lambda i, j: A[i, j] + A[j, i])


def test_scalar_hessian_exact_without_simplify(no_simplify):
    x, y = sp.symbols("x y")
    f = x ** 2 * y + y ** 3 + sp.sin(x * y)
    H = sg.hessian(f, [x, y])
    assert sp.expand(H - sp.hessian(f, [x, y])) == sp.zeros(2, 2)



def test_jacobian_of_softmax_layer_without_simplify_against_torch(no_simplify):
    W, x = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1)
    J = sg.jacobian(sg.softmax(W * x), x)
    Wv, xv = np.array([[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]]), np.array([[0.6], [-0.8]])
    want = torch.autograd.functional.jacobian(lambda t: torch.softmax(torch.tensor(Wv) @ t, 0),
                                              torch.tensor(xv[:, 0])).numpy()
    np.testing.assert_allclose(substitute(J, {W: Wv, x: xv}), want, rtol=1e-12, atol=1e-15)


def test_symbolic_size_inside_is_a_shape_error_naming_it():
    """A matrix of symbolic size N inside (X of (N, 3)) cannot be written out entry by entry, on
    either way: it was SymPy's bare ValueError "Matrix with symbolic shape cannot be represented
    explicitly", naming nothing."""
    N = sp.Symbol("N", integer=True, positive=True)
    X, w = sp.MatrixSymbol("X", N, 3), sp.MatrixSymbol("w", 3, 1)
    with pytest.raises(sg.ShapeError, match=r"X has the symbolic shape \(N, 3\).*sg\.grad"):
        sg.hessian(sg.sum(sg.softplus(X * w)), w)
