"""A max over symbols or a matrix's entries (`sp.Max`, a max pool written over a MatrixSymbol)
checked at a point with a tie (`symgrad.checking.scalar_ties`): a claim that routes δ to every tied
maximum is no subgradient and must be "not equal" with the max-ties hint, as for tensor layers
(test_max_ties.py). Oracles: one-sided differences along the direction that raises the tied
arguments together (f grows like δ, such a claim says k·δ), and sympy.diff."""
from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg

a, b = sp.symbols("a b", real=True)
x = sp.MatrixSymbol("x", 4, 4)
c = sp.MatrixSymbol("c", 4, 1)
WINDOWS = [[(2 * i + r, 2 * j + s) for r in range(2) for s in range(2)] for i in range(2) for j in range(2)]


def _pool():
    """2×2 max pooling of a 4×4 x, weighted by c: Σ_k c_k · max(window k)."""
    return sum(c[k, 0] * sp.Max(*[x[p] for p in win]) for k, win in enumerate(WINDOWS))


def _every_tied_claim():
    """∂f/∂x[p] = c_k · [x[p] ≥ every other entry of its window]: δ to every tied maximum."""
    rows = [[0] * 4 for _ in range(4)]
    for k, win in enumerate(WINDOWS):
        for p in win:
            rows[p[0]][p[1]] = c[k, 0] * sp.Mul(*[sp.Heaviside(x[p] - x[q], 1) for q in win if q != p])
    return sp.ImmutableMatrix(rows)


def test_scalar_max_every_tied_is_not_equal():
    r = sg.check(sp.Max(a, b), [a, b], [sp.Heaviside(a - b, 1), sp.Heaviside(b - a, 1)])
    assert not r and r.verdict == "not equal" and r.hint.startswith("max ties"), str(r)
    pt = r.counterexample.point
    assert pt["a"] == pt["b"]                       # the counterexample is the tie
    assert "a Max is tied" in r.method


def test_scalar_max_one_argument_at_a_tie_is_right():
    # the policy's side (δ to the first argument) is equal; the other side a valid subgradient
    assert sg.check(sp.Max(a, b), [a, b], [sp.Heaviside(a - b, 1), sp.Heaviside(b - a, 0)]).verdict == "equal"
    r = sg.check(sp.Max(a, b), [a, b], [sp.Heaviside(a - b, 0), sp.Heaviside(b - a, 1)])
    assert r and r.verdict == "equal except at points where f is not differentiable"


def test_matrix_max_pool_every_tied_is_not_equal():
    f = _pool()
    r = sg.check(f, x, _every_tied_claim())
    assert not r and r.hint.startswith("max ties"), str(r)
    xt = np.asarray(r.counterexample.point["x"], float)
    ct = np.asarray(r.counterexample.point["c"], float).ravel()
    # the oracle at the counterexample: a window whose max is tied, f raised along the tied entries
    tied = [(k, [p for p in win if xt[p] == max(xt[q] for q in win)]) for k, win in enumerate(WINDOWS)]
    k, ps = next((k, ps) for k, ps in tied if len(ps) > 1)
    fx = lambda m: sum(ct[j] * max(m[p] for p in win) for j, win in enumerate(WINDOWS))  # noqa: E731
    h, moved = 1e-7, xt.copy()
    for p in ps:
        moved[p] += h
    assert abs((fx(moved) - fx(xt)) / h - ct[k]) < 1e-6 * (1 + abs(ct[k]))
    claimed = np.asarray(r.counterexample.claimed, float)
    assert abs(sum(claimed[p] for p in ps) - len(ps) * ct[k]) < 1e-9


def test_matrix_max_pool_sympy_diff_claim_is_not_called_wrong():
    # sympy.diff's Heaviside(0) = 1/2 splits δ evenly at a tie: a subgradient, not the slip
    f = _pool()
    claim = sp.ImmutableMatrix(4, 4, lambda i, j: sp.diff(f, x[i, j]))
    assert sg.check(f, x, claim)


def _pool_numpy(xv):
    return xv.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(4, 4)    # rows: the windows


def test_numpy_backward_with_a_mask_is_not_equal_and_argmax_is_equal():
    f = _pool()

    def mask_backward(v):           # cs231n's reshape trick: every entry equal to the window's max
        w = _pool_numpy(v["x"])
        d = (w == w.max(axis=1, keepdims=True)) * v["c"].reshape(-1, 4).mean(axis=0)[:, None]
        return d.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(4, 4)

    def argmax_backward(v):         # one arg-max per window (np.argmax: the first in the window)
        w = _pool_numpy(v["x"])
        d = np.zeros_like(w)
        d[np.arange(4), w.argmax(axis=1)] = v["c"].reshape(-1, 4).mean(axis=0)
        return d.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(4, 4)

    r = sg.check(f, x, mask_backward)
    assert not r and r.hint.startswith("max ties"), str(r)
    assert sg.check(f, x, argmax_backward)


def test_no_tie_is_made_from_given_values():
    f = sp.Max(a, b)
    r = sg.check(f, [a, b], [sp.Heaviside(a - b, 1), sp.Heaviside(b - a, 1)], at={"a": 0.3, "b": -0.5})
    assert r and "a Max is tied" not in r.method


def test_every_tied_argument_that_is_still_a_subgradient_is_not_called_wrong():
    # max(0, z) at z = 0: the constant carries no gradient, so δ "to both" is relu'(0) = 1, in
    # the subdifferential [0, 1]; max(w, −w) = |w| at 0: 1 − 1 = 0, in [−1, 1]
    z, w = sp.symbols("z w", real=True)
    r = sg.check(sp.Max(0, z), z, sp.Heaviside(z, 1))
    assert r and "a Max is tied" not in r.method, str(r)
    r = sg.check(sp.Max(w, -w), w, sp.Heaviside(w, 1) - sp.Heaviside(-w, 1))
    assert r and "a Max is tied" not in r.method, str(r)


def test_every_is_a_subgradient_against_the_subdifferential():
    from symgrad.checking.scalar_ties import every_is_a_subgradient
    # shares g1 = truth − none, g2 = every − truth; δ to both is g1 + g2
    assert not every_is_a_subgradient([np.array([1.0, 0.0])], [np.array([1.0, 1.0])], [np.zeros(2)])
    assert every_is_a_subgradient([np.array([0.0])], [np.array([1.0])], [np.array([0.0])])    # max(0, z)
    assert every_is_a_subgradient([np.array([1.0])], [np.array([0.0])], [np.array([0.0])])    # max(w, −w)
    assert not every_is_a_subgradient([np.array([2.0])], [np.array([5.0])], [np.array([0.0])])  # 2 + 3
