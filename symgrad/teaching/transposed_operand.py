"""A transposed operand of a matrix product, as attention's slides write it: S = Q @ K.T is one
node, and K's gradient is written from ∂L/∂S,

    ∂L/∂Q = ∂L/∂S @ K           [matrix product: ∇Q = δ @ K]
    ∂L/∂K = (∂L/∂S).T @ Q       [matrix product, K transposed: ∇K = δᵀ @ Q]

not through a node u₁ = K.T and a step "the gradient is transposed back", nor as (Q.T @ ∂L/∂S).T,
nor with the rule ∇Q = δ @ K.Tᵀ. `symgrad.teaching.node_naming` shows the transpose as K.T (an
alias, as NumPy's broadcasting); this module writes the rule and the gradient of its operand.

>>> import symgrad as sg
>>> from symgrad.teaching.render import show
>>> Q, K, G = sg.tensor("Q", (3, 2)), sg.tensor("K", (3, 2)), sg.tensor("G", (3, 3))
>>> show(transposes_distributed((Q.T @ G).T), "unicode")
'G.T @ Q'
"""
from __future__ import annotations

import sympy as sp

from ..core import array_rules as A
from ..core import rules as R


def is_transpose(e) -> bool:
    """A 2-d transpose of the IR (``x.T`` of a tensor lowers to one or the other)."""
    return e.prim is R.transpose_p or (e.prim is A.permute_p and tuple(e.params[0]) == (1, 0))


def into_product(e, consumers, disp) -> bool:
    """A 2-d transpose no name was given, used once, by a matrix product (Q @ K.T)."""
    if e.out.id in disp or not is_transpose(e):
        return False
    cs = consumers.get(e.out.id, ())
    return len(cs) == 1 and cs[0].prim is R.matmul_p


def rule(nm, eqn, disp, _pretty) -> str | None:
    """The rule of the edge from X into the product through the transpose ``eqn`` (X.T), or None
    when ``eqn`` is no such transpose: ∇K = δᵀ @ Q for Q @ K.T, ∇X = W @ δᵀ for X.T @ W.
    ``_pretty``: a node's name in a rule's prose (`symgrad.teaching.local_rules`)."""
    if eqn.out.id not in getattr(nm, "transposed", {}):
        return None
    prod = nm.consumers[eqn.out.id][0]
    i = next(j for j, v in enumerate(prod.inputs) if v.id == eqn.out.id)
    x = _pretty(disp[eqn.inputs[0].id])
    o = disp[prod.inputs[1 - i].id]
    other = operand(o, _pretty)
    grad = f"δᵀ @ {other}" if i == 1 else f"{other} @ δᵀ"     # a @ X.T: ∇(X.T) = aᵀ @ δ, so ∇X = δᵀ @ a
    return f"matrix product, {x} transposed: ∇{x} = {grad}"


def _is_transposed(x) -> bool:
    from ..frontend.tensor import Permute
    return isinstance(x, Permute) and x.axes == (1, 0)


def operand(x, pretty) -> str:
    """A product's operand in a rule, in ``pretty``'s names: K.T as Kᵀ (so ∇Q = δ @ (Kᵀ)ᵀ prints δ @ K)."""
    return pretty(untransposed(x)) + ("ᵀ" if _is_transposed(x) else "")


def untransposed(x):
    """X for X.T, else ``x``: the name a rule writes for an operand shown transposed."""
    return x.args[0] if _is_transposed(x) else x


def transposes_distributed(e):
    """``e`` with each transpose of a product written as the product of the transposes, reversed,
    (A @ B).T = B.T @ A.T, and X.T.T as X: (Q.T @ ∂L/∂S).T reads (∂L/∂S).T @ Q."""
    from ..frontend.tensor import Permute, TensorMatMul, permute

    def flip(n):
        if not _is_transposed(n):
            return None
        inner = n.args[0]
        if _is_transposed(inner):
            return inner.args[0]
        if isinstance(inner, TensorMatMul) and all(_rank(a) == 2 for a in inner.args):
            a, b = inner.args
            return TensorMatMul(flip(permute(b)) or permute(b), flip(permute(a)) or permute(a))
        return None

    if not isinstance(e, sp.Basic) or not e.has(Permute):
        return e
    return e.replace(lambda n: flip(n) is not None, flip)


def _rank(a):
    """len(a.shape), or None where the display form has none: x.T of a vector x shown for the
    lowering's x.reshape(1, 3) (x @ W.T of a vector x) is no 2-D operand to distribute over."""
    try:
        return len(a.shape)
    except (IndexError, AttributeError, TypeError):
        return None
