"""Row sums the slides know the value of, in a closed form: a one-hot row sums to 1, and so does a
target the user declared a distribution (``given={t.sum(axis=1): 1}``). The backward step of a
log_softmax, ∂L/∂u − (∂L/∂u).sum(axis=1, keepdims=True) ⊙ softmax(z, axis=1), with ∂L/∂u =
−one_hot(y, 3)/N becomes the slides' δ = (softmax(z, axis=1) − one_hot(y, 3))/N (δ = f − f* per
example), not (one_hot(y, 3)/N).sum(axis=1, keepdims=True) ⊙ softmax(z, axis=1) − one_hot(y, 3)/N.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> y, z = sg.tensor("y", (N,), integer=True), sg.tensor("z", (N, 3))
>>> h = sg.one_hot(y, 3)
>>> from symgrad.teaching.render import show
>>> step = sg.as_tensor(-h / N) - sg.sum(-h / N, axis=1, keepdims=True) * sg.softmax(z, axis=1)
>>> show(known_row_sums(step, {}), "unicode")
'(softmax(z, axis=1) − one_hot(y, 3))/N'
"""
from __future__ import annotations

import sympy as sp

from ..frontend.tensor import Ewise, OneHot, Reduce, TensorExpr


def _has_tensor(e) -> bool:
    return any(isinstance(n, TensorExpr) for n in sp.preorder_traversal(e))


def _split(x):
    """(the scalar factor, the tensor factor) of ``x`` = c·T, or None when it is no such product."""
    body = x.expr if isinstance(x, Ewise) else x
    if isinstance(body, TensorExpr):
        return sp.S.One, body
    if not isinstance(body, sp.Mul):
        return None
    tensors = [a for a in body.args if _has_tensor(a)]
    if len(tensors) != 1 or not isinstance(tensors[0], TensorExpr):
        return None
    return sp.Mul(*[a for a in body.args if a is not tensors[0]]), tensors[0]


def known_row_sums(e, given: dict):
    """``e`` with each sum whose value is known (a one-hot's over its class axis, a ``given``
    sum, whether or not it keeps its axis) replaced by that value times the scalar factor it was
    taken of, and the elementwise forms that held it gathered over their common factor."""
    if not isinstance(e, sp.Basic) or not e.has(Reduce):
        return e
    facts = {(k.x, k.axes): v for k, v in (given or {}).items() if isinstance(k, Reduce) and k.op == "sum"}

    def value(r):
        if not (isinstance(r, Reduce) and r.op == "sum"):
            return None
        split = _split(r.x)
        if split is None:
            return None
        c, t = split
        if isinstance(t, OneHot) and r.axes == (t.axis,):
            return c
        v = facts.get((t, r.axes))
        return None if v is None or _has_tensor(v) else c * v

    found = {r: value(r) for r in sp.preorder_traversal(e) if isinstance(r, Reduce)}
    found = {r: v for r, v in found.items() if v is not None}
    if not found:
        return e
    e = e.xreplace(found)
    return e.replace(lambda n: isinstance(n, Ewise), lambda n: Ewise(_gathered(n.expr), n.args[1]))


def _gathered(e):
    """c·A − c·B as c·(A − B), the positive terms first, as the slides write f − f* (c a number or a
    symbol such as 1/N)."""
    terms = [t.expr if isinstance(t, Ewise) else t for t in sp.Add.make_args(e)]
    if len(terms) < 2:
        return e
    g = sp.factor_terms(sp.Add(*terms))
    scale, inner = sp.S.One, g
    if isinstance(g, sp.Mul):
        adds = [a for a in g.args if isinstance(a, sp.Add)]
        if len(adds) == 1:
            inner, scale = adds[0], sp.Mul(*[a for a in g.args if a is not adds[0]])
    parts = [t.as_coeff_Mul() for t in sp.Add.make_args(inner)]
    sizes = {abs(c) for c, _ in parts}
    if len(sizes) == 1 and sizes != {1}:          # a number SymPy distributes: (A − B)/4 is A/4 − B/4
        size = sizes.pop()
        scale, inner_terms = scale * size, [r if c > 0 else -r for c, r in parts]
    else:
        inner_terms = list(sp.Add.make_args(inner))
    if scale == 1:
        return e
    inner_terms.sort(key=lambda t: (t.expr if isinstance(t, Ewise) else t).could_extract_minus_sign())
    return sp.Mul(scale, sp.Add(*inner_terms, evaluate=False), evaluate=False)
