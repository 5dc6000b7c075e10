"""Reading parts of a tensor: ``x[key]`` (`Index`, and `Pad`, its adjoint), ``where``, ``one_hot``,
``take`` / ``embedding`` (and `ScatterAdd`, their adjoint), ``take_along_axis`` and torch's ``gather``.

>>> import symgrad as sg
>>> sg.tensor("x", (4, 3))[:, 1:].shape
(4, 2)
"""
from __future__ import annotations

import builtins
import numbers

import numpy as np
import sympy as sp
from sympy import Tuple

from .array_refusal import numpy_array_refusal
from .parse import _is_arange
from .parse import register_tensor_function as _register_text
from ..errors import ArgumentError, AxisError, IntegerTensorError, ShapeError
from .tensor_expr import (BY_LATER_MODULES, as_expr, as_tensor, broadcast_shapes, _dim, dims_equal, fmt, _integer_of,
                          is_tensor_expr, normalize_axis, _paren, shape_of, Tensor, _tensor_arg, TensorExpr,
                          _unwrap)
from .tensor_movement import reshape


# -- indexing --------------------------------------------------------------------------------------


class Index(TensorExpr):
    """x[key]: per axis an integer (the axis is dropped) or a slice (start, stop, step), all
    normalized to non-negative bounds."""
    _passes_infinities = True     # a −inf entry reaches the output as it is (see tensor_index._finite_masks)

    @property
    def items(self):
        return self.args[1]

    @property
    def shape(self):      # (one item per axis of x: x's own shape is not needed, nor computed)
        return tuple(_slice_len(*it) for it in self.items if isinstance(it, Tuple))

    @property
    def is_integer_tensor(self):
        return _integer_of(self.args[0])

    def _sympystr(self, printer):
        parts = []
        for it, d in zip(self.items, self.args[0].shape):
            if not isinstance(it, Tuple):
                parts.append(str(it))
                continue
            start, stop, step = it
            s = "" if start == 0 else str(start)
            e = "" if dims_equal(stop, d) else str(stop)
            parts.append(f"{s}:{e}" + ("" if step == 1 else f":{step}"))
        while parts and parts[-1] == ":":
            parts.pop()
        return f"{_paren(printer, self.args[0])}[{', '.join(parts) or ':'}]"


def _slice_len(start, stop, step):
    if all(isinstance(v, (int, sp.Integer)) for v in (start, stop, step)):   # (no SymPy ceiling: fast)
        return builtins.max(0, -(-(int(stop) - int(start)) // int(step)))
    if step == 1 and start == 0:                 # x[:, ...] of an axis of size N: N
        return _dim(as_expr(stop))
    n = sp.ceiling((as_expr(stop) - start) / step)
    n = sp.Max(n, 0) if n.is_number else n
    return _dim(n)


def _bound(v, d, x):
    """A slice bound ``v`` on an axis of size ``d`` of ``x`` (x is printed only in an error: the text
    of a deep expression, an unrolled RNN's, is exponentially long)."""
    v = as_expr(v)
    if not (v.is_integer or v.is_Integer):
        raise ShapeError(f"{x}[...]: index {v} is not an integer")
    if v.is_Integer and v < 0:
        v = d + v
    if v.is_number and isinstance(d, int):
        v = sp.Min(sp.Max(v, 0), d)
    return v


def _refuse_masks(x, key):
    """x[x > 0] (NumPy's boolean mask, whose result's shape depends on the values) and x[real tensor]
    refused, naming the spelling that keeps the shape."""
    if (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], (np.ndarray, list, range))
            and is_tensor_expr(key[1]) and _integer_of(key[1])):
        # cs231n's x[np.arange(N), y]: the entry of each row at its label
        y = key[1]
        raise ShapeError(f"{x}[np.arange(...), {y}]: NumPy's pairing of an arange with the labels is not "
                         f"supported; the entry of each row at its label is "
                         f"sg.take_along_axis({x}, {y}[:, None], axis=1)[:, 0] (torch's "
                         f"{x}.gather(1, {y}[:, None])), and the mean cross-entropy of scores {x} is "
                         f"sg.cross_entropy({x}, {y})")
    for k in key if isinstance(key, tuple) else (key,):
        if isinstance(k, sp.core.relational.Relational) and is_tensor_expr(k):
            raise ShapeError(f"{x}[{k}]: boolean-mask indexing is not supported (the result's shape would "
                             f"depend on the values); keep the shape and zero the other entries with "
                             f"sg.where({k}, {x}, 0) or the mask product ({k}) * {x}")
        if isinstance(k, (np.ndarray, list)):         # NumPy's fancy indexing by constant arrays
            kind = "NumPy array" if isinstance(k, np.ndarray) else "list"
            try:
                a = np.asarray(k)
            except ValueError:                          # ragged
                a = np.asarray([0])
            if a.dtype.kind == "b":
                raise ShapeError(f"{x}[...]: a boolean mask (a {kind} of booleans) is not supported (the "
                                 f"result's shape would depend on the values); declare the mask as an "
                                 f"input tensor m and write sg.where(m, {x}, 0) or m * {x}")
            raise ShapeError(f"{x}[...]: a {kind} of indices is not supported; index with an integer "
                             f"tensor (idx = sg.tensor('idx', {a.shape}, integer=True), then {x}[idx] or "
                             f"sg.take({x}, idx, axis)), or with slices")
        if is_tensor_expr(k) and not _integer_of(k):
            raise ShapeError(f"{x}[{k}]: {k} is a real tensor; a tensor index must be an integer tensor "
                             f"(sg.tensor(name, shape, integer=True)): {x}[idx] takes entries along the "
                             f"first axis. As a mask: sg.where({k} != 0, {x}, 0)")


