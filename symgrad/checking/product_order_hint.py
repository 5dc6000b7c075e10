"""A matrix-calculus claim whose matrix product is slipped: its factors in another order, or one
factor of f left out — the Matrix Cookbook's identities as students first write them:

    ∂ tr(AXB)/∂X = AᵀBᵀ         claimed as (AB)ᵀ = BᵀAᵀ        (a transpose of a product not reversed)
    ∂ ‖AX − B‖²/∂X = 2Aᵀ(AX − B)  claimed as 2(AX − B)Aᵀ         (the factor on the wrong side)
                                 claimed as 2(AX − B)            (the inner derivative's Aᵀ left out)
    ∂ tr(X⁻¹A)/∂X = −(X⁻¹AX⁻¹)ᵀ  claimed as −(X⁻¹X⁻¹A)ᵀ

For an expression claim of a matrix variable: each product of the claim with two neighbouring
matrix factors swapped (or its factors reversed), then the whole claim multiplied on the left or the
right by one matrix of f (or its transpose), is compared with the gradient at the check's points; the
first that is the gradient at every point names the slip.
"""
from __future__ import annotations

import sympy as sp

from .hint_case import Case, _fitted, all_same, claim_at_points, differs, variant_is_truth
from .hint_kind import Hint

_MAX_CANDIDATES = 40


def _is_matrix(e) -> bool:
    return isinstance(e, sp.MatrixExpr) and not isinstance(e, sp.MatrixBase)


def _factors(a) -> list:
    """A matrix power written out as its factors (X⁻¹X⁻¹ is printed X**(-2): SymPy merges the
    neighbours, and the order slip −(X⁻¹X⁻¹A)ᵀ for −(X⁻¹AX⁻¹)ᵀ is inside it); anything else itself."""
    if isinstance(a, sp.MatPow) and a.exp.is_Integer and 2 <= abs(int(a.exp)) <= 4:
        base = a.base if a.exp > 0 else a.base.inv()
        return [base] * abs(int(a.exp))
    return [a]


def _reordered(expr):
    """(product as claimed, product reordered, whole claim with it): neighbouring matrix factors of
    each product swapped, then each product's matrix factors reversed, then rotated (a factor moved
    from one end to the other)."""
    for m in dict.fromkeys(n for n in sp.preorder_traversal(expr) if isinstance(n, sp.MatMul)):
        coeff = [a for a in m.args if not _is_matrix(a)]
        mats = [f for a in m.args if _is_matrix(a) for f in _factors(a)]
        orders = [mats[:i] + [mats[i + 1], mats[i]] + mats[i + 2:] for i in range(len(mats) - 1)]
        if len(mats) > 2:
            orders.append(mats[::-1])
            # a factor moved from one end to the other: 2aaᵀX for 2Xaaᵀ (∂ aᵀXᵀXa/∂X)
            orders += [mats[i:] + mats[:i] for i in range(1, len(mats))]
        for order in orders:
            try:
                new = sp.MatMul(*coeff, *order)
                new.shape                    # noqa: B018 - raises where the factors do not fit
            except Exception:   # noqa: BLE001 - an order whose shapes do not fit is no candidate
                continue
            yield m, new, expr.xreplace({m: new})


def _values(e, case) -> list | None:
    try:
        return claim_at_points(case, e)
    except Exception:   # noqa: BLE001 - a candidate that does not evaluate is no hint
        return None


def product_order_hint(case: Case):
    expr = case.claim_expr
    if expr is None or not _is_matrix(expr) or not isinstance(case.w, sp.MatrixSymbol):
        return None
    if any(len(p.examples) != 1 for p in case.points):
        return None
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    tried = 0
    for m, new, whole in _reordered(expr):
        tried += 1
        if tried > _MAX_CANDIDATES:
            break
        if not variant_is_truth(case, whole, Ts):
            continue
        inside_t = any(isinstance(n, sp.Transpose) and n.arg == m for n in sp.preorder_traversal(expr))
        why = (" — the transpose of a product reverses its order, (AB)ᵀ = BᵀAᵀ" if inside_t
               else " — a matrix product does not commute")
        return Hint("factors in another order",
                    f"the claim has {m} where {new} belongs{why}; with that product reordered the claim "
                    f"is the gradient, {whole}.")
    # one matrix of f left out: the claim is the gradient once multiplied by M (or Mᵀ) on one side
    mats = sorted((s for s in case.f.free_symbols if isinstance(s, sp.MatrixSymbol) and s != case.w),
                  key=lambda s: s.name)
    for M in mats:
        for F in (M.T, M):
            Fv = _values(F, case)
            if Fv is None:
                continue
            for side in ("left", "right"):
                prod = [(f @ c) if side == "left" else (c @ f) for f, c in zip(Fv, Cs)
                        if (f.shape[1] == c.shape[0] if side == "left" else c.shape[1] == f.shape[0])]
                if len(prod) != len(Cs) or not all(p.shape == t.shape for p, t in zip(prod, Ts)):
                    continue
                if all_same(prod, Ts):
                    right = sp.MatMul(F, expr) if side == "left" else sp.MatMul(expr, F)
                    return Hint("matrix factor left out",
                                f"the claim is the gradient once multiplied by {F} on the {side}, {right}: "
                                f"the chain rule's inner derivative through {M} brings {F} in (for "
                                f"u = AX, ∂f/∂X = Aᵀ·∂f/∂u; for u = XA, ∂f/∂X = ∂f/∂u·Aᵀ).")
    return None


__all__ = ["product_order_hint"]
