"""A joint Hessian claim: sg.check(f, [w, b], H) with H the (n+1)×(n+1) matrix of blocks, as
sg.hessian(f, [w, b]) returns it (logistic regression with a bias)."""
import re

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.core.evaluate import numeric


def _logistic_with_bias():
    X, w, y = sp.MatrixSymbol('X', 4, 2), sp.MatrixSymbol('w', 2, 1), sp.MatrixSymbol('y', 4, 1)
    b, one = sp.Symbol('b'), sp.OneMatrix(4, 1)
    z = X * w + b * one
    L = sg.sum(sp.HadamardProduct(y, sg.softplus(-z)) + sp.HadamardProduct(one - y, sg.softplus(z)))
    s = sg.sigmoid(z)
    S = sp.DiagMatrix(sp.HadamardProduct(s, one - s))
    H = sp.BlockMatrix([[X.T * S * X, X.T * S * one], [one.T * S * X, one.T * S * one]])
    return L, X, w, b, y, one, S, H


def test_the_block_hessian_is_torchs_and_equal():
    L, X, w, b, y, one, S, H = _logistic_with_bias()
    rng = np.random.default_rng(3)
    Xv, yv, wv, bv = rng.normal(size=(4, 2)), rng.uniform(size=(4, 1)), rng.normal(size=(2, 1)), 0.4
    Xt, yt = torch.tensor(Xv), torch.tensor(yv)

    def loss(theta):                        # θ = (w, b), torch's own softplus
        z = Xt @ theta[:2].reshape(2, 1) + theta[2]
        return (yt * torch.nn.functional.softplus(-z) + (1 - yt) * torch.nn.functional.softplus(z)).sum()
    want = torch.autograd.functional.hessian(loss, torch.tensor([*wv[:, 0], bv])).numpy()
    got = numeric(sp.ImmutableMatrix(H.as_explicit()), {X: Xv, y: yv, w: wv, b: bv})
    np.testing.assert_allclose(np.asarray(got, float), want, rtol=1e-10)
    r = sg.check(L, [w, b], H)
    assert bool(r), r
    assert "Hessian" in r.method
    assert sg.check(L, [w, b], sg.hessian(L, [w, b]))


def test_the_cross_blocks_left_out_are_not_equal_and_point_at_w_and_b():
    L, X, w, b, y, one, S, H = _logistic_with_bias()
    r = sg.check(L, [w, b], sp.BlockMatrix([[X.T * S * X, sp.ZeroMatrix(2, 1)],
                                            [sp.ZeroMatrix(1, 2), one.T * S * one]]))
    assert not r
    i, j = r.counterexample.index
    assert {i, j} & {2} and {i, j} & {0, 1}, r.counterexample.index    # a (w, b) cross entry
    assert re.search(r"∂²f/∂(b∂w[₀₁]|w[₀₁]∂b)", str(r)), str(r)           # the entry named by w's and b's
    assert np.shape(r.counterexample.point["w"]) == (2, 1) and np.ndim(r.counterexample.point["b"]) == 0


def test_the_weight_left_out_of_a_joint_hessian_is_named():
    L, X, w, b, y, one, S, H = _logistic_with_bias()
    r = sg.check(L, [w, b], sp.BlockMatrix([[X.T * X, X.T * one], [one.T * X, one.T * one]]))
    assert not r and r.hint.kind == "weight left out"


def test_at_fixes_w_and_b_of_a_joint_claim():
    L, X, w, b, y, one, S, H = _logistic_with_bias()
    wrong = sp.BlockMatrix([[X.T * S * X, sp.ZeroMatrix(2, 1)], [sp.ZeroMatrix(1, 2), one.T * S * one]])
    r = sg.check(L, [w, b], wrong, at={w: np.array([[1.0], [-2.0]]), "b": 0.25})
    assert not r
    np.testing.assert_array_equal(r.counterexample.point["w"], [[1.0], [-2.0]])
    assert r.counterexample.point["b"] == 0.25


def test_a_single_matrix_claim_of_the_wrong_shape_for_w_b_still_asks_for_one_claim_each():
    L, X, w, b, y, one, S, H = _logistic_with_bias()
    with pytest.raises(sg.SymgradError, match="one claimed expression for 2 wrt"):
        sg.check(L, [w, b], X.T * X)


def test_a_joint_claim_over_the_size_limit_asks_for_one_claim_each():
    w, b = sp.MatrixSymbol('w', 40, 1), sp.Symbol('b')
    f = (w.T * w)[0, 0] + b ** 2
    with pytest.raises(sg.SymgradError, match="one claimed expression for 2 wrt"):
        sg.check(f, [w, b], sp.Identity(41) * 2)