def index(x, key):
    """x[key] with integers, slices with steps, ``None`` (a new axis), ``...``, or an integer
    tensor on the first axis (``W[idx]`` = ``sg.take(W, idx, 0)``)."""
    x = _tensor_arg(x, "indexing")
    if _is_arange(key):                          # E[torch.arange(T)]: sg.arange(T), positions
        key = as_expr(key)
    if is_tensor_expr(key) and _integer_of(key):
        return take(x, key, 0)
    _refuse_masks(x, key)
    if not isinstance(key, tuple):
        key = (key,)
    if builtins.sum(k is Ellipsis for k in key) > 1:
        raise ShapeError(f"{x}[...]: at most one ...")
    n_real = builtins.sum(1 for k in key if k is not None and k is not Ellipsis)
    if n_real > x.ndim:
        raise AxisError(f"{x}[{key}]: {n_real} indices for a tensor with {x.ndim} dimension(s)")
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (x.ndim - n_real) + key[i + 1:]
    else:
        key = key + (slice(None),) * (x.ndim - n_real)
    items, new_axes, ax, out_pos = [], [], 0, 0
    for k in key:
        if k is None:
            new_axes.append(out_pos)
            out_pos += 1
            continue
        d = x.shape[ax]
        if isinstance(k, slice):
            step = as_expr(1 if k.step is None else k.step)
            if not step.is_Integer or step <= 0:
                flip = (f"; x[::-1] (NumPy's reversal) is sg.flip({x}, axis={ax}), then slice that"
                        if step.is_Integer and step < 0 else "")
                raise ShapeError(f"{x}[...]: slice step {k.step} on axis {ax}: only positive integer "
                                 f"steps are supported{flip}")
            start = sp.S.Zero if k.start is None else _bound(k.start, d, x)
            stop = as_expr(d) if k.stop is None else _bound(k.stop, d, x)
            items.append(Tuple(start, stop, step))
            out_pos += 1
        else:
            if is_tensor_expr(k):
                raise ShapeError(f"{x}[...]: a tensor index mixed with other indices; use "
                                 f"sg.take(x, idx, axis) or sg.take_along_axis")
            i = as_expr(k)
            if not i.is_Integer:
                raise ShapeError(f"{x}[{k}]: indices must be integers, slices, None or ...")
            if isinstance(d, int) and not -d <= int(i) < d:
                raise AxisError(f"{x}[...]: index {i} is out of range for axis {ax} of size {d}")
            items.append(sp.Integer(int(i) % d) if isinstance(d, int) else
                         (i if i >= 0 else d + i))
        ax += 1
    full = all(isinstance(it, Tuple) and it[0] == 0 and dims_equal(it[1], d) and it[2] == 1
               for it, d in zip(items, x.shape))
    out = x if full else Index(x, Tuple(*items))
    if new_axes:
        s = list(out.shape)
        for p in new_axes:
            s.insert(p, 1)
        out = reshape(out, s)
    return out


