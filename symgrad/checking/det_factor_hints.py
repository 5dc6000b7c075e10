"""A Matrix Cookbook claim off by the factor det X, a function of the point rather than a constant
(factor_hints.py names constant ones): the claim C times det X is the gradient T at every point
(∂ det X/∂X written X⁻ᵀ, its factor det X left out), or C is det X times T (∂ log det X/∂X written
det(X)·X⁻ᵀ: the derivative of det X, where the chain rule's 1/det X turns it into X⁻ᵀ). X is a square
matrix that f or the claim takes the determinant of or inverts.

>>> import sympy as sp, symgrad as sg
>>> X = sp.MatrixSymbol('X', 3, 3)
>>> sg.check(sp.det(X), X, X.inv().T).hint.kind
'factor det X left out'
>>> sg.check(sp.log(sp.det(X)), X, sp.det(X) * X.inv().T).hint.kind
'derivative of det X for that of log det X'
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .conditioned_draw import _base, inverted_matrices
from .hint_case import Case, all_same, differs
from .hint_kind import Hint


def _dets(case: Case, name: str) -> list | None:
    """det of the matrix ``name`` at every point (None where it is not one value per point)."""
    out = []
    for p in case.points:
        vals = {np.asarray(p.example(i).get(name), float).tobytes() for i in range(len(p.examples))}
        v = p.example(0).get(name)
        if v is None or len(vals) != 1:
            return None
        out.append(float(np.linalg.det(np.asarray(v, float))))
    return out


def _det_uses(f, X: str) -> tuple:
    """(how many det X, how many log det X) f has."""
    nodes = list(sp.preorder_traversal(f))
    dets = sum(isinstance(e, sp.Determinant) and getattr(_base(e.args[0]), "name", None) == X for e in nodes)
    logs = sum(isinstance(e, sp.log) and isinstance(e.args[0], sp.Determinant)
               and getattr(_base(e.args[0].args[0]), "name", None) == X for e in nodes)
    return dets, logs


def det_factor_hint(case: Case):
    if case.claim_expr is None:
        return None
    Cs, Ts = case.C(), case.T()
    if not differs(Cs, Ts):
        return None
    found = inverted_matrices([case.f, case.claim_expr])
    for X in sorted(found)[:4]:
        dets = _dets(case, X)
        if dets is None or any(not np.isfinite(d) or d == 0 for d in dets):
            continue
        n_det, n_log = _det_uses(case.f, X)
        if all_same([c * d for c, d in zip(Cs, dets)], Ts):
            why = (f" (∂ det {X}/∂{X} = det({X})·{X}⁻ᵀ; {X}⁻ᵀ alone is ∂ log det {X}/∂{X})"
                   if n_det > n_log else "")
            return Hint(f"factor det {X} left out",
                        f"the claim times det {X} is the gradient: the claim is missing the factor det {X}{why}.")
        if all_same(Cs, [d * t for d, t in zip(dets, Ts)]):
            if n_log and n_det == n_log:
                return Hint(f"derivative of det {X} for that of log det {X}",
                            f"the claim is det {X} times the gradient: det({X})·{X}⁻ᵀ is ∂ det {X}/∂{X}, "
                            f"the derivative of det {X} itself; the chain rule through the log divides it by "
                            f"det {X}, so ∂ log det {X}/∂{X} = {X}⁻ᵀ.")
            return Hint(f"extra factor det {X}",
                        f"the claim is det {X} times the gradient: a factor det {X} too many.")
    return None


__all__ = ["det_factor_hint"]
