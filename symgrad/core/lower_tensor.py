"""Lowering of tensor expressions (`symgrad.frontend.tensor`) to IR equations: handlers registered
into `symgrad.core.lower`'s registry, one per node, each a few equations of the rule table.

NumPy broadcasting becomes explicit: an operand of an elementwise node is ``expand``-ed to the
result's shape first (the IR's ``ewise`` takes equal shapes or scalars), so its gradient is summed
back by the rule of ``expand``. Compositions: ``mean`` = ``sum`` / count, ``var`` = mean of squared
deviations, ``min`` = −max(−x), ``take_along_axis`` = Σ x ⊙ one_hot(idx), ``stack`` = reshapes and a
``concat``, ``where`` = an ``ewise`` with a ``Piecewise`` body.
"""
from __future__ import annotations

import functools
import operator

import sympy as sp

from . import array_rules as A
from . import lower as L
from . import rules as R
from ..errors import UnsupportedError
from ..frontend import tensor as T
from ..frontend.functions import clip as Clip
from ..frontend import tensor_softmax as TS
from ..frontend.tensor_arange import Arange
from .ir import Graph, Var

_on, _Handler = L._on, L._Handler


def expand_to(g: Graph, v: Var, shape) -> Var:
    return A.expand(g, v, tuple(shape))


def _count(shape, axes):
    return sp.Mul(*[sp.sympify(shape[a]) for a in axes])


# leaves ---------------------------------------------------------------------------------------------
_on(T.Tensor)(_Handler(L._no_children, lambda low, e, a: low.leaf(e)))


# elementwise: SymPy's own Add, Mul, Pow, Max, Min with broadcasting ----------------------------------


def _broadcasting(build):
    def wrapped(low, e, args):
        shapes = [v.shape for v in args if v.shape != ()]
        if len({tuple(s) for s in shapes}) > 1:
            target = T.broadcast_shapes(*shapes)
            args = [v if v.shape == () else expand_to(low.graph, v, target) for v in args]
        return build(low, e, args)
    return wrapped


for _cls in (sp.Add, sp.Mul, sp.Pow, sp.Max, sp.Min):     # wrap whatever lower.py registered
    _prev = L._HANDLERS[_cls]
    _on(_cls)(_Handler(_prev.children, _broadcasting(_prev.build)))
# clip(x, lo, hi) with tensor bounds (np.clip, torch.clamp): one ewise node of the three, broadcast
_on(Clip)(_Handler(L._SCALAR_NODE.children, _broadcasting(L._SCALAR_NODE.build)))


def _ewise(low, e, args):
    return expand_to(low.graph, args[0], e.shape) if args[0].shape != () or e.shape != () else args[0]


_on(T.Ewise)(_Handler(lambda low, e: (e.expr,), _ewise))


def _full(low, e, args):
    value = e.args[0]
    if value.free_symbols:
        return R.broadcast(low.graph, low(value), e.shape) if e.shape else low(value)
    return R.const(low.graph, value, e.shape)


_on(T.Full)(_Handler(L._no_children, _full))


# matmul ---------------------------------------------------------------------------------------------


def _matmul(low, e, args):
    """NumPy's matmul: 1-D operands become a row / column and the axis is dropped after; batch
    axes broadcast; (…, n, k) @ (k, m) with a 2-D right operand is one 2-D product of the rows."""
    g = low.graph
    a, b = args
    out_shape = e.shape
    if len(a.shape) == 1:
        a = A.reshape(g, a, (1,) + tuple(a.shape))
    if len(b.shape) == 1:
        b = A.reshape(g, b, tuple(b.shape) + (1,))
    if len(b.shape) == 2 and len(a.shape) > 2:
        rows = A.reshape(g, a, (sp.Mul(*a.shape[:-1]), a.shape[-1]))
        return A.reshape(g, R.matmul(g, rows, b), out_shape)
    batch = T.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = expand_to(g, a, batch + tuple(a.shape[-2:]))
    b = expand_to(g, b, batch + tuple(b.shape[-2:]))
    return A.reshape(g, A.bmatmul(g, a, b), out_shape)


