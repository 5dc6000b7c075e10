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

from collections import Counter

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
    return gather(e.xreplace(found))


def gather(e):
    """``e`` with each elementwise sum whose terms share a factor written with that factor outside:
    softmax(z, axis=1)/N − one_hot(y, 3)/N is (softmax(z, axis=1) − one_hot(y, 3))/N, cs231n's
    dscores and the slides' δ = f − f* over a batch."""
    if not isinstance(e, sp.Basic) or not e.has(Ewise):
        return e
    return e.replace(lambda n: isinstance(n, Ewise) and isinstance(n.expr, (sp.Add, sp.Mul)),
                     lambda n: Ewise(_gathered(n.expr), n.args[1]))


def _gathered(e):
    """c·A − c·B as c·(A − B), the positive terms first, as the slides write f − f* (c a number, a
    symbol such as 1/N, or both); only the sum's own terms are looked at, never inside them."""
    if isinstance(e, sp.Mul):           # gathered already, and rebuilt since (its sum in SymPy's order)
        sums = [a for a in e.args if isinstance(a, sp.Add)]
        if len(sums) != 1 or not all(_has_tensor(t) for t in sums[0].args):
            return e
        rest = [a for a in e.args if a is not sums[0]]
        inner = _gathered(sums[0])      # (softmax/N − one_hot/N) ⊙ H(z): the sum's own factor out too
        if inner is not sums[0]:
            return sp.Mul(*rest, inner, evaluate=False)
        return sp.Mul(*rest, _positive_first(sums[0].args), evaluate=False)
    terms = [t.expr if isinstance(t, Ewise) else t for t in sp.Add.make_args(e)]
    if len(terms) < 2:
        return e
    parts = [t.as_coeff_Mul() for t in terms]
    sizes = {abs(c) for c, _ in parts}
    size = sizes.pop() if len(sizes) == 1 else sp.S.One
    factors = [Counter(sp.Mul.make_args(r)) for _, r in parts]
    common = factors[0]
    for f in factors[1:]:
        common = common & f
    common = Counter({k: n for k, n in common.items() if not _has_tensor(k)})
    scale = size * sp.Mul(*[k ** n for k, n in common.items()])
    if scale == 1:
        return e
    inner = []
    for (c, _), f in zip(parts, factors):
        rest = sp.Mul(*(f - common).elements())
        inner.append(rest * _exact(c / size))
    if not all(_has_tensor(t) for t in inner):
        return e
    # the factors side by side, 0.5·(softmax − one_hot)/N, not (0.5/N)·(softmax − one_hot)
    factors = ([size] if size != 1 else []) + [k ** n for k, n in common.items()]
    return sp.Mul(*factors, _positive_first(inner), evaluate=False)


def _exact(ratio):
    """A term's coefficient over the common one, ±1 as the Integer it is: 0.5·(softmax − one_hot),
    not 0.5·(1.0·softmax − 1.0·one_hot), when the common coefficient is a Float (a scale 0.5
    the user wrote); other ratios are left as SymPy made them."""
    if ratio.is_Float and float(ratio).is_integer():     # SymPy: Float(1.0) != 1
        return sp.Integer(int(ratio))
    return ratio


def _positive_first(terms):
    key = lambda t: (t.expr if isinstance(t, Ewise) else t).could_extract_minus_sign()   # noqa: E731
    return sp.Add(*sorted(terms, key=key), evaluate=False)
