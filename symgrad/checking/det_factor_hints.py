"""A Matrix Cookbook claim off by the factor det X, a function of the point rather than a constant
(factor_hints.py names constant ones): the claim C times det X is the gradient T at every point
(∂ det X/∂X written X⁻ᵀ, its factor det X left out), or C is det X times T (∂ log det X/∂X written
det(X)·X⁻ᵀ: the derivative of det X, where the chain rule's 1/det X turns it into X⁻ᵀ). X is a square
matrix that f or the claim takes the determinant of or inverts; or the factor is det of a matrix
expression (det(Xᵀ·X)), or a product of determinants (SymPy writes det(AXB) as det A·det B·det X).

>>> import sympy as sp, symgrad as sg
>>> X = sp.MatrixSymbol('X', 3, 3)
>>> sg.check(sp.det(X), X, X.inv().T).hint.kind
'det factor left out'
>>> sg.check(sp.log(sp.det(X)), X, sp.det(X) * X.inv().T).hint.kind
'derivative of det for that of log det'
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .conditioned_draw import inverted_matrices
from .hint_case import Case, all_same, claim_at_points, differs
from .hint_kind import Hint
from ..teaching.render import show


def _determinants(exprs) -> list:
    """The factors to try, as (det expression, its words, its matrix M or None): det M of every square
    matrix M whose det f or the claim takes, or that they invert (∂ det X/∂X's X⁻ᵀ hints at det X),
    MatrixSymbols first, by name; then each product of determinants f has (SymPy writes det(AXB) as
    det A·det B·det X)."""
    found, seen, products = [], set(), []
    for e in exprs:
        if not isinstance(e, sp.Basic):
            continue
        for node in sp.preorder_traversal(e):
            if isinstance(node, sp.Determinant) and node.args[0] not in seen:
                seen.add(node.args[0])
                found.append(node.args[0])
            if isinstance(node, sp.Mul) and len(node.args) > 1 and all(
                    isinstance(a, sp.Determinant) for a in node.args) and node not in products:
                products.append(node)
    for name in sorted(inverted_matrices(exprs)):
        m = next((s for e in exprs if isinstance(e, sp.Basic) for s in e.free_symbols
                  if getattr(s, "name", None) == name), None)
        if m is not None and m not in seen:
            seen.add(m)
            found.append(m)
    found.sort(key=lambda m: (not isinstance(m, sp.MatrixSymbol), str(m)))
    out = []
    for m in found:
        x = show(m, "unicode")
        out.append((sp.Determinant(m), f"det {x}" if isinstance(m, sp.MatrixSymbol) else f"det({x})", m))
    for prod in products:
        words = "·".join(f"det {show(a.args[0], 'unicode')}" for a in prod.args)
        out.append((prod, words, None))
    return out


def _dets(case: Case, d) -> list | None:
    """The scalar ``d`` at every point (None where a point has several examples)."""
    if any(len(p.examples) != 1 for p in case.points):
        return None
    return [float(v) for v in claim_at_points(case, d)]


def _det_uses(f, M) -> tuple:
    """(how many det M, how many log det M or log |det M|) f has."""
    nodes = list(sp.preorder_traversal(f))
    is_det = lambda e: isinstance(e, sp.Determinant) and e.args[0] == M     # noqa: E731
    dets = sum(map(is_det, nodes))
    logs = sum(isinstance(e, sp.log) and (is_det(e.args[0]) or isinstance(e.args[0], sp.Abs)
                                          and is_det(e.args[0].args[0])) for e in nodes)
    return dets, logs


def det_factor_hint(case: Case):
    if case.claim_expr is None:
        return None
    Cs, Ts = case.C(), case.T()
    if not differs(Cs, Ts):
        return None
    for d_expr, D, M in _determinants([case.f, case.claim_expr])[:6]:
        dets = _dets(case, d_expr)
        if dets is None or any(not np.isfinite(d) or d == 0 for d in dets):
            continue
        X = show(M, "unicode") if M is not None else ""
        n_det, n_log = _det_uses(case.f, M) if M is not None else (1, 0)
        if all_same([c * d for c, d in zip(Cs, dets)], Ts):
            why = (f" (∂ det {X}/∂{X} = det({X})·{X}⁻ᵀ; {X}⁻ᵀ alone is ∂ log det {X}/∂{X})"
                   if isinstance(M, sp.MatrixSymbol) and n_det > n_log else "")
            return Hint("det factor left out",
                        f"the claim times {D} is the gradient: the claim is missing the factor {D}{why}.")
        if all_same(Cs, [d * t for d, t in zip(dets, Ts)]):
            if n_log and n_det == n_log:
                rule = (f": det({X})·{X}⁻ᵀ is ∂ det {X}/∂{X}, the derivative of det {X} itself; the chain rule "
                        f"through the log divides it by det {X}, so ∂ log det {X}/∂{X} = {X}⁻ᵀ"
                        if isinstance(M, sp.MatrixSymbol) else
                        f", the derivative of {D} where that of log {D} belongs (the chain rule through the "
                        f"log divides it by {D})")
                return Hint("derivative of det for that of log det",
                            f"the claim is {D} times the gradient{rule}.")
            return Hint("extra det factor", f"the claim is {D} times the gradient: a factor {D} too many.")
    return None


__all__ = ["det_factor_hint"]