_on(T.TensorMatMul)(_Handler(L._args, _matmul))


# reductions -----------------------------------------------------------------------------------------


def _max_over(g, x: Var, axes, keepdims):
    """max over several axes: move them to the end, merge them into one, one ``rmax``."""
    nd = len(x.shape)
    rest = [i for i in range(nd) if i not in axes]
    if len(axes) == 1:
        m = A.rmax(g, x, axes[0])
    else:
        moved = A.permute(g, x, tuple(rest) + tuple(axes))
        merged = A.reshape(g, moved, tuple(x.shape[i] for i in rest) + (_count(x.shape, axes),))
        m = A.rmax(g, merged, len(rest))
        m = A.reshape(g, m, T.reduced_shape(x.shape, axes, keepdims=True))
    if keepdims:
        return m
    return A.reshape(g, m, T.reduced_shape(x.shape, axes))


def _reduce(low, e, args):
    g, (x,) = low.graph, args
    axes, keep, op = e.axes, e.keepdims, e.op
    if op == "sum":
        return A.sum_axes(g, x, axes, keep)
    if op == "mean":
        s = A.sum_axes(g, x, axes, keep)
        return R.ewise(g, R.ph(0) / _count(x.shape, axes), s, shape=s.shape)
    if op == "max":
        return _max_over(g, x, axes, keep)
    if op == "min":                           # min x = −max(−x): the first arg-min takes the gradient
        neg = R.ewise(g, -R.ph(0), x, shape=x.shape)
        m = _max_over(g, neg, axes, keep)
        return R.ewise(g, -R.ph(0), m, shape=m.shape)
    raise UnsupportedError(f"reduction {op!r}: supported are sum, mean, max, min")


_on(T.Reduce)(_Handler(lambda low, e: (e.x,), _reduce))


def _deviation(e):
    """x − mean(x, axes) of a variance, written as people write it next to the var (batch norm's
    ``z - z.mean(axis=0)``, layer norm's ``x - x.mean(axis=-1, keepdims=True)``): lowered from the
    same SymPy expression, hash-consing makes it the user's node, so z − μ is computed once."""
    axes, nd = e.axes, len(e.x.shape)
    leading = tuple(sorted(a % nd for a in axes)) == tuple(range(len(axes)))   # broadcasts without keepdims
    # a var with keepdims=True is written beside a mean with keepdims=True (x − x.mean(axis=0,
    # keepdims=True)), even over leading axes: the same node then, not a second mean of another shape
    return e.x - T.mean(e.x, axis=axes if len(axes) > 1 else axes[0], keepdims=e.keepdims or not leading)


def _variance(low, e, args):
    """var = Σ (x − mean)² / (n − correction)."""
    g, (dev,) = low.graph, args
    d2 = R.ewise(g, R.ph(0) ** 2, dev, shape=dev.shape)
    s = A.sum_axes(g, d2, e.axes, e.keepdims)
    return R.ewise(g, R.ph(0) / (_count(e.x.shape, e.axes) - e.correction), s, shape=s.shape)


_on(T.Variance)(_Handler(lambda low, e: (_deviation(e),), _variance))


# movement -------------------------------------------------------------------------------------------
_on(T.Reshape)(_Handler(lambda low, e: (e.args[0],), lambda low, e, a: A.reshape(low.graph, a[0], e.shape)))
_on(T.Permute)(_Handler(lambda low, e: (e.args[0],), lambda low, e, a: A.permute(low.graph, a[0], e.axes)))
_on(T.BroadcastTo)(_Handler(lambda low, e: (e.args[0],), lambda low, e, a: expand_to(low.graph, a[0], e.shape)))


def _index(low, e, args):
    """x[items]: a ``slice`` keeping every axis (an integer i is i:i+1), then a reshape that drops
    the integer-indexed axes."""
    g, (x,) = low.graph, args
    items = [tuple(it) if isinstance(it, sp.Tuple) else (it, it + 1, sp.S.One) for it in e.items]
    s = A.slice_(g, x, items)
    return A.reshape(g, s, e.shape)


