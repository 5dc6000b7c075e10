"""Nodes in the shape the user wrote them, where the lowering's shape differs.

Two nodes of a tensor declaration have a shape in the lowering that is not the one the slide writes:

- a reshape the lowering merged with NumPy's broadcasting: ``b.reshape(4, 1, 1)`` against
  (N, 4, H, W) is lowered as one reshape to (1, 4, 1, 1);
- a max pool followed by something else than the reshape that drops the window axis its max kept
  (a flatten, ``p.reshape(N, -1)``, which the lowering merges with that reshape): the pool's value
  is (N, C, H', W', 1) in the lowering and (N, C, H', W') as the user wrote ``max_pool2d``.

The forward pass writes such a node as written; its gradient step must then have the same shape
(∂L/∂u₂ of b.reshape(4, 1, 1) is ``δ.sum(axis=(0, 2, 3)).reshape(4, 1, 1)``, not the lowering's
``δ.sum(axis=(0, 2, 3), keepdims=True)`` of shape (1, 4, 1, 1)), and so must its numbers.

>>> import sympy as sp
>>> from symgrad.frontend.tensor import Reshape, sum as tsum, tensor
>>> d = tensor("d", (2, 4, 3, 3))
>>> str(in_shape(tsum(d, (0, 2, 3), keepdims=True), (4, 1, 1)))
'd.sum(axis=(0, 2, 3)).reshape(4, 1, 1)'
>>> str(in_shape(Reshape(d, sp.Tuple(2, 4, 3, 3, 1)), (2, 4, 3, 3)))
'd'
"""
from __future__ import annotations

import numpy as np
import sympy as sp


def leading_ones_dropped(shape) -> list:
    """NumPy broadcasting adds (and drops) 1-axes in front only: b of shape (F,) against
    (N, F, H, W) is b.reshape(1, F, 1, 1), and (1, F, 1, 1) is (F, 1, 1) to it."""
    shape = list(shape)
    while shape and shape[0] == 1:
        shape.pop(0)
    return shape


def written_shape(nm, vid):
    """The shape node ``vid`` is written in when it differs from the lowering's, else None."""
    r = nm.written.get(vid)
    if r is not None:
        return tuple(r.shape)
    if vid in getattr(nm, "matvec_shape", {}):      # W @ x: (m,), not the lowering's (m, 1)
        return nm.matvec_shape[vid]
    p = nm.pools.get(vid)
    if p is not None and p.end == vid:
        shape = tuple(nm.graph.producer[vid].out.shape)
        if len(shape) == len(p.windows.inputs[0].shape) + 1 and shape[-1] == 1:
            return shape[:-1]            # the max's kept window axis, dropped as max_pool2d does
    return None


def as_written(nm, vid, value):
    """A node's value in the shape its definition writes (`written_shape`)."""
    shape = written_shape(nm, vid)
    if shape is None or value is None:
        return value
    # a symbolic axis (the batch's N) is the one the value's size leaves (-1); with two, as it is
    dims = [int(n) if getattr(sp.sympify(n), "is_Integer", False) else -1 for n in shape]
    if dims.count(-1) > 1:
        return value
    try:
        return np.reshape(value, dims)
    except ValueError:
        return value


def in_shape(e, shape):
    """The tensor expression ``e`` reshaped to ``shape``, written as a student would: a reshape of a
    reshape is one reshape (none when it gives back its input), and a sum with keepdims=True is the
    plain sum reshaped."""
    from ..frontend.tensor import Reduce, Reshape
    shape = tuple(shape)
    if isinstance(e, Reshape):
        e = e.args[0]
    elif isinstance(e, Reduce) and e.keepdims:
        e = Reduce(e.x, e.args[1], e.args[2], sp.false)
    if tuple(getattr(e, "shape", ())) == shape:
        return e
    return Reshape(e, sp.Tuple(*shape))


def merge_reshapes(e):
    """``e`` with every reshape of a reshape written as one (a closed form that puts b.reshape(4, 1, 1)'s
    gradient into ∂L/∂b = (∂L/∂u).reshape(4) would read ….reshape(4, 1, 1).reshape(4))."""
    from ..frontend.tensor import Reshape
    if not isinstance(e, sp.Basic):
        return e

    def one(r):
        inner = r.args[0]
        if not isinstance(inner, Reshape):
            return r
        x = inner.args[0]
        return x if tuple(getattr(x, "shape", ())) == tuple(r.shape) else Reshape(x, r.args[1])
    return e.replace(lambda n: isinstance(n, Reshape) and isinstance(n.args[0], Reshape), one)


def matvec_views_dropped(e):
    """``e`` without the reshapes between (n,) and (n, 1) that symgrad put around a matrix-vector
    product (W @ x of a vector x is lowered as W @ x.reshape(n, 1), then .reshape(m)): the slide
    writes ∂L/∂W = δ @ xᵀ and ∂L/∂x = Wᵀ @ δ, as the forward pass writes u = W @ x."""
    from ..frontend.tensor import Reshape, shape_of
    if not isinstance(e, sp.Basic):
        return e

    def column_view(n):
        if not isinstance(n, Reshape):
            return False
        inner = n.args[0]
        try:                   # the cotangent of a sum, 𝟙 (a OneMatrix (1, n)): 𝟙, not 𝟙.reshape(n)
            a = tuple(inner.shape) if isinstance(inner, sp.MatrixExpr) else tuple(shape_of(inner))
            s = tuple(n.shape)
        except Exception:  # noqa: BLE001 - a shape the frontend cannot say: left as it is
            return False
        return ((len(a) == 1 and s in ((a[0], 1), (1, a[0])))
                or (len(s) == 1 and a in ((s[0], 1), (1, s[0]), s)))
    def dropped(x):
        return x.replace(column_view, lambda n: n.args[0])
    return terms_kept_in_order(dropped, e)


def terms_kept_in_order(fix, e):
    """``fix`` applied to ``e``, the terms of a sum at its top kept in their order (SymPy's replace
    sorts them again: δ @ x.T + 2·λ·W, the data term first, would be 2·λ·W + δ @ x.T)."""
    from ..frontend.tensor import Ewise
    inner = e.expr if isinstance(e, Ewise) else e
    if not isinstance(inner, sp.Add) or isinstance(inner, sp.MatAdd):
        return fix(e)
    terms = [fix(a) for a in inner.args]
    if all(a is b for a, b in zip(terms, inner.args)):
        return e
    body = sp.Add(*terms, evaluate=False)
    return Ewise(body, e.args[1]) if isinstance(e, Ewise) else body


def summed(xs, shape):
    """The tensor terms ``xs`` added with NumPy's broadcasting; where a term written as the slide
    reads it has no NumPy shape of its own — δ @ x.T of a vector x (W @ x) — their sum written as
    such, of the node's ``shape`` (a weight decay beside W @ x: ∂L/∂W = 2·W + δ @ x.T)."""
    from functools import reduce
    from ..errors import SymgradError
    from ..frontend.tensor import Ewise
    try:
        return reduce(lambda a, b: a + b, xs)
    except (IndexError, ValueError, SymgradError):
        if shape is None:
            raise
        return Ewise(sp.Add(*xs), sp.Tuple(*shape))