class Pad(TensorExpr):
    """The adjoint of a slice: ``g`` placed at the sliced positions of a zero tensor of ``shape``
    (``np.zeros(shape); z[items] = g``). Printed ``pad(g, shape, [items])``."""

    @property
    def shape(self):
        return tuple(int(d) if d.is_Integer else d for d in self.args[1])

    def _sympystr(self, printer):
        idx = Index(Tensor("_", self.shape), self.args[2])
        return f"pad({printer._print(self.args[0])}, {fmt(self.shape)}, {str(idx)[1:]})"


# -- joining, selecting ------------------------------------------------------------------------------


class Where(TensorExpr):
    """where(cond, a, b): a where cond holds, else b. Its derivative follows the condition (the
    subgradient policy at the boundary is whatever the condition says)."""
    _passes_infinities = True     # a −inf entry reaches the output as it is (see tensor_index._finite_masks)

    @property
    def shape(self):
        return broadcast_shapes(*[shape_of(a) for a in self.args])

    @property
    def is_integer_tensor(self):
        """np.where of integers is integers: both branches integer tensors or whole numbers, one a
        tensor (``where(Eq(y, -100), 0, y)``: labels with the ignored ones set to 0)."""
        branches = self.args[1:]
        return (any(_integer_of(b) for b in branches)
                and all(_integer_of(b) or (isinstance(b, sp.Basic) and b.is_Integer) for b in branches))

    def _sympystr(self, printer):
        return "where(%s)" % ", ".join(printer._print(a) for a in self.args)


_NO_BRANCH = object()


def where(cond, a=_NO_BRANCH, b=_NO_BRANCH):
    """np.where(cond, a, b), broadcasting the three. ``cond`` is a comparison of tensors
    (``x > 0``) or a tensor, integer or real, whose nonzero entries are true (NumPy's rule).
    NumPy's one-argument ``np.where(cond)`` (the indices where cond holds) is an `ArgumentError`."""
    if a is _NO_BRANCH or b is _NO_BRANCH:
        raise ArgumentError("where: give both branches, sg.where(cond, a, b); NumPy's np.where(cond) (the "
                            "indices where cond holds) has a shape known only from the data, which a "
                            "declaration cannot have: multiply by the mask (cond * x) or use sg.where(cond, x, 0)")
    if isinstance(cond, (bool, np.bool_)):
        # mask == 0 of a tensor is SymPy's ==, a comparison of the expressions (False), not of the
        # entries: the where (masked_fill) would silently be dropped
        raise ArgumentError(f"where: the condition is the Python bool {bool(cond)}; a tensor's == and != "
                            f"compare the expressions (SymPy's ==), not the entries: write sp.Eq(mask, 0) "
                            f"or sp.Ne(mask, 0) for the entries, or mask > 0 / mask < 0.5 for a 0/1 mask")
    for v in (cond, a, b):            # where(np.tril(np.ones((T, T))) == 0, ...): a constant array
        if isinstance(v, np.ndarray) and v.ndim:
            raise numpy_array_refusal(v, "sg.where")
    cond, a, b = as_expr(cond), as_expr(a), as_expr(b)
    if isinstance(cond, sp.core.relational.Relational):
        cs = broadcast_shapes(shape_of(cond.lhs), shape_of(cond.rhs))
    elif isinstance(cond, sp.logic.boolalg.BooleanAtom):
        return as_tensor(a if cond else b, broadcast_shapes(shape_of(a), shape_of(b)))
    elif is_tensor_expr(cond):
        cs = shape_of(cond)
    else:
        raise ShapeError(f"where: the condition {cond} must be a comparison of tensors (x > 0) or "
                         f"a tensor (nonzero entries are true)")
    broadcast_shapes(cs, shape_of(a), shape_of(b), names=lambda: ["condition", str(a), str(b)])
    return Where(cond, _unwrap(a), _unwrap(b))


def _int_tensor_arg(y, who):
    y = as_expr(y)
    if not (is_tensor_expr(y) and _integer_of(y)):
        raise IntegerTensorError(f"{who} takes an integer tensor (sg.tensor(name, shape, "
                                 f"integer=True)) as its index, got {y}")
    return as_tensor(y)


