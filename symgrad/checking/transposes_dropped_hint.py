"""A matrix-calculus claim right but for the transposes of some of its matrices — the Matrix
Cookbook's identities as students write them before the layout has sunk in:

    ∂ tr(AXB)/∂X = AᵀBᵀ                 claimed as AB                (both transposes left out)
    ∂ aᵀX⁻¹b/∂X = −X⁻ᵀabᵀX⁻ᵀ            claimed as −X⁻¹abᵀX⁻¹        (X⁻¹ for X⁻ᵀ)
    ∂ tr(AX⁻¹B)/∂X = −X⁻ᵀAᵀBᵀX⁻ᵀ       claimed as −X⁻¹ABX⁻¹

Not the whole claim transposed (sign_transpose_hints says that) nor its factors reordered
(product_order_hint): the factors stand in the right order, and some of them want a transpose.

How: for each square matrix symbol S of the claim (each alone, then pairs, then all at once), the
claim with S and Sᵀ exchanged everywhere (X⁻¹ ↔ X⁻ᵀ with it) is compared with the gradient at the
check's points; the first that is the gradient names the symbols.
"""
from __future__ import annotations

from itertools import combinations

import sympy as sp

from .hint_case import Case, _fitted, differs, variant_is_truth
from .hint_kind import Hint

_MAX_CANDIDATES = 24


def _square_symbols(e) -> list:
    return sorted((s for s in e.free_symbols if isinstance(s, sp.MatrixSymbol) and s.shape[0] == s.shape[1]
                   and s.shape[0] != 1), key=lambda s: s.name)


def _toggled(expr, syms):
    """``expr`` with each of ``syms`` exchanged with its transpose (Sᵀ in it becomes S again: xreplace
    meets the node Sᵀ before the S inside it, so no Sᵀᵀ is left for the hint to show)."""
    swap = {**{s: s.T for s in syms}, **{s.T: s for s in syms}}
    return expr.xreplace(swap).doit(deep=False) if syms else expr


def _candidates(syms):
    n = len(syms)
    for k in range(1, n + 1):
        for group in combinations(syms, k):
            yield list(group)


def exchanged_words(group) -> str:
    """"A is exchanged with its transpose", "A and B are exchanged with their transposes": the
    symbols of a candidate as this hint and jacobian_claims' rewritten-claim slip both say them."""
    if len(group) == 1:
        return f"{group[0]} is exchanged with its transpose"
    return ", ".join(str(s) for s in group[:-1]) + f" and {group[-1]} are exchanged with their transposes"


def transposes_dropped_hint(case: Case):
    expr = case.claim_expr
    if expr is None or not isinstance(expr, sp.MatrixExpr) or isinstance(expr, sp.MatrixBase):
        return None
    if not isinstance(case.w, sp.MatrixSymbol) or any(len(p.examples) != 1 for p in case.points):
        return None
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    syms = _square_symbols(expr)
    for tried, group in enumerate(_candidates(syms)):
        if tried >= _MAX_CANDIDATES:
            break
        new = _toggled(expr, group)
        if new == expr:
            continue
        if not variant_is_truth(case, new, Ts):
            continue
        return Hint("transposes left out",
                    f"the claim is right once {exchanged_words(group)} (and any inverse with it, X⁻¹ ↔ X⁻ᵀ): "
                    f"the gradient is {new}. In the layout ∂f/∂X[i, j], a matrix that multiplies X in f "
                    f"comes back transposed (∂ tr(AXB)/∂X = AᵀBᵀ, ∂ aᵀX⁻¹b/∂X = −X⁻ᵀabᵀX⁻ᵀ).")
    return None


__all__ = ["transposes_dropped_hint"]
