"""A Hessian claim's check lowers symgrad's Hessian and the claim once, not at every point; and
symgrad's Hessian once for a problem, not again for each student's claim of the same f."""
import sympy as sp

import symgrad as sg
import symgrad.core.lower as lowering
from symgrad.checking.jacobian_claims import _lowered


def _logistic():
    X, w, y = sp.MatrixSymbol('X', 8, 3), sp.MatrixSymbol('w', 3, 1), sp.MatrixSymbol('y', 8, 1)
    one = sp.OneMatrix(8, 1)
    L = sg.sum(sp.HadamardProduct(y, sg.softplus(-X * w)) + sp.HadamardProduct(one - y, sg.softplus(X * w)))
    s = sg.sigmoid(X * w)
    return L, w, X.T * sp.DiagMatrix(sp.HadamardProduct(s, one - s)) * X, X


def _lowerings(monkeypatch, points, claim_of, fresh=True):
    calls = []
    real = lowering.lower

    def counted(*a, **k):
        calls.append(a[0])
        return real(*a, **k)
    monkeypatch.setattr(lowering, "lower", counted)
    if fresh:
        _lowered.cache_clear()
    L, w, claim, X = _logistic()
    result = sg.check(L, w, claim_of(claim, X), points=points)
    monkeypatch.setattr(lowering, "lower", real)
    return result, len(calls)


def test_right_hessian_lowers_as_often_at_two_points_as_at_six(monkeypatch):
    r2, n2 = _lowerings(monkeypatch, 2, lambda c, X: c)
    r6, n6 = _lowerings(monkeypatch, 6, lambda c, X: c)
    assert bool(r2) and bool(r6)
    assert n6 == n2, (n2, n6)


def test_wrong_hessian_still_named_and_lowered_once(monkeypatch):
    # XᵀX: the weight S = diag(σ(1 − σ)) left out; the slip search evaluates more, still from one lowering
    r2, n2 = _lowerings(monkeypatch, 2, lambda c, X: X.T * X)
    r6, n6 = _lowerings(monkeypatch, 6, lambda c, X: X.T * X)
    assert not r2 and not r6
    assert r2.hint.kind == r6.hint.kind == "weight left out"
    assert n6 == n2, (n2, n6)


def test_a_second_claim_of_the_same_f_lowers_only_the_claim(monkeypatch):
    """An autograder checks one f against many claims: the first check lowers the Hessian, ∇f and the
    claim (3), the next ones the claim alone."""
    r1, n1 = _lowerings(monkeypatch, 3, lambda c, X: c)
    r2, n2 = _lowerings(monkeypatch, 3, lambda c, X: 2 * c, fresh=False)
    assert bool(r1) and not r2 and r2.hint.kind == "constant factor"
    assert (n1, n2) == (3, 1), (n1, n2)