_on(T.Index)(_Handler(lambda low, e: (e.args[0],), _index))
_on(T.Pad)(_Handler(lambda low, e: (e.args[0],), lambda low, e, a: A.pad(
    low.graph, a[0], e.shape, tuple(tuple(it) for it in e.args[2]))))
_on(T.Concat)(_Handler(lambda low, e: tuple(e.args[0]), lambda low, e, a: A.concat(low.graph, a, e.axis)))


# selection ------------------------------------------------------------------------------------------


def _where_children(low, e):
    cond, a, b = e.args
    if isinstance(cond, sp.core.relational.Relational):
        return (cond.lhs, cond.rhs, a, b)
    if isinstance(cond, sp.logic.boolalg.Boolean):
        raise UnsupportedError(f"where: the condition {cond} must be one comparison (x > 0) or an "
                               f"integer tensor")
    return (cond, a, b)


def _where(low, e, args):
    cond = e.args[0]
    g = low.graph
    shape = e.shape
    args = [v if v.shape == () else expand_to(g, v, shape) for v in args]
    P = R.placeholders(len(args))
    if isinstance(cond, sp.core.relational.Relational):
        test = cond.func(P[0], P[1])
        a, b = P[2], P[3]
    else:
        test = sp.Ne(P[0], 0)
        a, b = P[1], P[2]
    return R.ewise(g, sp.Piecewise((a, test), (b, True)), *args, shape=shape)


_on(T.Where)(_Handler(_where_children, _where))


def _is_two_pieces(e) -> bool:
    """Piecewise((a, comparison), (b, True)): one where, lowered directly."""
    return len(e.args) == 2 and e.args[1].cond == sp.true and isinstance(e.args[0].cond, sp.core.relational.Relational)


def _piecewise_children(low, e):
    if _is_two_pieces(e):
        (a, c), (b, _) = e.args
        return (c.lhs, c.rhs, a, b)
    if not T.is_tensor_expr(e):
        raise UnsupportedError(f"Piecewise {e}: of scalars, symgrad lowers two pieces, (a, comparison), "
                               f"(b, True) (nest them: Piecewise((a, c1), (Piecewise((b, c2), (d, True)), "
                               f"True))); of tensors, any number, with And / Or / Not conditions")
    return (_as_wheres(e),)


def _piecewise(low, e, args):
    if _is_two_pieces(e):
        return _where(low, T.Where(e.args[0].cond, e.args[0].expr, e.args[1].expr), args)
    return args[0]


def _as_wheres(e):
    """Piecewise((a1, c1), (a2, c2), …, (an, True)), as a lecture writes a Huber loss or a spline:
    nested wheres, where(c1, a1, where(c2, a2, … an)), each condition a comparison or a 0/1 mask of
    And / Or / Not of comparisons (`_mask`)."""
    *pieces, (last, otherwise) = e.args
    if otherwise != sp.true:
        raise UnsupportedError(f"Piecewise {e}: its last piece must be (b, True), the value where no "
                               f"condition holds (otherwise the entries there are undefined)")
    out = last
    for a, c in reversed(pieces):
        out = T.where(c if isinstance(c, sp.core.relational.Relational) else _mask(c, e), a, out)
    return out


def _mask(c, e):
    """A condition of a Piecewise as a 0/1 tensor: a comparison's where(c, 1, 0), And a product, Or
    1 − Π(1 − ·), Not 1 − ·."""
    if isinstance(c, sp.core.relational.Relational):
        return T.where(c, 1, 0)
    if isinstance(c, sp.And):
        return functools.reduce(operator.mul, [_mask(a, e) for a in c.args])
    if isinstance(c, sp.Or):
        return 1 - functools.reduce(operator.mul, [1 - _mask(a, e) for a in c.args])
    if isinstance(c, sp.Not):
        return 1 - _mask(c.args[0], e)
    raise UnsupportedError(f"Piecewise {e}: the condition {c} must be a comparison (x > 0) or And / Or / "
                           f"Not of comparisons ((x > -1) & (x < 1))")


