"""A variance written out step by step, read as the variance it is, before the hints look for one.

cs231n's staged batchnorm_forward computes the variance as NumPy code writes it, and a student
declares it the same way:

    mu = x.mean(axis=0);  var = ((x - mu) ** 2).mean(axis=0)      # or ((x - mu)**2).sum(axis=0) / N

where `x.var(axis=0)` makes one `Variance` node. The norm-layer hints (var + eps for the std, N
left out of dx, the normalisation axes, eps left out of a path, the variance's correction, ...)
find the layer by its `Variance` node, so with the staged form every one of them stayed silent
and a one-line slip read as a bare "not equal". `with_variances(f)` gives f with each staged
variance replaced by the `Variance` node of the same x, axes and keepdims: the same function (the
hints compare with the true gradient of the declared f, which is unchanged), in the form the
recognisers read.

A staged variance is, with X any tensor expression and A its axes:

    mean((X − M)², A)     or     sum((X − M)², A) / n      (n the entries over A; (M − X)² alike)

with M = X.mean(A) (keepdims or not). Anything else is left as it is.
"""
from __future__ import annotations

import numpy as np
import sympy as sp


def with_variances(f):
    """f with each staged variance replaced by a `Variance` node (f itself when there is none)."""
    from ..frontend import tensor as T
    if not isinstance(f, sp.Basic):
        return f
    found = {}
    for e in sp.preorder_traversal(f):
        if e not in found:
            v = _staged(e, T)
            if v is not None:
                found[e] = v
    return f.xreplace(found) if found else f


def _staged(e, T):
    """The `Variance` that e computes, when e is a staged variance; None otherwise."""
    if isinstance(e, T.Reduce) and e.op == "mean":
        red, scale = e, None
    elif isinstance(e, sp.Mul) and len(e.args) == 2:  # inside an Ewise body: sum(...)/N + eps
        scale, red = e.args                 # SymPy orders the number first
        if not (scale.is_Number and isinstance(red, T.Reduce) and red.op == "sum"):
            return None
    else:
        return None
    x = _deviation_of(red.x, red.axes, T)
    if x is None:
        return None
    if scale is not None:
        sizes = [x.shape[a] for a in red.axes]
        if not all(isinstance(d, (int, np.integer)) or getattr(d, "is_Integer", False) for d in sizes):
            return None
        if sp.Integer(int(np.prod([int(d) for d in sizes]))) * scale != 1:
            return None
    return T.Variance(x, sp.Tuple(*red.axes), sp.true if red.keepdims else sp.false, sp.Integer(0))


def _deviation_of(sq, axes, T):
    """X when sq is (X − X.mean(axes))² (either order of the difference); None otherwise."""
    body = sq.expr if isinstance(sq, T.Ewise) else sq
    if not (isinstance(body, sp.Pow) and body.exp == 2 and isinstance(body.base, sp.Add)
            and len(body.base.args) == 2):
        return None
    a, b = body.base.args
    for plus, minus in ((a, b), (b, a)):
        neg = -minus
        for x, m in ((plus, neg), (neg, plus)):     # X − M, or M − X (its square is the same)
            if isinstance(m, T.Reduce) and m.op == "mean" and m.x == x and m.axes == tuple(axes):
                return x
    return None
