"""A claim right only for a symmetric matrix: ∂ xᵀAx/∂x = 2Ax where (A + Aᵀ)x belongs, ∂ tr(XᵀAX)/∂X =
2AX where (A + Aᵀ)X belongs — the Matrix Cookbook's identities for a symmetric A used for any A.
`check` is run again with one square matrix of f (not the variable) fixed to a symmetric value."""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_case import Case
from .hint_kind import Hint

_busy = []    # symmetric_hint re-runs check, which must not try symmetric_hint again


def _square_matrices(f, params) -> list:
    """f's square MatrixSymbols (2×2 and up) that are not a checked variable, by name."""
    out = [s for s in f.free_symbols if isinstance(s, sp.MatrixSymbol) and s not in params
           and s.shape[0] == s.shape[1] and s.shape[0].is_Integer and int(s.shape[0]) >= 2]
    return sorted(out, key=lambda s: s.name)


def symmetric_hint(case: Case):
    if _busy or case.check is None or case.claim_expr is None:
        return None
    squares = _square_matrices(case.f, case.params)
    if not squares or len(squares) > 4:
        return None
    rng = np.random.default_rng(7)
    for S in squares:
        m = rng.normal(size=tuple(int(d) for d in S.shape))
        _busy.append(S)
        try:
            r = case.check(case.f, case.w, case.claim_expr, at={S.name: (m + m.T) / 2},
                           policy=case.derivation.ir.policy)
        except Exception:                 # a point this re-check cannot draw: no hint
            continue
        finally:
            _busy.pop()
        if r.verdict != "equal":
            continue
        a = S.name
        return Hint("right only for a symmetric matrix",
                    f"the claim is the gradient when {a} is symmetric ({a} = {a}ᵀ), not for a general {a}: "
                    f"{a} stands somewhere {a}ᵀ belongs, or the two terms of {a} + {a}ᵀ were merged into 2{a} "
                    f"(∂ xᵀ{a}x/∂x = ({a} + {a}ᵀ)x is 2{a}x only for a symmetric {a}; likewise "
                    f"∂ tr(Xᵀ{a}X)/∂X = ({a} + {a}ᵀ)X).")
    return None


__all__ = ["symmetric_hint"]
