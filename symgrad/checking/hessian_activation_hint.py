"""A Hessian claim with an activation's derivative written wrong: logistic regression's XᵀSX with
S = diag(σ) (or diag(1 − σ), diag(σ²)) where S = diag(σ ⊙ (1 − σ)) belongs.

The Hessian is the Jacobian of the gradient ∇f, and the weight S is σ′ of the σ in ∇f = Xᵀ(σ(Xw) − y):
so ∇f is taken from symgrad (`grad`), each sigmoid (tanh) in it is given a wrong derivative — the
variants `derivative_rule_hints` builds for gradient claims, the value kept — and the Jacobian of that
is compared with the claim at the check's points. symgrad's ∇f of the softplus form of the loss holds
σ(−Xw) beside σ(Xw); a student differentiates σ(Xw) − y, so σ(−u) is first written 1 − σ(u) (the same
value) and the slip is made in σ(u) alone. `jacobian_claims.check_matrix_claim` asks it when none of
its own slips fits.

>>> import sympy as sp, symgrad as sg
>>> X, w, y = sp.MatrixSymbol('X', 4, 2), sp.MatrixSymbol('w', 2, 1), sp.MatrixSymbol('y', 4, 1)
>>> one = sp.OneMatrix(4, 1)
>>> L = sg.sum(sp.HadamardProduct(y, sg.softplus(-X * w)) + sp.HadamardProduct(one - y, sg.softplus(X * w)))
>>> sg.check(L, w, X.T * sp.DiagMatrix(sg.sigmoid(X * w)) * X).hint.kind
"σ'(z) written wrong"
"""
from __future__ import annotations

import sympy as sp

from ..frontend.functions import sigmoid
from .hint_kind import Hint


def _one_sided(g):
    """∇f with each σ(−u) written 1 − σ(u) (a scalar's, or a matrix's entry by entry)."""
    from ..frontend.elementwise_map import Map

    def flipped_map(e):
        return (isinstance(e, Map) and isinstance(e.args[0], sp.Lambda) and isinstance(e.args[0].expr, sigmoid)
                and e.args[0].expr.args[0] == e.args[0].variables[0] and e.args[1].could_extract_minus_sign())

    def flipped_scalar(e):
        return isinstance(e, sigmoid) and not isinstance(e.args[0], sp.Dummy) and e.args[0].could_extract_minus_sign()
    g = g.replace(flipped_map, lambda e: sp.OneMatrix(*e.shape) - Map(e.args[0], -e.args[1]))
    return g.replace(flipped_scalar, lambda e: 1 - sigmoid(-e.args[0]))


def hessian_activation_hint(f, wrt, fits) -> Hint | None:
    """The claim is the Hessian with σ′ (or tanh′) written as one of the usual wrong forms; ``fits(H)``
    says whether a Hessian expression H matches the claim at every point."""
    from ..core.differentiate import grad, jacobian
    from .derivative_rule_hints import _SIGMOID_SLIPS, _TANH_SLIPS
    g = grad(f, wrt)
    found = []
    if g.has(sigmoid):
        found.append((sigmoid, "σ", _SIGMOID_SLIPS, "σ(z)(1 − σ(z))"))
    if g.has(sp.tanh):
        found.append((sp.tanh, "tanh", _TANH_SLIPS, "1 − tanh(z)²"))
    if not found:
        return None
    g = _one_sided(g)
    for fn, name, slips, right in found:
        for label, cls in slips:
            try:
                slipped = jacobian(g.replace(fn, cls), wrt)
            except Exception:   # noqa: BLE001 - a variant that does not differentiate is no slip
                continue
            if fits(slipped):
                weight = _weight_words(g) if fn is sigmoid else ""
                return Hint(f"{name}'(z) written wrong",
                            f"the claim is the Hessian the chain rule gives with {name}′(z) = {label}; "
                            f"the derivative is {name}′(z) = {right}{weight}.")
    return None


def _weight_words(g) -> str:
    """For σ of a matrix product u = X*w (logistic regression), the Hessian's weight in those names."""
    from ..frontend.elementwise_map import Map
    for e in sp.preorder_traversal(g):
        if isinstance(e, Map) and isinstance(e.args[0].expr, sigmoid) and isinstance(e.args[1], sp.MatMul):
            u = e.args[1]
            X = next((a for a in u.args if isinstance(a, sp.MatrixExpr) and a.shape[0] == u.shape[0]), None)
            if X is not None and X.shape[0] > 1:
                return (f" — the Hessian is {X}ᵀ·S·{X}, its weight S = diag(σ ⊙ (1 − σ)) with σ = σ({u}), "
                        f"not diag(σ)")
    return ""


__all__ = ["hessian_activation_hint"]
