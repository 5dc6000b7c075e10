"""The N-d primitives and their rules, one row each, registered into the same table as `rules.py`.

    reshape[shape]        x viewed with another shape           vjp: reshape ḡ back
    permute[axes]         the axes reordered                    vjp: permute ḡ by the inverse (argsort)
    expand[shape]         size-1 axes repeated (same rank)      vjp: sum ḡ over the expanded axes
    rsum[axes]            Σ over axes, kept with size 1         vjp: expand ḡ back
    rmax[axis]            max over one axis, kept with size 1   vjp: ḡ · one_hot(argmax) (first arg-max)
    argmax[axis]          first index of the max (integer)      no gradient
    one_hot[n, axis]      integer labels to a 0/1 axis of size n     no gradient
    slice[items]          x[start:stop:step, ...] (same rank)   vjp: pad ḡ into zeros
    pad[shape, items]     ḡ placed at the sliced positions      vjp: slice
    concat[axis]          joined along axis                     vjp: a slice per input
    take[axis]            x at integer indices along axis       vjp: scatter_add ḡ (repeats add up)
    scatter_add[axis, n]  ḡ added at the indices (np.add.at)    vjp: take
    bmatmul               A @ B batched over equal leading axes  vjp: ḡ @ Bᵀ, Aᵀ @ ḡ

Every movement's adjoint is another movement of the table (as tinygrad's gradient table); the
elementwise part is the existing ``ewise``, 2-D products the existing ``matmul`` and ``transpose``,
and Σ over every axis the existing ``sum[None]``. A tensor declaration lowers to these (see
`symgrad.core.lower_tensor`); conversion back to SymPy gives the NumPy vocabulary of
`symgrad.frontend.tensor` (``dout.sum(axis=0)``, ``x.reshape(N, 6).T @ dout``).

Shapes may hold symbolic dimensions (N); the evaluator binds them from the arrays and substitutes
them into the params before calling an ``impl``.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Tuple

from . import rules as R
from ..errors import LabelRangeError, MixedArrayError, ShapeError, show_value
from ..frontend import tensor as T
from ..frontend import tensor_softmax as TS
from .ir import Graph, Primitive, Var, dims_equal, format_shape, shapes_equal
from .placeholders import ph


def _ints(shape):
    for d in shape:
        if not sp.sympify(d).is_Integer:
            raise ShapeError(f"the size {d} is not known: pass an array that has it, or its value "
                             f"({{{d}: 4}}) with the values")
    return tuple(int(d) for d in shape)


def _prim(name, rule, fmt=None):
    p = Primitive(name)
    p.rule = rule
    if fmt is not None:
        p.format_params = fmt
    R.PRIMITIVES[name] = p
    return p


# ===================================================================================================
# Converting arguments back to the tensor language


def tensor_language(args, shape) -> bool:
    """Whether an equation converts back to the tensor language: an argument is a tensor
    expression, or its rank is neither a scalar's nor a matrix's."""
    return len(shape) not in (0, 2) or any(T.is_tensor_expr(a) for a in args)


def as_tensor_form(e, shape=None):
    """A SymPy value in the tensor language: a matrix-language constant (OneMatrix, c·OneMatrix,
    ZeroMatrix) becomes `Full`; a plain expression of tensors an `Ewise`."""
    if isinstance(e, (sp.MatrixExpr, sp.MatrixBase)):
        s = tuple(R._dim(d) for d in e.shape)
        if isinstance(e, sp.OneMatrix):
            return T.Full(sp.S.One, Tuple(*s))
        if isinstance(e, sp.ZeroMatrix):
            return T.Full(sp.S.Zero, Tuple(*s))
        if isinstance(e, sp.MatMul) and isinstance(e.args[-1], sp.OneMatrix) and \
                not any(isinstance(a, sp.MatrixExpr) for a in e.args[:-1]):
            return T.Full(sp.Mul(*e.args[:-1]), Tuple(*s))
        raise MixedArrayError(f"the matrix expression {e} meets a tensor expression; the two "
                                f"array languages do not mix")
    if isinstance(e, T.TensorExpr):
        return e
    if shape is not None and len(shape) and not T.is_tensor_expr(e):
        return T.Full(e, Tuple(*shape))
    return T.as_tensor(e) if T.is_tensor_expr(e) else e


def tensor_zero(w):
    """The zero gradient of a tensor w: zeros of its shape."""
    return T.Full(sp.S.Zero, Tuple(*w.shape))


def _targs(args, shapes=None):
    return [as_tensor_form(a, s) for a, s in zip(args, shapes or [None] * len(args))]


# ===================================================================================================
# reshape


reshape_p = _prim("reshape", "reshape", lambda p: format_shape(p[0]))


def reshape(g: Graph, x: Var, shape) -> Var:
    shape = tuple(shape)
    if shapes_equal(x.shape, shape):
        return x
    e = g.producer[x.id]
    if e.prim is reshape_p:                   # reshape(reshape(x)) = reshape(x)
        return reshape(g, e.inputs[0], shape)
    if e.prim is R.transpose_p and any(d == 1 for d in e.inputs[0].shape):
        # the transpose of a (n, 1) or (1, n) keeps the entries' order: a reshape, so that
        # y.reshape(3, 1).T.reshape(3) (∂(x @ y)/∂x) is y
        return reshape(g, e.inputs[0], shape)
    u = R.uniform_value(g, x)
    if u is not None:
        return R.const(g, u, shape)
    return g.bind(reshape_p, (x,), (shape,))


reshape_p.shape = lambda shapes, params: params[0]
reshape_p.impl = lambda args, params: np.reshape(args[0], _ints(params[0]))
reshape_p.vjp = lambda g, eqn, ct, want: [reshape(g, ct, eqn.inputs[0].shape)]
reshape_p.jvp = lambda g, eqn, t: reshape(g, t[0], eqn.params[0])
def _reshape_to_sympy(args, params, shape):
    x = _targs(args)[0]
    # x.sum(axis, keepdims=True).reshape(without those axes) reads x.sum(axis)
    if isinstance(x, T.Reduce) and x.keepdims:
        dropped = T.reduced_shape(x.shape, x.axes)
        if shapes_equal(dropped, tuple(params[0])):
            return T.Reduce(x.x, x.args[1], x.args[2], sp.false)
    return T.Reshape(x, Tuple(*params[0]))


reshape_p.to_sympy = _reshape_to_sympy


# ===================================================================================================
# permute


permute_p = _prim("permute", "transpose (permute the axes)", lambda p: str(p[0]))


def permute(g: Graph, x: Var, axes) -> Var:
    axes = tuple(int(a) for a in axes)
    if axes == tuple(range(len(axes))):
        return x
    if len(axes) == 2:
        return R.transpose(g, x)              # the matrix transpose: shared with matmul's rules
    e = g.producer[x.id]
    if e.prim is permute_p:                   # permute(permute(x, p), q) = permute(x, p∘q)
        inner = e.params[0]
        return permute(g, e.inputs[0], tuple(inner[a] for a in axes))
    u = R.uniform_value(g, x)
    if u is not None:
        return R.const(g, u, tuple(x.shape[a] for a in axes))
    return g.bind(permute_p, (x,), (axes,))


def _argsort(axes):
    return tuple(int(i) for i in np.argsort(axes))


permute_p.shape = lambda shapes, params: tuple(shapes[0][a] for a in params[0])
permute_p.impl = lambda args, params: np.transpose(args[0], params[0])
permute_p.vjp = lambda g, eqn, ct, want: [permute(g, ct, _argsort(eqn.params[0]))]
permute_p.jvp = lambda g, eqn, t: permute(g, t[0], eqn.params[0])


def _permute_to_sympy(args, params, shape):
    x, axes = _targs(args)[0], tuple(int(a) for a in params[0])
    # a broadcast operand may read without its leading axes of size 1 (NumPy adds them: the steps
    # write tril(𝟙) for its (1, 1, T, T) copy); a permutation that keeps those axes in place is
    # then one of x's own axes
    try:
        k = len(axes) - len(T.shape_of(x))
    except (IndexError, ShapeError):     # a step's node whose shape is read only when it is shown
        k = 0
    if k > 0 and axes[:k] == tuple(range(k)):
        axes = tuple(a - k for a in axes[k:])
    return T.Permute(x, Tuple(*axes))


permute_p.to_sympy = _permute_to_sympy


def swap_last(g: Graph, x: Var) -> Var:
    n = len(x.shape)
    return permute(g, x, tuple(range(n - 2)) + (n - 1, n - 2))


# ===================================================================================================
# expand (broadcast along size-1 axes) and rsum (its adjoint)


expand_p = _prim("expand", "broadcast", lambda p: format_shape(p[0]))
rsum_p = _prim("rsum", "sum over axes", lambda p: f"axes={p[0]}")


def expand(g: Graph, x: Var, shape) -> Var:
    """x broadcast to ``shape`` by NumPy's rule: leading axes added by a reshape, size-1 axes by
    an ``expand``; a scalar by the existing ``broadcast``."""
    shape = tuple(shape)
    if shapes_equal(x.shape, shape):
        return x
    if x.shape == ():
        return R.broadcast(g, x, shape)
    if len(x.shape) < len(shape):
        x = reshape(g, x, (1,) * (len(shape) - len(x.shape)) + tuple(x.shape))
        if shapes_equal(x.shape, shape):
            return x
    u = R.uniform_value(g, x)
    if u is not None:
        return R.const(g, u, shape)
    return g.bind(expand_p, (x,), (shape,))


def _expand_shape(shapes, params):
    s, shape = shapes[0], params[0]
    if len(s) != len(shape) or any(not (dims_equal(a, 1) or dims_equal(a, b)) for a, b in zip(s, shape)):
        raise ShapeError(f"cannot broadcast {format_shape(s)} to {format_shape(shape)}")
    return shape


def _expanded_axes(s, shape):
    return tuple(i for i, (a, b) in enumerate(zip(s, shape)) if dims_equal(a, 1) and not dims_equal(b, 1))


expand_p.shape = _expand_shape
expand_p.impl = lambda args, params: np.broadcast_to(args[0], _ints(params[0])).copy()
expand_p.vjp = lambda g, eqn, ct, want: [rsum(g, ct, _expanded_axes(eqn.inputs[0].shape, eqn.params[0]))]
expand_p.jvp = lambda g, eqn, t: expand(g, t[0], eqn.params[0])
def _expand_to_sympy(args, params, shape):
    x = _targs(args)[0]
    # broadcast_to(y.reshape(1, 3), (4, 3)) reads broadcast_to(y, (4, 3)): NumPy adds leading axes
    if isinstance(x, T.Reshape):
        inner = x.args[0].shape
        k = len(x.shape) - len(inner)
        if k > 0 and all(dims_equal(d, 1) for d in x.shape[:k]) and shapes_equal(x.shape[k:], inner):
            x = x.args[0]
    return T.BroadcastTo(x, Tuple(*params[0]))


expand_p.to_sympy = _expand_to_sympy


def rsum(g: Graph, x: Var, axes) -> Var:
    """Σ over ``axes``, keeping them with size 1 (NumPy's keepdims=True)."""
    axes = tuple(sorted(int(a) for a in axes if not dims_equal(x.shape[a], 1)))
    if not axes:
        return x
    return g.bind(rsum_p, (x,), (axes,))


rsum_p.shape = lambda shapes, params: T.reduced_shape(shapes[0], params[0], keepdims=True)
rsum_p.impl = lambda args, params: np.sum(args[0], axis=params[0], keepdims=True)
rsum_p.vjp = lambda g, eqn, ct, want: [expand(g, ct, eqn.inputs[0].shape)]
rsum_p.jvp = lambda g, eqn, t: rsum(g, t[0], eqn.params[0])
rsum_p.to_sympy = lambda args, params, shape: T.Reduce(_targs(args)[0], sp.core.symbol.Str("sum"),
                                                       Tuple(*params[0]), sp.true)


def sum_axes(g: Graph, x: Var, axes, keepdims: bool) -> Var:
    """Σ over ``axes`` as NumPy's sum: every axis without keepdims is the existing ``sum[None]``."""
    nd = len(x.shape)
    axes = tuple(sorted(axes))
    if not keepdims and axes == tuple(range(nd)):
        return R.reduce_sum(g, x, None)
    s = rsum(g, x, axes)
    if keepdims:
        return s
    return reshape(g, s, T.reduced_shape(x.shape, axes))


# ===================================================================================================
# rmax, argmax, one_hot


rmax_p = _prim("rmax", "max over an axis (the gradient goes to the first arg-max)", lambda p: f"axis={p[0]}")
argmax_p = _prim("argmax", "arg-max (integer, no gradient)", lambda p: f"axis={p[0]}")
one_hot_p = _prim("one_hot", "one-hot encoding (no gradient)", lambda p: f"n={p[0]}, axis={p[1]}")


def rmax(g: Graph, x: Var, axis: int) -> Var:
    return g.bind(rmax_p, (x,), (int(axis),))


def argmax(g: Graph, x: Var, axis: int) -> Var:
    return g.bind(argmax_p, (x,), (int(axis),))


def one_hot(g: Graph, y: Var, n, axis: int) -> Var:
    return g.bind(one_hot_p, (y,), (R._dim(n), int(axis)))


def _rmax_mask(g, eqn):
    """one_hot(argmax(x, axis), n, axis): 1 at the first arg-max along the axis (the policy)."""
    x, axis = eqn.inputs[0], eqn.params[0]
    return one_hot(g, argmax(g, x, axis), x.shape[axis], axis)


def _rmax_vjp(g, eqn, ct, want):
    x = eqn.inputs[0]
    return [R.ewise(g, ph(0) * ph(1), expand(g, ct, x.shape), _rmax_mask(g, eqn), shape=x.shape)]


def _rmax_jvp(g, eqn, t):
    x = eqn.inputs[0]
    picked = R.ewise(g, ph(0) * ph(1), t[0], _rmax_mask(g, eqn), shape=x.shape)
    return rsum(g, picked, (eqn.params[0],))


rmax_p.shape = lambda shapes, params: T.reduced_shape(shapes[0], (params[0],), keepdims=True)
rmax_p.impl = lambda args, params: np.max(args[0], axis=params[0], keepdims=True)
rmax_p.vjp = _rmax_vjp
rmax_p.jvp = _rmax_jvp
rmax_p.to_sympy = lambda args, params, shape: T.Reduce(_targs(args)[0], sp.core.symbol.Str("max"),
                                                       Tuple(params[0]), sp.true)

argmax_p.shape = lambda shapes, params: T.reduced_shape(shapes[0], (params[0],))
argmax_p.impl = lambda args, params: np.argmax(args[0], axis=params[0]).astype(float)
argmax_p.vjp = lambda g, eqn, ct, want: [None]
argmax_p.jvp = lambda g, eqn, t: None
argmax_p.to_sympy = lambda args, params, shape: T.ArgMax(_targs(args)[0], sp.Integer(params[0]))


def _whole(values, who: str) -> np.ndarray:
    """The labels or indices as int64; a value that is not a whole number (0.5, NaN) is refused,
    not truncated to another class by astype."""
    v = np.asarray(values)
    with np.errstate(invalid="ignore"):
        i = v.astype(np.int64)
    if v.dtype.kind not in "iub" and v.size:
        bad = ~(v == i)
        if bad.any():
            raise LabelRangeError(f"{who} {show_value(v[bad].ravel()[0])} is not a whole number "
                                  f"(labels and indices are integers)")
    return i


def _one_hot_impl(args, params):
    y, (n, axis) = args[0], params
    n = int(n)
    yi = _whole(y, "one_hot: label")
    if yi.size and (yi.min() < 0 or yi.max() >= n):
        bad = yi[(yi < 0) | (yi >= n)].ravel()[0]
        raise LabelRangeError(f"one_hot: label {bad} is outside 0 … {n - 1}")
    oh = (yi[..., None] == np.arange(n)).astype(float)
    return np.moveaxis(oh, -1, axis)


one_hot_p.shape = lambda shapes, params: tuple(shapes[0][:params[1]]) + (params[0],) + tuple(shapes[0][params[1]:])
one_hot_p.impl = _one_hot_impl
one_hot_p.vjp = lambda g, eqn, ct, want: [None]
one_hot_p.jvp = lambda g, eqn, t: None
one_hot_p.to_sympy = lambda args, params, shape: T.OneHot(_targs(args)[0], sp.sympify(params[0]),
                                                          sp.Integer(params[1]))


# ===================================================================================================
# slice and pad: each other's adjoint. items: one (start, stop, step) per axis.


slice_p = _prim("slice", "slice", lambda p: _fmt_items(p[0]))
pad_p = _prim("pad", "pad (the adjoint of a slice)", lambda p: f"{format_shape(p[0])}, {_fmt_items(p[1])}")


def _fmt_items(items):
    return "[" + ", ".join(f"{a}:{b}:{c}" for a, b, c in items) + "]"


def _slices(items):
    return tuple(slice(int(a), int(b), int(c)) for a, b, c in items)


def _items_shape(items):
    return tuple(T._slice_len(a, b, c) for a, b, c in items)


def slice_(g: Graph, x: Var, items) -> Var:
    items = tuple(tuple(sp.sympify(v) for v in it) for it in items)
    if all(a == 0 and dims_equal(b, d) and c == 1 for (a, b, c), d in zip(items, x.shape)):
        return x
    return g.bind(slice_p, (x,), (items,))


def pad(g: Graph, x: Var, shape, items) -> Var:
    return g.bind(pad_p, (x,), (tuple(shape), items))


def _pad_impl(args, params):
    shape, items = params
    z = np.zeros(_ints(shape))
    z[_slices(items)] = args[0]
    return z


slice_p.shape = lambda shapes, params: _items_shape(params[0])
slice_p.impl = lambda args, params: np.array(args[0][_slices(params[0])])
slice_p.vjp = lambda g, eqn, ct, want: [pad(g, ct, eqn.inputs[0].shape, eqn.params[0])]
slice_p.jvp = lambda g, eqn, t: slice_(g, t[0], eqn.params[0])
slice_p.to_sympy = lambda args, params, shape: T.Index(_targs(args)[0], Tuple(*[Tuple(*it) for it in params[0]]))

pad_p.shape = lambda shapes, params: params[0]
pad_p.impl = _pad_impl
pad_p.vjp = lambda g, eqn, ct, want: [slice_(g, ct, eqn.params[1])]
pad_p.jvp = lambda g, eqn, t: pad(g, t[0], *eqn.params)
pad_p.to_sympy = lambda args, params, shape: T.Pad(_targs(args)[0], Tuple(*params[0]),
                                                   Tuple(*[Tuple(*it) for it in params[1]]))


# ===================================================================================================
# concat: its adjoint is one slice per input


concat_p = _prim("concat", "concatenate", lambda p: f"axis={p[0]}")


def concat(g: Graph, xs, axis: int) -> Var:
    xs = tuple(xs)
    if len(xs) == 1:
        return xs[0]
    return g.bind(concat_p, xs, (int(axis),))


def _concat_shape(shapes, params):
    ax = params[0]
    s = list(shapes[0])
    s[ax] = R._dim(sp.Add(*[t[ax] for t in shapes]))
    return tuple(s)


def _concat_vjp(g, eqn, ct, want):
    ax, start, out = eqn.params[0], sp.S.Zero, []
    for x, w in zip(eqn.inputs, want):
        stop = start + x.shape[ax]
        items = tuple((sp.S.Zero, sp.sympify(d), sp.S.One) if i != ax else (start, stop, sp.S.One)
                      for i, d in enumerate(ct.shape))
        out.append(slice_(g, ct, items) if w else None)
        start = stop
    return out


concat_p.shape = _concat_shape
concat_p.impl = lambda args, params: np.concatenate(args, axis=params[0])
concat_p.vjp = _concat_vjp
concat_p.jvp = lambda g, eqn, t: concat(g, [ti if ti is not None else R.const(g, 0, x.shape)
                                            for ti, x in zip(t, eqn.inputs)], eqn.params[0])
concat_p.to_sympy = lambda args, params, shape: T.Concat(Tuple(*_targs(args)), sp.Integer(params[0]))


# ===================================================================================================
# take and scatter_add: each other's adjoint


take_p = _prim("take", "take (gather at integer indices)", lambda p: f"axis={p[0]}")
scatter_add_p = _prim("scatter_add", "scatter-add (the adjoint of take)", lambda p: f"axis={p[0]}, n={p[1]}")


def take(g: Graph, x: Var, idx: Var, axis: int) -> Var:
    return g.bind(take_p, (x, idx), (int(axis),))


def scatter_add(g: Graph, ct: Var, idx: Var, axis: int, n) -> Var:
    return g.bind(scatter_add_p, (ct, idx), (int(axis), R._dim(n)))


def _indices(idx, n, who):
    """Indices 0 … n − 1, as torch takes them: a negative one is refused, not read from the end as
    NumPy would (the compiled programs check the same, `symgrad.compiling.batch_kind.label_bounds`)."""
    i = _whole(idx, f"{who}: index")
    if i.size and (i.min() < 0 or i.max() >= n):
        bad = i[(i < 0) | (i >= n)].ravel()[0]
        raise LabelRangeError(f"{who}: index {bad} is outside 0 … {n - 1} (an axis of size {n}; "
                              f"negative indices are refused, as torch refuses them)")
    return i


def _take_impl(args, params):
    x, idx = args
    ax = params[0]
    return np.take(x, _indices(idx, x.shape[ax], "take"), axis=ax)


def _scatter_impl(args, params):
    ct, idx = args
    ax, n = params[0], int(params[1])
    i = _indices(idx, n, "scatter_add")
    out = np.zeros(ct.shape[:ax] + (n,) + ct.shape[ax + i.ndim:])
    # np.add.at on the axis moved to the front: repeated indices accumulate.
    np.add.at(np.moveaxis(out, ax, 0), i, np.moveaxis(ct, tuple(range(ax, ax + i.ndim)),
                                                       tuple(range(i.ndim))))
    return out


take_p.shape = lambda shapes, params: (tuple(shapes[0][:params[0]]) + tuple(shapes[1])
                                       + tuple(shapes[0][params[0] + 1:]))
take_p.impl = _take_impl
take_p.vjp = lambda g, eqn, ct, want: [
    scatter_add(g, ct, eqn.inputs[1], eqn.params[0], eqn.inputs[0].shape[eqn.params[0]]) if want[0] else None,
    None]
take_p.jvp = lambda g, eqn, t: take(g, t[0], eqn.inputs[1], eqn.params[0]) if t[0] is not None else None
take_p.to_sympy = lambda args, params, shape: T.Take(*_targs(args), sp.Integer(params[0]))


def _scatter_shape(shapes, params):
    s, k, (ax, n) = shapes[0], len(shapes[1]), params
    return tuple(s[:ax]) + (n,) + tuple(s[ax + k:])


scatter_add_p.shape = _scatter_shape
scatter_add_p.impl = _scatter_impl
scatter_add_p.vjp = lambda g, eqn, ct, want: [take(g, ct, eqn.inputs[1], eqn.params[0]) if want[0] else None, None]
scatter_add_p.jvp = lambda g, eqn, t: (scatter_add(g, t[0], eqn.inputs[1], *eqn.params)
                                       if t[0] is not None else None)
scatter_add_p.to_sympy = lambda args, params, shape: T.ScatterAdd(*_targs(args), sp.Integer(params[0]),
                                                                  sp.sympify(params[1]))


# ===================================================================================================
# bmatmul: A @ B over equal leading (batch) axes, rank ≥ 3


bmatmul_p = _prim("bmatmul", "matrix product (batched)")


def bmatmul(g: Graph, a: Var, b: Var) -> Var:
    if len(a.shape) == 2 and len(b.shape) == 2:
        return R.matmul(g, a, b)
    return g.bind(bmatmul_p, (a, b))


def _bmatmul_shape(shapes, params):
    a, b = shapes
    if len(a) != len(b) or len(a) < 3 or not shapes_equal(a[:-2], b[:-2]) or not dims_equal(a[-1], b[-2]):
        raise ShapeError(f"batched matrix product: {format_shape(a)} @ {format_shape(b)} need equal "
                         f"batch axes and inner dimensions")
    return tuple(a[:-1]) + (b[-1],)


bmatmul_p.shape = _bmatmul_shape
bmatmul_p.impl = lambda args, params: np.matmul(args[0], args[1])
bmatmul_p.vjp = lambda g, eqn, ct, want: [
    bmatmul(g, ct, swap_last(g, eqn.inputs[1])) if want[0] else None,      # ∂L/∂A = ḡ @ Bᵀ
    bmatmul(g, swap_last(g, eqn.inputs[0]), ct) if want[1] else None]      # ∂L/∂B = Aᵀ @ ḡ
bmatmul_p.jvp = lambda g, eqn, t: R.add_n(g, [
    bmatmul(g, t[0], eqn.inputs[1]) if t[0] is not None else None,
    bmatmul(g, eqn.inputs[0], t[1]) if t[1] is not None else None], eqn.out.shape)
bmatmul_p.to_sympy = lambda args, params, shape: T.TensorMatMul(*_targs(args))


# ===================================================================================================
# lse[axis]: log Σ exp over one axis, kept with size 1, max-shifted. Its gradient is the softmax.


lse_p = _prim("lse", "log-sum-exp over an axis (its gradient is softmax)", lambda p: f"axis={p[0]}")


def lse(g: Graph, x: Var, axis: int) -> Var:
    return g.bind(lse_p, (x,), (int(axis),))


def softmax(g: Graph, x: Var, axis: int) -> Var:
    """softmax(x, axis) = exp(x − lse(x, axis)): one equation, whether the user wrote softmax or it
    arises as the gradient of logsumexp, so hash-consing shares it."""
    return R.ewise(g, sp.exp(ph(0) - ph(1)), x, expand(g, lse(g, x, axis), x.shape), shape=x.shape)


def _lse_impl(args, params):
    x, ax = np.asarray(args[0], float), params[0]
    m = np.max(x, axis=ax, keepdims=True)
    m[~np.isfinite(m)] = 0      # a row of −inf only: log 0 = −inf, as torch's (−inf − (−inf) was NaN)
    with np.errstate(divide="ignore"):      # that row's log 0 is the documented −inf, not a warning
        return m + np.log(np.sum(np.exp(x - m), axis=ax, keepdims=True))


lse_p.shape = lambda shapes, params: T.reduced_shape(shapes[0], (params[0],), keepdims=True)
lse_p.impl = _lse_impl
lse_p.vjp = lambda g, eqn, ct, want: [R.ewise(g, ph(0) * ph(1), expand(g, ct, eqn.inputs[0].shape),
                                              softmax(g, eqn.inputs[0], eqn.params[0]),
                                              shape=eqn.inputs[0].shape)]          # ḡ · softmax(x)
lse_p.jvp = lambda g, eqn, t: rsum(g, R.ewise(g, ph(0) * ph(1), t[0], softmax(g, eqn.inputs[0], eqn.params[0]),
                                              shape=eqn.inputs[0].shape), (eqn.params[0],))
lse_p.to_sympy = lambda args, params, shape: TS.LogSumExpT(_targs(args)[0], sp.Integer(params[0]), sp.true)


def _softmax_form(body, args):
    """softmax(x, axis) when the ewise is exp(x − broadcast(logsumexp(x, axis, keepdims))), else None."""
    if len(args) != 2:
        return None
    for i, j in ((0, 1), (1, 0)):
        if body != sp.exp(ph(i) - ph(j)):
            continue
        x, l = args[i], args[j]
        if isinstance(l, T.BroadcastTo):
            l = l.args[0]
        if isinstance(l, TS.LogSumExpT) and l.keepdims and T._unwrap(l.x) == x:
            return TS.SoftmaxT(l.x, l.args[1])
    return None


# ===================================================================================================
# The rows of rules.py that tensors share (ewise, const, sum[None], broadcast of a scalar, the 2-D
# matmul and transpose) convert back in the tensor language when their arguments are tensors.


def _shared(prim, tensor_form, scalar_output_is_plain=False):
    """Give ``prim`` a tensor form. ``scalar_output_is_plain``: a scalar result is the same
    expression in both languages (an ewise body of scalars), so the arguments are not searched for
    tensors (a search that would cost time linear in their size at every equation)."""
    matrix_form = prim.to_sympy

    def to_sympy(args, params, shape):
        if scalar_output_is_plain and shape == () and not _body_holds_piecewise(params):
            return matrix_form(args, params, shape)
        if tensor_language(args, shape):
            return tensor_form(args, params, shape)
        return matrix_form(args, params, shape)
    prim.to_sympy = to_sympy


def _body_holds_piecewise(params) -> bool:
    """Whether an ewise body holds a Piecewise: a scalar where(Σ x² > 0, 1, 0) of tensors (the
    derivative of sg.norm's root safe at 0) then reads as NumPy's where, as the where beside it in
    sg.grad(sg.norm(x), x) does, not as SymPy's Piecewise((1, …), (0, True)). The search is of the
    small body only."""
    return bool(params) and isinstance(params[0], sp.Basic) and params[0].has(sp.Piecewise)


def _ewise_tensor(args, params, shape):
    body, _ = params
    args = [T._unwrap(as_tensor_form(a)) for a in args]
    sm = _softmax_form(body, args)
    if sm is not None:
        return sm
    sub = dict(zip(R.placeholders(len(args)), args))
    with T.plain_algebra():
        # a two-piece Piecewise of the body reads as NumPy's where(cond, a, b); found in the small
        # body, not in the substituted expression (which may be large)
        for pw in body.atoms(sp.Piecewise):
            if len(pw.args) == 2 and pw.args[1].cond == sp.true:
                (a, c), (b, _) = pw.args
                sub[pw] = T.Where(_unevaluated(c, sub), T._unwrap(_unevaluated(a, sub)),
                                  T._unwrap(_unevaluated(b, sub)))
        expr = _unevaluated(body, sub)
    return T.as_tensor(expr, shape) if shape else expr


def _unevaluated(body, sub):
    """``body.xreplace(sub)`` with each node of the (small, canonical) body rebuilt unevaluated: a
    function's eval (Heaviside asks the sign of its argument) on a large argument costs time that
    grows with the depth of the network. Node by node rather than under ``sp.evaluate(False)``,
    which clears SymPy's whole cache on entering and leaving (most of grad's time on a deep net)."""
    if body in sub:
        return sub[body]
    if not body.args:
        return body
    args = [_unevaluated(a, sub) for a in body.args]
    if isinstance(body, (sp.Add, sp.Mul, sp.Pow, sp.Function, sp.core.relational.Relational,
                         sp.functions.elementary.miscellaneous.MinMaxBase)):
        return body.func(*args, evaluate=False)
    return body.func(*args)


_shared(R.ewise_p, _ewise_tensor, scalar_output_is_plain=True)
_shared(R.const_p, lambda args, params, shape: T.Full(sp.sympify(params[0]), Tuple(*shape)),
        scalar_output_is_plain=True)
_shared(R.sum_p, lambda args, params, shape: T.Reduce(
    _targs(args)[0], sp.core.symbol.Str("sum"), Tuple(*range(len(T.shape_of(args[0])))), sp.false))
_shared(R.broadcast_p, lambda args, params, shape: T.BroadcastTo(_targs(args)[0], Tuple(*params[0])))
_shared(R.matmul_p, lambda args, params, shape: T.TensorMatMul(*_targs(args)))
_shared(R.transpose_p, lambda args, params, shape: T.Permute(_targs(args)[0], Tuple(1, 0)))


__all__ = ["reshape", "permute", "expand", "rsum", "sum_axes", "rmax", "argmax", "one_hot", "slice_",
           "pad", "concat", "take", "scatter_add", "bmatmul", "swap_last", "lse", "softmax", "tensor_language",
           "as_tensor_form", "tensor_zero"]
