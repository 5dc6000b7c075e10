"""A claim with one symbol of f written where another of the same shape belongs — c for b in
∂ (Xb + c)ᵀD(Xb + c)/∂X = (D + Dᵀ)(Xb + c)bᵀ, y for x — found by putting each other symbol of f in
its place in the claimed expression and comparing with the gradient at the check's points. Tried
late (after `inner_factor_swap_hint`, which says the same for a neuron's inner derivatives in the
chain rule's words)."""
from __future__ import annotations

import numpy as np
import sympy as sp

from .claims import fit_shape
from .hint_case import Case, _fitted, claim_at_points, differs, same
from .hint_kind import Hint

_MAX_CANDIDATES = 30


def _symbols(e) -> list:
    return sorted((s for s in e.free_symbols if isinstance(s, (sp.Symbol, sp.MatrixSymbol))
                   and not isinstance(s, sp.Dummy)), key=lambda s: s.name)


def _shape(s):
    return tuple(s.shape) if isinstance(s, sp.MatrixSymbol) else ()


def _one_replaced(e, s, t):
    """``e`` with one occurrence of s replaced by t, for each occurrence (the claim (Xb + c)cᵀ has
    c twice, and only the second is the slip); then every occurrence at once."""
    if e == s:
        yield t
        return
    for i, a in enumerate(e.args):
        if not a.has(s):
            continue
        for v in _one_replaced(a, s, t):
            try:
                yield e.func(*e.args[:i], v, *e.args[i + 1:])
            except Exception:   # noqa: BLE001 - a node that cannot be rebuilt so: no candidate
                continue


def _variants(expr, s, t):
    seen = set()
    for v in list(_one_replaced(expr, s, t)) + [expr.xreplace({s: t})]:
        if v not in seen and v != expr:
            seen.add(v)
            yield v


def symbol_swap_hint(case: Case):
    expr = case.claim_expr
    if expr is None or not isinstance(expr, sp.Basic) or any(len(p.examples) != 1 for p in case.points):
        return None
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    pool = _symbols(case.f)
    tried = 0
    for s in _symbols(expr):
        for t in pool:
            if t == s or _shape(t) != _shape(s) or type(t) is not type(s):
                continue
            for swapped in _variants(expr, s, t):
                tried += 1
                if tried > _MAX_CANDIDATES:
                    return None
                try:
                    vals = [fit_shape(v, np.shape(tv)) for v, tv in zip(claim_at_points(case, swapped), Ts)]
                except Exception:   # noqa: BLE001 - a swap that does not evaluate is no candidate
                    continue
                if all(v is not None and same(v, tv) for v, tv in zip(vals, Ts)):
                    return Hint("another symbol",
                                f"the claim has {s} where {t} belongs: with {t} in its place it is the "
                                f"gradient, {swapped}.")
    return None


__all__ = ["symbol_swap_hint"]
