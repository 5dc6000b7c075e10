"""Name a claim that, at a tie of a Max (or Min), sends δ to none of the tied arguments: a
backward written with strict comparisons on both sides — ``Heaviside(z − w, 0)`` for z and
``Heaviside(w − z, 0)`` for w, ``(x > y) * dout`` and ``(y > x) * dout`` — or a hand-derived 0
there. Random points never tie, so the claim agrees with the gradient there; it shows only at a
tie, a point given with ``at=`` or one made on purpose (`scalar_ties`).

Decided by deriving f again with each Max and Min sending δ to no tied argument
(`scalar_ties.tied_derivations`'s "none" routing) and asking whether the claim is that gradient at
every point where it differs. ``_NoneMax`` equals the gradient away from ties, so it fits only
where the points are ties.
"""
from __future__ import annotations

import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, differs, _fitted

HINT = ("at this tie of {what} the claim gives the gradient to neither tied argument — δ is "
        "dropped (a strict comparison on both sides, such as (x > y) for x and (y > x) for y); at a tie "
        "it must go to one of them (symgrad's policy: the first argument attaining it; the other, or a "
        "split, is a subgradient too). Random points never tie, so this shows only at a tie such as "
        "this one: use >= on one side only, or np.argmax to pick one.")


def tie_dropped_hint(case: Case):
    from .scalar_ties import _NoneMax, _NoneMin, max_nodes
    nodes = max_nodes(case.f)
    if not nodes or not differs(*_fitted(case)):
        return None
    none = case.f.replace(sp.Max, _NoneMax).replace(sp.Min, _NoneMin)
    if not _claim_is_gradient_of(case, none):
        return None
    kinds = sorted({type(n).__name__ for n in nodes})
    return Hint("max ties", HINT.format(what=" or ".join(kinds)))


__all__ = ["tie_dropped_hint"]
