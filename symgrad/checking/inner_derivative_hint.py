"""Name the chain rule stopped one step short: the claim is ∂f/∂u for some u = u(w) inside f, the
inner derivative ∂u/∂w left out —

    d/dw ½(w·x + b − y)²  claimed as  (w·x + b − y)            (× x missing)
    d/dw log(w² + 1)      claimed as  1/(w² + 1)               (× 2w missing)
    d/dw σ(w·x)           claimed as  σ(w·x)(1 − σ(w·x))       (× x missing)

For a scalar f and a scalar w: for each subexpression u of f that depends on w (u ≠ w), with
∂u/∂w not a constant (a constant factor is `factor_hint`'s), is the claim times ∂u/∂w the gradient
at every point? The outermost such u is named (½(w·x + b − y)² also fits u = w·x, whose derivative
is the same x; the whole residual is what the student differentiated by).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _fitted, all_same, claim_at_points, differs


def inner_derivative_hint(case: Case):
    w = case.w
    if not isinstance(w, sp.Symbol) or not isinstance(case.f, sp.Expr) or case.f.is_Matrix:
        return None
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts) or any(np.ndim(t) != 0 for t in Ts) or any(len(p.examples) != 1 for p in case.points):
        return None
    for u in dict.fromkeys(sp.preorder_traversal(case.f)):       # outermost first
        if u == case.f or u == w or not isinstance(u, sp.Expr) or u.is_Atom or not u.has(w):
            continue
        du = sp.diff(u, w)
        if du.is_constant() or du.has(sp.Derivative, sp.Subs):
            continue
        try:
            ds = [float(v) for v in claim_at_points(case, du)]
        except Exception:  # noqa: BLE001 - an inner derivative that does not evaluate is no hint
            continue
        if not all(np.isfinite(ds)) or not all_same([c * d for c, d in zip(Cs, ds)], Ts):
            continue
        return Hint("inner derivative left out",
                    f"the claim is ∂f/∂u with u = {u}, the chain rule stopped "
                    f"there; ∂f/∂{w} = ∂f/∂u · ∂u/∂{w}, so multiply by the inner derivative ∂u/∂{w} = {du}.")
    return None