class OneHot(TensorExpr):
    """one_hot(y, n): a new axis of size n at ``axis`` (default last), 1 at the label, 0 elsewhere."""

    _data = (0,)

    @property
    def n(self):
        return self.args[1]

    @property
    def axis(self):
        return int(self.args[2])

    @property
    def shape(self):
        s = list(self.args[0].shape)
        s.insert(self.axis, _dim(self.n))
        return tuple(s)

    def _sympystr(self, printer):
        ax = "" if self.axis == self.args[0].ndim else f", axis={self.axis}"
        return f"one_hot({printer._print(self.args[0])}, {self.n}{ax})"


MAX_CLASSES = 1_000_000     # one_hot is dense: more classes would not fit in memory for any batch


def one_hot(y, n=None, axis=-1, *, num_classes=None):
    """The one-hot encoding of the integer tensor ``y``: shape y.shape with n inserted at ``axis``
    (``num_classes=`` is torch's name for n).

    >>> import symgrad as sg
    >>> sg.one_hot(sg.tensor("y", (5,), integer=True), 3).shape
    (5, 3)
    """
    if n is None:
        n = num_classes
    elif num_classes is not None:
        raise ArgumentError("one_hot: give n or num_classes= (torch's name), not both")
    if n is None or (isinstance(n, int) and not isinstance(n, bool) and n == -1):
        raise ArgumentError("one_hot: the number of classes is needed, sg.one_hot(y, n) or num_classes=n: "
                            "torch's default num_classes=-1 infers it from the largest label, but a "
                            "declaration fixes its shapes before any data is seen")
    y = _int_tensor_arg(y, "one_hot")
    ax = normalize_axis(axis, y.ndim + 1, "one_hot", y)
    n = _dim(n)
    if isinstance(n, int) and not 1 <= n <= MAX_CLASSES:      # the encoding is dense: n columns per label
        raise ArgumentError(f"one_hot: the number of classes n must be an integer in 1 … {MAX_CLASSES}, got {n}")
    return _of_arange("one_hot", y, n, ax) or OneHot(y, as_expr(n), sp.Integer(ax))


def _of_arange(what, *args):
    """The simpler operation an index sg.arange(m) makes of take / one_hot / take_along_axis (a slice,
    an eye, a diagonal; `symgrad.frontend.tensor_arange`), or None."""
    rewrite = BY_LATER_MODULES.get("arange_" + what)
    return None if rewrite is None else rewrite(*args)


class Take(TensorExpr):
    """take(x, idx, axis): x's slices at the integer indices idx along axis (np.take)."""

    @property
    def is_integer_tensor(self):
        """Labels taken at indices (mixup's y[perm]) are labels."""
        return _integer_of(self.args[0])

    @property
    def axis(self):
        return int(self.args[2])

    @property
    def shape(self):
        s = self.args[0].shape
        return tuple(s[:self.axis]) + tuple(self.args[1].shape) + tuple(s[self.axis + 1:])

    def _sympystr(self, printer):
        if self.axis == 0:
            return f"{_paren(printer, self.args[0])}[{printer._print(self.args[1])}]"
        return "take(%s, %s, axis=%d)" % (printer._print(self.args[0]), printer._print(self.args[1]), self.axis)


def take(x, idx, axis=0):
    """np.take(x, idx, axis) for an integer tensor idx (repeated indices allowed: their gradients
    add up). Indices are 0 … n − 1, as torch's ``index_select`` takes them: a negative one is a
    `LabelRangeError` when the values are given, not NumPy's count from the end."""
    x = _tensor_arg(x, "take")
    idx = _int_tensor_arg(idx, "take")
    ax = normalize_axis(axis, x.ndim, "take", x)
    return _of_arange("take", x, idx, ax) or Take(x, idx, sp.Integer(ax))


