"""A claim right only for a symmetric matrix: ∂ xᵀAx/∂x = 2Ax where (A + Aᵀ)x belongs, ∂ tr(XᵀAX)/∂X =
2AX where (A + Aᵀ)X belongs — the Matrix Cookbook's identities for a symmetric A used for any A.
The claim and the gradient are evaluated again at the check's own points with one square matrix of f
(not the variable) replaced by its symmetric part (S + Sᵀ)/2: equal there at every point, the claim
is right only for a symmetric S. (Until 2026-12-01 this ran the whole check again once per square
matrix, which doubled the time of a wrong claim with no hint.)"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .claims import _eval_claim, fit_shape
from .hint_case import Case, same
from .hint_kind import Hint


def _square_matrices(f, params) -> list:
    """f's square MatrixSymbols (2×2 and up) that are not a checked variable, by name."""
    out = [s for s in f.free_symbols if isinstance(s, sp.MatrixSymbol) and s not in params
           and s.shape[0] == s.shape[1] and s.shape[0].is_Integer and int(s.shape[0]) >= 2]
    return sorted(out, key=lambda s: s.name)


def _right_when_symmetric(case: Case, S) -> bool:
    """The claim is the gradient at every point of the check once S is replaced by (S + Sᵀ)/2."""
    D = case.derivation
    g = D.gradient_vars[case.k]
    if g is None:
        return False

    def symmetric(vals):
        m = np.asarray(vals[S.name], float)
        return {S.name: (m + m.T) / 2}
    for p in case.points:
        t = np.asarray(case.eval_at(p, D.ir, [g], symmetric)[0], float)
        c = p.mean(lambda vals: [np.asarray(_eval_claim(case.claim_expr, {**vals, **symmetric(vals)}), float)])[0]
        c = fit_shape(c, t.shape)
        if c is None or not same(c, t):
            return False
    return True


def symmetric_hint(case: Case):
    if case.claim_expr is None:
        return None
    squares = _square_matrices(case.f, case.params)
    if not squares or len(squares) > 4:
        return None
    for S in squares:
        try:
            if not _right_when_symmetric(case, S):
                continue
        except Exception:   # noqa: BLE001 - a claim that does not evaluate here: no hint
            continue
        a = S.name
        return Hint("right only for a symmetric matrix",
                    f"the claim is the gradient when {a} is symmetric ({a} = {a}ᵀ), not for a general {a}: "
                    f"{a} stands somewhere {a}ᵀ belongs, or the two terms of {a} + {a}ᵀ were merged into 2{a} "
                    f"(∂ xᵀ{a}x/∂x = ({a} + {a}ᵀ)x is 2{a}x only for a symmetric {a}; likewise "
                    f"∂ tr(Xᵀ{a}X)/∂X = ({a} + {a}ᵀ)X).")
    return None


__all__ = ["symmetric_hint"]