_on(sp.Piecewise)(_Handler(_piecewise_children, _piecewise))
_on(T.OneHot)(_Handler(lambda low, e: (e.args[0],), lambda low, e, a: A.one_hot(low.graph, a[0], e.n, e.axis)))
# arange(n), where no consumer made it a slice or an eye: the running count of ones (its values as reals,
# as every integer in the IR: argmax's, one_hot's and take's indices are read as whole numbers)
_on(Arange)(_Handler(lambda low, e: (e.counted(),), lambda low, e, a: a[0]))
_on(T.ArgMax)(_Handler(lambda low, e: (e.args[0],), lambda low, e, a: A.argmax(low.graph, a[0], int(e.args[1]))))
_on(T.Take)(_Handler(lambda low, e: e.args[:2], lambda low, e, a: A.take(low.graph, a[0], a[1], e.axis)))
_on(T.ScatterAdd)(_Handler(lambda low, e: e.args[:2], lambda low, e, a: A.scatter_add(
    low.graph, a[0], a[1], int(e.args[2]), e.args[3])))


def _take_along(low, e, args):
    """take_along_axis(x, idx, axis)[…, j, …] = Σ_c x[…, c, …] · [idx[…, j, …] = c]: a one-hot
    over a new last axis of size n, x's axis moved there, one Σ (so its gradient reads one_hot)."""
    g = low.graph
    x, idx = args
    ax = int(e.args[2])
    nd = len(x.shape)
    n = x.shape[ax]
    out = e.shape
    if R.dims_equal(idx.shape[ax], 1):
        # one index per row (labels): Σ_c x ⊙ one_hot(idx, n) over the axis itself, so that the
        # gradient reads ḡ ⊙ one_hot(y, n)
        batch = T.reduced_shape(out, (ax,))
        lab = A.reshape(g, expand_to(g, idx, T.reduced_shape(out, (ax,), keepdims=True)), batch)
        full = tuple(n if i == ax else d for i, d in enumerate(out))
        prod = R.ewise(g, R.ph(0) * R.ph(1), expand_to(g, x, full), A.one_hot(g, lab, n, ax), shape=full)
        return A.rsum(g, prod, (ax,))
    oh = A.one_hot(g, expand_to(g, idx, tuple(out)), n, nd)                       # out + (n,)
    moved = A.permute(g, x, tuple(i for i in range(nd) if i != ax) + (ax,))      # axis last
    moved = A.reshape(g, moved, tuple(1 if i == ax else x.shape[i] for i in range(nd)) + (n,))
    full = tuple(out) + (n,)
    prod = R.ewise(g, R.ph(0) * R.ph(1), expand_to(g, moved, full), oh, shape=full)
    return A.reshape(g, A.rsum(g, prod, (nd,)), tuple(out))


_on(T.TakeAlong)(_Handler(lambda low, e: e.args[:2], _take_along))


def check_not_matrix_mixed(e):
    """A MatrixSymbol inside a tensor expression: the documented error."""
    T.shape_of(e)


__all__ = ["expand_to"]


# the softmax family over an axis ----------------------------------------------------------------------


def _logsumexp(low, e, args):
    m = A.lse(low.graph, args[0], e.axis)
    return m if e.keepdims else A.reshape(low.graph, m, e.shape)


def _log_softmax(low, e, args):
    g, (x,) = low.graph, args
    return R.ewise(g, R.ph(0) - R.ph(1), x, A.expand(g, A.lse(g, x, e.axis), x.shape), shape=x.shape)


_on(TS.LogSumExpT)(_Handler(lambda low, e: (e.x,), _logsumexp))
_on(TS.SoftmaxT)(_Handler(lambda low, e: (e.x,), lambda low, e, a: A.softmax(low.graph, a[0], e.axis)))
_on(TS.LogSoftmaxT)(_Handler(lambda low, e: (e.x,), _log_softmax))
