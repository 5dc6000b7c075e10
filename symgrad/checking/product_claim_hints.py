"""The slips of a Hessian-vector or Jacobian-vector product claimed as a gradient.

Why: Pearlmutter's trick computes Hv as the gradient of a scalar, ∇ₓ(∇g(x)ᵀv), and reverse mode's
vector–Jacobian product Jᵀv is the gradient of u(x)ᵀv; CG for a Newton step needs Hv alone. A
student checks one with ``sg.check((sg.grad(g, x).T * v)[0, 0], x, claim)``. A wrong claim got a
right verdict but no slip named when it was Av for ∂²(xᵀAx)/∂x²·v = (A + Aᵀ)v, or Jv for Jᵀv.

How: f must be linear in a column v of f's (not a checked variable) of x's size, f = uᵀv with
u = ∂f/∂v, and the claim linear in v too: its matrix M = ∂claim/∂vᵀ is compared at the check's
points with the true one, Jᵀ (J = ∂u/∂xᵀ, the Hessian of g when u = ∇g):

    M = J ≠ Jᵀ                   the Jacobian-vector product Jv where the gradient is Jᵀv
    M + Mᵀ = Jᵀ, M ≠ Mᵀ          the symmetrisation left out: Av for (A + Aᵀ)v
    a claim without v, equal u   v left out: ∇g(x) (the gradient) for Hv

>>> import sympy as sp, symgrad as sg
>>> A, x, v = sp.MatrixSymbol('A', 3, 3), sp.MatrixSymbol('x', 3, 1), sp.MatrixSymbol('v', 3, 1)
>>> hv = (sg.grad((x.T * A * x)[0, 0], x).T * v)[0, 0]
>>> bool(sg.check(hv, x, (A + A.T) * v))
True
>>> sg.check(hv, x, A * v).hint.kind
'symmetrisation left out'
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from .claims import _eval_claim
from .hint_case import Case, same
from .hint_kind import Hint

MAX_N = 16          # the matrices M and J are n×n, each entry a SymPy expression


def _probes(case: Case) -> list:
    w = case.w
    if not (isinstance(w, sp.MatrixSymbol) and w.shape[1] == 1 and w.shape[0].is_Integer
            and 2 <= int(w.shape[0]) <= MAX_N):
        return []
    return sorted((s for s in case.f.free_symbols if isinstance(s, sp.MatrixSymbol) and s not in case.params
                   and s.shape == w.shape), key=lambda s: s.name)


def _linear_in(e, v, M) -> bool:
    """e − M·v has no v left: e is M·v (M free of v)."""
    rest = sp.expand(sp.Matrix(e) - M * sp.Matrix(v))
    return M.free_symbols.isdisjoint({v}) and not any(a.args[0] == v for a in rest.atoms(MatrixElement))


def _values(case: Case, expr) -> list:
    return [p.mean(lambda vals: [np.asarray(_eval_claim(expr, vals), float)])[0] for p in case.points]


def product_claim_hint(case: Case):
    from ..core.differentiate import grad, jacobian
    claim = case.claim_expr
    if claim is None or not isinstance(claim, (sp.MatrixExpr, sp.MatrixBase)) or not isinstance(case.f, sp.Expr):
        return None
    x = case.w
    for v in _probes(case):
        u = sp.Matrix(grad(case.f, v))
        if not _linear_in(sp.Matrix([[case.f]]), v, u.T):
            continue
        J = sp.Matrix(jacobian(u, x))
        Js = _values(case, sp.ImmutableMatrix(J))
        if v not in claim.free_symbols:
            us = _values(case, sp.ImmutableMatrix(u))
            if all(same(np.reshape(c, -1), np.reshape(t, -1)) for c, t in zip(case.C(), us)):
                return Hint("v left out", f"the claim is ∂f/∂{v.name} = {_short(u)}, the vector {v.name} is "
                            f"multiplied with — not the product's gradient: ∇ₓ(uᵀ{v.name}) = Jᵀ{v.name} with "
                            f"J = ∂u/∂{x.name}ᵀ (for u = ∇g, Pearlmutter's Hv: g is differentiated twice)")
            continue
        M = sp.Matrix(jacobian(sp.Matrix(claim), v))
        if not _linear_in(claim, v, M):
            continue
        Ms = _values(case, sp.ImmutableMatrix(M))
        if _every(Ms, Js, lambda m, j: same(m, j) and not same(j, j.T)):
            return Hint("transpose", f"the claim is J{v.name}, the Jacobian-vector product (forward mode's), "
                        f"with J = ∂u/∂{x.name}ᵀ of u = ∂f/∂{v.name}; the gradient of uᵀ{v.name} is "
                        f"Jᵀ{v.name} (reverse mode's vector–Jacobian product): the two differ when J is not symmetric")
        if _every(Ms, Js, lambda m, j: same(m + m.T, j.T) and not same(m, m.T)):
            return Hint("symmetrisation left out", f"the claim is M{v.name} where (M + Mᵀ){v.name} belongs: "
                        f"the Hessian of xᵀAx is A + Aᵀ, so H{v.name} = (A + Aᵀ){v.name}, not A{v.name} or Aᵀ{v.name} "
                        f"(2A{v.name} only for a symmetric A)")
    return None


def _every(Ms, Js, test) -> bool:
    return all(test(np.atleast_2d(m), np.atleast_2d(j)) for m, j in zip(Ms, Js))


def _short(e) -> str:
    s = str(e)
    return s if len(s) <= 60 else "∇g(x)"


__all__ = ["product_claim_hint"]
