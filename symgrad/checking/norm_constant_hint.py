"""Name a backward that treats a norm as a constant: cosine similarity's (SimCLR's sim_positive_pairs)
or an L2-normalisation's gradient written as dout * r / (‖l‖‖r‖), without the term through ‖l‖. f's
norms are its sums of squares of a variable along an axis under a square root (not an L2 penalty's
Σ w², whose term left out is the fan-out hint's); f is derived again with all of them, then each,
held at their values.
"""
from __future__ import annotations

import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs, value_at


def _claim_with_held(case: Case, nodes) -> bool:
    """Is the claim the gradient of f with each of ``nodes`` held at its value at the point (a fresh
    tensor in its place, no gradient through it)? What a backward computes that treats a norm as a
    constant."""
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    sub = {n: T.tensor(f"_held{i}", tuple(T.shape_of(n))) for i, n in enumerate(nodes)}

    def extra(vals):
        return {U.name: value_at(n, vals) for n, U in sub.items()}
    return _claim_is_gradient_of(case, _rebuilt(case.f, sub), extra)


def _square_of(e):
    """x where e is x**2 (a tensor's square, elementwise), else None."""
    from ..frontend import tensor as T
    body = e.expr if isinstance(e, T.Ewise) else e
    if isinstance(body, sp.Pow) and body.exp == 2:
        return body.base
    return None


def norm_constant_hint(case: Case):
    from ..frontend import tensor as T
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    roots = [p.base for p in sp.preorder_traversal(case.f)          # sqrt(…) and 1/sqrt(…): a norm,
             if isinstance(p, sp.Pow) and p.exp in (sp.S.Half, -sp.S.Half)]   # not an L2 penalty's Σ w²
    norms = [n for n in dict.fromkeys(sp.preorder_traversal(case.f))
             if isinstance(n, T.Reduce) and n.op == "sum" and _square_of(n.x) is not None
             and _square_of(n.x).has(case.w) and any(r.has(n) for r in roots)]      # sg.normalize: sqrt(where(Σ > 0, Σ, 1))
    if not norms or len(norms) > 4:
        return None
    for group in ([norms] if len(norms) > 1 else []) + [[n] for n in norms]:
        if _claim_with_held(case, group):
            names = " and ".join(f"‖{_square_of(n.x)}‖ = sqrt({n})" for n in group)
            w = case.w.name
            return Hint("norm held constant",
                        f"the claim treats {names} as a constant; "
                        f"{'they depend' if len(group) > 1 else 'it depends'} on {w} too, ∂‖{w}‖/∂{w} = {w} / ‖{w}‖ — "
                        f"the path through the norm is a second term: an L2 normalisation y = x / ‖x‖ has dx = "
                        f"(dout − y * (y * dout).sum(axis, keepdims=True)) / ‖x‖, not dout / ‖x‖; cosine "
                        f"similarity has d/dl (l·r / (‖l‖‖r‖)) = r / (‖l‖‖r‖) − sim · l / ‖l‖².")
    return None
