"""Name the chain rule's outer derivative left out: the claim is ∂u/∂w (times what lies outside)
where f holds F(u), and F′(u) was never multiplied in —

    d/dw log(w² + 1)   claimed as  2w          (× 1/(w² + 1) missing)
    d/dw exp(w·x)      claimed as  x           (× exp(w·x) missing)
    ∂ √(xᵀx)/∂x        claimed as  2x          (× 1/(2√(xᵀx)) missing; the gradient is x/‖x‖)

For each node F(u) of f — a function of one argument, or a power uᵏ with k ≠ 1 — with a scalar u that
depends on w: is the claim times F′(u) the gradient at every point (or, with a factor 2 or ½ besides,
the 2 of d(u²) = 2u·du or the ½ of √u)? The outermost such node is named. `inner_derivative_hint` is
the other half of the chain rule (∂u/∂w left out); a σ′ or tanh′ left out is named by their own hints,
which come first.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_case import Case, _fitted, all_same, claim_at_points, differs
from .hint_kind import Hint
from .sign_transpose_hints import _nice


def _outer_nodes(f, w):
    """(node, u): f's nodes F(u) of one scalar argument u depending on w, outermost first."""
    for g in dict.fromkeys(sp.preorder_traversal(f)):
        if not isinstance(g, sp.Expr) or g.is_Atom or not g.has(w):
            continue
        if isinstance(g, sp.Pow):
            u, k = g.args
            if k.has(w) or k == 1 or not u.has(w):
                continue
        elif isinstance(g, sp.Function) and len(g.args) == 1:
            u = g.args[0]
        else:
            continue
        if u == w and not isinstance(w, sp.Symbol):
            continue
        if getattr(u, "is_Matrix", False) or getattr(u, "shape", ()) not in ((), None):
            continue
        yield g, u


def _derivative(g, u):
    """F′(u) as an expression in u's own terms."""
    s = sp.Dummy("u", real=True)
    return sp.diff(g.xreplace({u: s}), s).xreplace({s: u})


def outer_derivative_hint(case: Case):
    w = case.w
    if isinstance(case.f, sp.MatrixBase) or getattr(case.f, "is_Matrix", False):
        return None
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts) or any(len(p.examples) != 1 for p in case.points):
        return None
    for g, u in list(_outer_nodes(case.f, w))[:12]:
        d = _derivative(g, u)
        if not d.free_symbols or d.has(sp.Derivative, sp.Subs):   # (is_constant() is True of 1/sum(x∘x))
            continue
        try:
            ds = [float(v) for v in claim_at_points(case, d)]
        except Exception:   # noqa: BLE001 - an outer derivative that does not evaluate is no hint
            continue
        if not all(np.isfinite(ds)):
            continue
        scaled = [c * v for c, v in zip(Cs, ds)]
        for k in (1, 2, sp.Rational(1, 2)):
            if not all_same(scaled, Ts, float(k)):       # claim · F′(u) = k · gradient
                continue
            head = (g.func.__name__ if not isinstance(g, sp.Pow) else
                    "sqrt" if g.args[1] == sp.Rational(1, 2) else f"the power u**{g.args[1]}")
            also = ("" if k == 1 else f"; the claim times it is still {_nice(float(k))} times the gradient, "
                    f"so multiply by {d / k} instead")
            return Hint("outer derivative left out",
                        f"the claim is the gradient with the derivative of {head} left out: f holds "
                        f"{g}, and the chain rule multiplies ∂u/∂{w} by its derivative {d} (u = {u})"
                        + ("; multiply the claim by it." if k == 1 else also + "."))
    return None


__all__ = ["outer_derivative_hint"]
