"""Another variable's inner derivative: one neuron's ∂L/∂w1 = δ·x2 where δ·x1 belongs, or
∂L/∂b = δ·x1 (w1's formula copied for the bias, whose ∂u/∂b is 1). For u a sum of f holding w, the
claim is compared with ∂f/∂w · (∂u/∂v)/(∂u/∂w) for each other symbol v of u. Scalars only."""
from __future__ import annotations

import sympy as sp

from .hint_case import Case, _fitted, differs, same
from .hint_kind import Hint

MAX_SUMS = 6


def _sums_of(f, w) -> list:
    """The sums of f that hold w in a term whose derivative does not hold w (w enters them linearly)."""
    out = []
    for n in sp.preorder_traversal(f):
        if isinstance(n, sp.Add) and n.has(w) and n not in out:
            r = sp.diff(n, w)
            if r != 0 and not r.has(w):
                out.append(n)
    return out[:MAX_SUMS]


def inner_factor_swap_hint(case: Case):
    from ..core.evaluate import numeric
    w = case.w
    if not isinstance(w, sp.Symbol) or isinstance(w, sp.MatrixSymbol):
        return None
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    for u in _sums_of(case.f, w):
        r = sp.diff(u, w)
        for v in sorted(u.free_symbols - {w}, key=lambda s: s.name):
            c = sp.diff(u, v)
            if c == 0 or c.has(v) or sp.simplify(c - r) == 0:
                continue
            try:
                ks = [float(numeric(c / r, p.example())) for p in case.points]
            except Exception:
                continue
            if all(same(cv, tv, k) for cv, tv, k in zip(Cs, Ts, ks)):
                return Hint("another variable's inner derivative",
                            f"the claim for {w} multiplies by {c}, the inner derivative ∂u/∂{v} of {v}, where "
                            f"∂u/∂{w} = {r} belongs (u = {u}): ∂f/∂{w} = ∂f/∂u · ∂u/∂{w} = "
                            + (f"∂f/∂u, with no factor." if r == 1 else f"∂f/∂u · {r}."))
    return None


__all__ = ["inner_factor_swap_hint"]
