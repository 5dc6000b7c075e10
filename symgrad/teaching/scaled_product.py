"""A matrix product scaled by a number, as attention's slides write the scores: S = Q @ K.T/√d is
one node, and both operands' gradients are written from ∂L/∂S,

    ∂L/∂Q = (∂L/∂S)/√2 @ K          [matrix product scaled by 1/√2: ∇Q = δ @ K/√2]
    ∂L/∂K = (∂L/∂S).T @ Q/√2        [matrix product scaled by 1/√2, K transposed: ∇K = δᵀ @ Q/√2]

not through a node u₁ = Q @ K.T of no name, a step S = u₁/√2 and a step ∂L/∂u₁ = (∂L/∂S)/√2.
`symgrad.teaching.node_naming` makes the product transparent (as a layer's W·y inside
z = W·y + b); this module finds it and writes its rule.

>>> import sympy as sp
>>> scaled_rule("matrix product: ∇Q = δ @ K", 1 / sp.sqrt(2))
'matrix product scaled by 1/√2: ∇Q = δ @ K/√2'
"""
from __future__ import annotations

import sympy as sp

from ..core import rules as R


def scaled_product(e, consumers, disp):
    """The number c > 0 when ``e`` is a matrix product no name was given, used once, by an
    elementwise c·u of no other input (Q @ K.T/√d lowers to u, then u·√2/2); else None."""
    if e.prim is not R.matmul_p or e.out.id in disp:
        return None
    cs = consumers.get(e.out.id, ())
    if len(cs) != 1 or cs[0].prim is not R.ewise_p or len(cs[0].inputs) != 1 or cs[0].out.shape != e.out.shape:
        return None
    c = sp.nsimplify(sp.simplify(cs[0].params[0] / R.ph(0)))
    # a positive scale only: −(x @ w₁) stays u₂ = −u₁, whose sign the closed forms let meet another
    return c if c.is_number and c.is_positive and c != 1 else None


def _scale_text(c) -> tuple[str, str]:
    """(c as the prose says it, c as a factor after a product): (1/√2, /√2), (0.5, ·0.5)."""
    from .render import show
    d = sp.nsimplify(1 / c)
    if d.is_Integer or d.is_Pow:               # 1/4, 1/√2, 1/√d
        over = show(d, "unicode")
        over = over if over.isalnum() or over.startswith("√") and over[1:].isalnum() else f"({over})"
        return "1/" + over, "/" + over
    c = show(c, "unicode")
    return c, c if c.lstrip("−-").replace(".", "").isalnum() else f"({c})"


def scaled_rule(rule: str, c) -> str:
    """A matrix product's rule (``head: ∇X = formula``) for the product scaled by ``c``: a
    division after the formula (∇Q = δ @ K/√2), a factor before it (∇Q = 3·δ @ K)."""
    said, factor = _scale_text(c)
    head, sep, formula = rule.partition(": ")
    head = head.replace("matrix product", f"matrix product scaled by {said}", 1)
    if not sep:
        return f"{head} (scaled by {said})"
    lhs, eq, rhs = formula.partition(" = ")
    rhs = rhs + factor if factor.startswith("/") else f"{factor}·{rhs}"
    return f"{head}{sep}{lhs}{eq}{rhs}"


def product_of(nm, eqn):
    """The id of the product an edge enters: ``eqn``'s output, through the transpose of Q @ K.T."""
    vid = eqn.out.id
    while vid in nm.alias:
        vid = nm.consumers[vid][0].out.id
    return vid


def _scaled(x):
    """(c, X) for an elementwise c·X of a number c and one tensor X, else None."""
    from ..frontend.tensor_expr import Ewise
    if not isinstance(x, Ewise) or not x.expr.is_Mul:
        return None
    c, rest = x.expr.as_coeff_Mul()
    numbers = [a for a in sp.Mul.make_args(rest) if a.is_number]
    tensors = [a for a in sp.Mul.make_args(rest) if not a.is_number]
    if len(tensors) != 1 or not hasattr(tensors[0], "shape"):
        return None
    return c * sp.Mul(*numbers), tensors[0]


def scalars_outside(e):
    """``e`` with a number that scales a transposed or multiplied operand written outside:
    ((∂L/∂S)/√2).T @ Q as ((∂L/∂S).T @ Q)/√2, the lecture's ∂L/∂Sᵀ Q/√d."""
    from ..frontend.tensor import Permute, TensorMatMul

    def pulled(n):
        if isinstance(n, Permute):
            s = _scaled(n.args[0])
            return None if s is None else s[0] * Permute(s[1], n.args[1])
        if isinstance(n, TensorMatMul):
            scaled = [_scaled(a) for a in n.args]
            if not any(scaled):
                return None
            c = sp.Mul(*[s[0] for s in scaled if s])
            return c * TensorMatMul(*[s[1] if s else a for s, a in zip(scaled, n.args)])
        return None

    if not isinstance(e, sp.Basic) or not e.has(TensorMatMul, Permute):
        return e
    return e.replace(lambda n: pulled(n) is not None, pulled)