def embedding(W, idx, padding_idx=None):
    """W[idx]: the rows of the embedding matrix W at the integer tensor idx (shape idx.shape + (D,)),
    as ``nn.Embedding``: ids 0 … n − 1 (a negative id is a `LabelRangeError`). torch's
    ``padding_idx=p`` (negative: counted from the end, as torch's): row p is read as it is, but gets
    no gradient — the rows looked up at id p are ``stop_gradient``-ed, so a step never changes it.

    >>> import sympy as sp, symgrad as sg
    >>> E, ids = sg.tensor("E", (5, 3)), sg.tensor("ids", (4,), integer=True)
    >>> sg.embedding(E, ids, padding_idx=0)
    where(Ne(ids.reshape(4, 1), 0), E[ids], stop_gradient(E[ids]))
    """
    w, i = as_expr(W), as_expr(idx)
    if is_tensor_expr(w) and _integer_of(w) and not (is_tensor_expr(i) and _integer_of(i)):
        raise IntegerTensorError(f"sg.embedding({W}, {idx}): the table comes first, then the ids — "
                                 f"sg.embedding(W, ids), or W[ids] (torch's F.embedding(input, weight) takes "
                                 f"them the other way round): write sg.embedding({idx}, {W})")
    if not (is_tensor_expr(i) and _integer_of(i)):
        what = (f"a tensor of real numbers, shape {fmt(as_tensor(i).shape)}" if is_tensor_expr(i) else
                f"a {type(idx).__name__}")
        decl = (f"sg.tensor({str(i)!r}, {fmt(as_tensor(i).shape)}, integer=True)" if isinstance(i, Tensor) else
                "sg.tensor(name, shape, integer=True)")
        raise IntegerTensorError(f"sg.embedding({W}, {idx}): the ids must be an integer tensor (torch's LongTensor "
                                 f"of token ids), got {what}; declare them {decl}")
    rows = take(W, idx, 0)
    if padding_idx is None:
        return rows
    p = _padding_row(padding_idx, as_tensor(w).shape[0])
    return where(sp.Ne(as_tensor(i)[(Ellipsis, None)], p), rows, rows.detach())


def _padding_row(padding_idx, n) -> int:
    """torch's padding_idx as a row of the table (n rows): an integer in −n … n − 1."""
    if isinstance(padding_idx, (bool, np.bool_)) or not isinstance(padding_idx, numbers.Integral):
        raise ArgumentError(f"embedding: padding_idx must be an integer (a row of the table, as torch's), "
                            f"got {padding_idx!r}")
    p = int(padding_idx)
    if isinstance(n, int) and not -n <= p < n:
        raise ArgumentError(f"embedding: padding_idx={p} is outside the table's {n} rows (valid: {-n} … {n - 1}, "
                            f"as torch's)")
    if p < 0 and not isinstance(n, int):
        raise ArgumentError(f"embedding: a negative padding_idx={p} needs a table of fixed size, not {n} rows")
    return p % n if p < 0 else p


class TakeAlong(TensorExpr):
    @property
    def shape(self):
        x, idx, ax = self.args[0].shape, self.args[1].shape, int(self.args[2])
        one = lambda s: tuple(1 if i == ax else d for i, d in enumerate(s))   # noqa: E731
        out = list(broadcast_shapes(one(x), one(idx)))
        out[ax] = idx[ax]
        return tuple(out)

    def _sympystr(self, printer):
        return "take_along_axis(%s, %s, axis=%d)" % (printer._print(self.args[0]),
                                                     printer._print(self.args[1]), int(self.args[2]))


# what a −inf branch of a where reads as inside take_along_axis (`_finite_masks`): finite in float32 too
MASKED_VALUE = sp.Float(-1e30)


def _finite_masks(x):
    """x with each −inf branch of a where (``masked_fill(mask, float('-inf'))``) that reaches x's
    entries read as −1e30. take_along_axis is Σ x ⊙ one_hot(idx), so that its gradient reads one_hot,
    and −inf·0 is NaN: the label's log-probability of a masked row — RL's illegal actions, NT-Xent's
    self-similarity, F.cross_entropy of masked logits — was NaN where torch's gather is finite.
    exp(−1e30 − max) is 0 as exp(−inf) is, and no gradient reaches a masked entry either way; only a
    gathered masked entry itself reads −1e30 where torch reads −inf. Only the wheres whose −inf
    reaches x are read so — through elementwise arithmetic, log_softmax and movements
    (``_passes_infinities``), not through a softmax or a product (an attention's causal mask inside
    the logits stays as it is: rewriting it would compute the attention twice)."""
    # one visit per distinct subexpression (a residual network's logits are a DAG whose tree is
    # exponentially large: SymPy's x.has(-oo) walks the tree, and took minutes on a ResNet-18)
    memo: dict = {}

    def walk(e):
        hit = memo.get(e)
        if hit is not None:
            return hit
        if (isinstance(e, TensorExpr) and not e._passes_infinities) or not isinstance(e, sp.Basic) or not e.args:
            out = e
        else:
            args = [walk(a) for a in e.args]
            if isinstance(e, Where):
                args = [args[0]] + [MASKED_VALUE if b == sp.S.NegativeInfinity else b for b in args[1:]]
            out = e.func(*args) if any(a is not b for a, b in zip(args, e.args)) else e
        memo[e] = out
        return out
    return walk(x)


