"""A square matrix that f or the claim inverts or takes the determinant of is drawn well conditioned
(condition number ≤ 10·n; det X > 0 where det X is logged), the method text says so, and the
verdicts of the four Cookbook identities of docs/checking.md are the same at 20 seeds, quickly. The
condition numbers and determinants are computed here with NumPy, not taken from symgrad."""
from __future__ import annotations

import time

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.checking.sampling import Sampler
from symgrad.core.differentiate import differentiate

X, A, B = (sp.MatrixSymbol(n, 3, 3) for n in "XAB")
a, b = sp.MatrixSymbol("a", 3, 1), sp.MatrixSymbol("b", 3, 1)
Xi = X.inv()

# f, the Cookbook's ∂f/∂X, a slip, its hint's kind
COOKBOOK = {
    "log det X": (sp.log(sp.det(X)), Xi.T, Xi, "transpose"),
    "det X": (sp.det(X), sp.det(X) * Xi.T, Xi.T, "det factor left out"),
    "aT X^-1 b": (sg.sum(a.T * Xi * b), -Xi.T * a * b.T * Xi.T, Xi.T * a * b.T * Xi.T, "flipped sign"),
    "tr(A X^-1 B)": (sp.Trace(A * Xi * B), -(Xi * B * A * Xi).T, -(Xi * B * A * Xi), "transpose"),
}


@pytest.mark.parametrize("name", list(COOKBOOK))
def test_drawn_matrices_are_well_conditioned(name):
    f = COOKBOOK[name][0]
    D = differentiate(f, [X])
    inputs = sorted((s for s in f.free_symbols if s != X), key=lambda s: s.name)
    conds, dets = [], []
    for seed in range(20):
        s = Sampler(f, D, [X], inputs, {}, None, np.random.default_rng(seed), None)
        for p in s.points(3):
            conds.append(np.linalg.cond(p.params["X"]))
            dets.append(np.linalg.det(p.params["X"]))
            # the other matrices are drawn as before: not conditioned
            assert all(n not in s.conditioned for n in "ABab")
    assert max(conds) <= 30, max(conds)
    if name == "log det X":
        assert min(dets) > 0


@pytest.mark.parametrize("name", list(COOKBOOK))
def test_cookbook_verdicts_are_stable_over_seeds_and_quick(name):
    f, right, slip, kind = COOKBOOK[name]
    t0 = time.perf_counter()
    for seed in range(20):
        r = sg.check(f, X, right, seed=seed)
        assert r.verdict == "equal", (seed, str(r))
        assert "X drawn well conditioned" in r.method, r.method
        w = sg.check(f, X, slip, seed=seed)
        assert w.verdict == "not equal" and w.hint.kind == kind, (seed, w.hint)
    assert time.perf_counter() - t0 < 60      # about 1 s unloaded


def test_a_matrix_only_the_claim_inverts_is_conditioned_too():
    r = sg.check(sp.Trace(A * X), X, Xi.T * A.T * X.T, seed=0)      # Aᵀ conjugated: a slip
    assert r.verdict == "not equal" and "X drawn well conditioned" in r.method, r.method


def test_a_given_matrix_is_not_redrawn():
    at = {X: 2.0 * np.eye(3) + 0.1 * np.arange(9.0).reshape(3, 3)}
    r = sg.check(sp.log(sp.det(X)), X, Xi.T, at=at)
    assert r.verdict == "equal" and "well conditioned" not in r.method, r.method


def test_a_matrix_with_an_interval_keeps_it():
    r = sg.check(sp.log(sp.det(X)), X, Xi.T, assumptions={X: (1.0, 2.0)}, seed=0)
    assert "well conditioned" not in r.method, r.method