def take_along_axis(x, idx, axis):
    """np.take_along_axis(x, idx, axis): idx has x's number of axes (broadcasting on the others).
    A −inf mask in x is read as −1e30 (`_finite_masks`)."""
    x = _finite_masks(_tensor_arg(x, "take_along_axis"))
    idx = _int_tensor_arg(idx, "take_along_axis")
    if idx.ndim != x.ndim:
        raise AxisError(f"take_along_axis: {idx} has {idx.ndim} axes but {x} has {x.ndim}; they "
                        f"must match (use idx[:, None] for one index per row)")
    ax = normalize_axis(axis, x.ndim, "take_along_axis", x)
    xs = list(x.shape)
    xs[ax] = 1
    ishape = list(idx.shape)
    ishape[ax] = 1
    broadcast_shapes(tuple(xs), tuple(ishape), names=lambda: [str(x), str(idx)])
    return _of_arange("take_along", x, idx, ax) or TakeAlong(x, idx, sp.Integer(ax))


def gather_along(x, dim, index):
    """torch.gather(x, dim, index) / x.gather(dim, index): ``take_along_axis(x, index, axis=dim)``.
    torch's index may be shorter than x on the other axes (no broadcasting): x is sliced to it first.

    >>> import symgrad as sg
    >>> sg.tensor("s", (4, 5)).gather(1, sg.tensor("i", (4, 2), integer=True))
    take_along_axis(s, i, axis=1)
    """
    x = _tensor_arg(x, "gather")
    idx = _int_tensor_arg(index, "gather")
    if idx.ndim != x.ndim:
        raise AxisError(f"gather: the index {idx} has {idx.ndim} axes but {x} has {x.ndim}; torch.gather "
                        f"needs the same number (idx[:, None] for one index per row)")
    ax = normalize_axis(dim, x.ndim, "gather", x)
    key = []
    for i, (a, b) in enumerate(zip(x.shape, idx.shape)):
        if i == ax or dims_equal(a, b):
            key.append(slice(None))
        elif isinstance(a, int) and isinstance(b, int) and b <= a:
            key.append(slice(0, b))
        else:
            raise ShapeError(f"gather: the index {idx} of shape {fmt(idx.shape)} must be no larger than "
                             f"{x} of shape {fmt(x.shape)} on every axis but {ax} (torch's rule)")
    if any(k != slice(None) for k in key):
        x = x[tuple(key)]
    return take_along_axis(x, idx, ax)


from .functions import TENSOR_GATHER as _TENSOR_GATHER   # noqa: E402 - sg.gather(x, dim, index)
_TENSOR_GATHER.append(gather_along)


class ScatterAdd(TensorExpr):
    """The adjoint of take: zeros of size n along axis, with g's slices added at idx
    (``np.add.at``), so repeated indices accumulate."""

    _data = (0, 1)

    @property
    def shape(self):
        g, idx, axis, n = self.args
        ax, k = int(axis), idx.ndim
        s = g.shape
        return tuple(s[:ax]) + (_dim(n),) + tuple(s[ax + k:])

    def _sympystr(self, printer):
        g, idx, axis, n = self.args
        return "scatter_add(%s, %s, axis=%d, size=%s)" % (printer._print(g), printer._print(idx), int(axis), n)


BY_LATER_MODULES.update(index=index, where=where, gather_along=gather_along, take_along_axis=take_along_axis,
                        take=take)   # the methods x.index(...), ...

# The text's where(X > 0, D, 0) (read by symgrad/frontend/parse_tensor_calls.py's where_call)
_register_text("where", where, (3, 3), rest=("operand", "operand"), keywords={})
