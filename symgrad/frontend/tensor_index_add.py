"""torch's ``index_add``: rows of ``source`` added into ``x`` at integer indices along an axis,
repeated indices accumulating — the message passing of a graph network, where each edge's message
is summed into its destination node (``torch.zeros(n, D).index_add_(0, dst, msg)``).

It is `ScatterAdd` (the adjoint of `take`, already a primitive with its own gradient, a take) added
to ``x``: no rule, printer or kernel of its own. torch's ``x.scatter_add(0, dst.unsqueeze(-1).expand_as(msg),
msg)`` is the same sum and is taken in that form; the in-place ``x.index_add_`` / ``x.scatter_add_``
and any other scatter index are refused with the spelling that is taken.

>>> import symgrad as sg
>>> msg, dst = sg.tensor("msg", (6, 3)), sg.tensor("dst", (6,), integer=True)
>>> sg.index_add(sg.zeros((4, 3)), 0, dst, msg).shape
(4, 3)
"""
from __future__ import annotations

import sympy as sp

from ..errors import ArgumentError, IntegerTensorError, ShapeError
from .keywords import check_keywords
from .tensor_expr import BY_LATER_MODULES, as_expr, dims_equal, fmt, _dim, _integer_of, is_tensor_expr, normalize_axis, \
    _tensor_arg
from .tensor_index import ScatterAdd
from .tensor_movement import BroadcastTo, Full, Reshape


def index_add(x, dim, index, source, *, alpha=1):
    """``torch.index_add(x, dim, index, source, alpha=1)``: x + alpha·(source's slices along ``dim``
    added at ``index``, a 1-D integer tensor of ids 0 … x.shape[dim] − 1; repeats add up). source has
    x's shape but len(index) along ``dim``. The gradient of source is x's gradient taken at index."""
    x = _tensor_arg(x, "index_add")
    source = _tensor_arg(source, "index_add")
    i = as_expr(index)
    if not (is_tensor_expr(i) and _integer_of(i)):
        raise IntegerTensorError(f"index_add: the index must be an integer tensor (torch's LongTensor, "
                                 f"sg.tensor(name, shape, integer=True)), got {index}")
    if i.ndim != 1:
        raise ShapeError(f"index_add: the index must be 1-D, as torch's, got {index} of shape {fmt(i.shape)}")
    ax = normalize_axis(dim, x.ndim, "index_add", x)
    want = tuple(x.shape[:ax]) + (i.shape[0],) + tuple(x.shape[ax + 1:])
    if source.ndim != x.ndim or not all(dims_equal(a, b) for a, b in zip(source.shape, want)):
        raise ShapeError(f"index_add along axis {ax}: source {source} has shape {fmt(source.shape)}, but x {x} "
                         f"of shape {fmt(x.shape)} with an index of length {i.shape[0]} needs {fmt(want)}")
    added = ScatterAdd(source, i, sp.Integer(ax), sp.sympify(x.shape[ax]))
    added = added if alpha == 1 else alpha * added
    # into a buffer of zeros (torch.zeros(n, D).index_add_(...), x.new_zeros): the sum alone, so that a
    # derivation reads scatter_add(m, dst, ...) rather than zeros((n, D)) + scatter_add(...)
    return added if isinstance(x, Full) and x.args[0] == 0 else x + added


def segment_sum(data, segment_ids, num_segments=None, **options):
    """``jax.ops.segment_sum(data, segment_ids, num_segments)``: the rows of ``data`` summed by
    segment, row i into segment ``segment_ids[i]`` (a graph layer's messages into their destination
    nodes) — ``index_add(zeros((num_segments, ...)), 0, segment_ids, data)``. ``num_segments`` is
    needed (a number or a size, N): symgrad cannot read the largest id off a declaration.
    ``indices_are_sorted=`` and ``unique_are_sorted=`` change nothing (the sum is the same).

    >>> import sympy as sp, symgrad as sg
    >>> N, E = sp.symbols("N E", integer=True, positive=True)
    >>> segment_sum(sg.tensor("m", (E, 3)), sg.tensor("dst", (E,), integer=True), N)
    scatter_add(m, dst, axis=0, size=N)
    """
    check_keywords("segment_sum", options, ["indices_are_sorted", "unique_are_sorted", "mode", "bucket_size"])
    if num_segments is None:
        raise ArgumentError("segment_sum: give num_segments= (the number of segments, a number or a size "
                            "such as N): a declaration has no values to read the largest id from")
    data = _tensor_arg(data, "segment_sum")
    zeros = Full(sp.S.Zero, sp.Tuple(*[_dim(d) for d in (num_segments,) + tuple(data.shape[1:])]))
    return index_add(zeros, 0, segment_ids, data)


def _counts(ids, n):
    """How many times each of 0 … n − 1 appears in the 1-D integer ``ids``: a real tensor of shape (n,)."""
    ones = Full(sp.S.One, sp.Tuple(ids.shape[0]))
    return index_add(Full(sp.S.Zero, sp.Tuple(_dim(n))), 0, ids, ones)


def bincount(input, weights=None, minlength=None):
    """torch's ``torch.bincount(ids, weights=None, minlength=n)`` / ``ids.bincount(minlength=n)``: how
    many times each id 0 … n − 1 appears (a graph's degrees, ``torch.bincount(dst, minlength=N)``), or
    the sum of ``weights`` at each. ``minlength`` is the length and is needed (a declaration has no
    ids to read the largest from); the counts are a real tensor of whole numbers (torch's are int64:
    here they are for arithmetic, not labels)."""
    ids = as_expr(input)
    if not (is_tensor_expr(ids) and _integer_of(ids) and ids.ndim == 1):
        raise IntegerTensorError(f"bincount: the ids must be a 1-D integer tensor, got {input}")
    if minlength is None:
        raise ArgumentError("bincount: give minlength= (the number of bins, a number or a size such as N): a "
                            "declaration has no values to read the largest id from")
    if weights is None:
        return _counts(ids, minlength)
    return index_add(Full(sp.S.Zero, sp.Tuple(_dim(minlength))), 0, ids, _tensor_arg(weights, "bincount"))


def index_reduce(x, dim, index, source, reduce, *, include_self=True):
    """torch's ``x.index_reduce(dim, ids, source, reduce, include_self=True)`` for ``reduce`` "mean" (a
    graph layer's mean aggregation, ``torch.zeros(N, D).index_reduce(0, dst, msg, "mean",
    include_self=False)``) — torch's "prod", "amax", "amin" are refused — and, as
    ``x.scatter_reduce``'s, "sum". Where no id falls, x's own entry; include_self=True counts it in."""
    x = _tensor_arg(x, "index_reduce")
    if reduce not in ("sum", "mean"):
        raise ArgumentError(f"index_reduce / scatter_reduce: reduce={reduce!r} is not supported; 'sum' and 'mean' "
                            f"are (a max over each node's messages: sg.where masks and x.max(axis=...))")
    ax = normalize_axis(dim, x.ndim, "index_reduce", x)
    sums = index_add(Full(sp.S.Zero, sp.Tuple(*x.shape)), ax, index, source)
    counts = _counts(as_expr(index), x.shape[ax]).reshape(*[x.shape[ax] if k == ax else 1 for k in range(x.ndim)])
    if include_self:
        return x + sums if reduce == "sum" else (x + sums) / (1 + counts)
    hit = counts > 0
    return BY_LATER_MODULES["where"](hit, sums if reduce == "sum" else
                                     sums / BY_LATER_MODULES["maximum"](counts, 1), x)


def scatter_reduce(x, dim, index, src, reduce, *, include_self=True):
    """torch's ``x.scatter_reduce(dim, index, src, reduce, include_self=True)`` with 1-D ids repeated
    over the other axes (``dst.unsqueeze(-1).expand_as(msg)``), for "sum" and "mean": `index_reduce`."""
    x, src = _tensor_arg(x, "scatter_reduce"), _tensor_arg(src, "scatter_reduce")
    ax = normalize_axis(dim, x.ndim, "scatter_reduce", x)
    ids = _ids_along(index, ax, x.ndim)
    if ids is None or as_expr(index).shape != src.shape:
        raise scatter_add_refusal(x)
    return index_reduce(x, ax, ids, src, reduce, include_self=include_self)


def in_place_refusal(who, name):
    """The error for torch's in-place ``x.{name}_(...)``: a declaration is not changed in place."""
    also = f", or sg.{name}(...)" if name == "index_add" else ""
    return ArgumentError(f"{who}.{name}_(...) changes {who} in place, which a declaration cannot: write "
                         f"{who}.{name}(...) and use its result (h = h.{name}(...)){also}")


def _ids_along(index, dim, ndim):
    """The 1-D integer ids that ``index`` repeats over every axis but ``dim`` — a graph layer's
    ``dst.unsqueeze(-1).expand_as(msg)`` (``broadcast_to(dst.reshape(E, 1), (E, D))``) — or None."""
    i = as_expr(index)
    if is_tensor_expr(i) and _integer_of(i) and i.ndim == 1 == ndim:
        return i
    if not isinstance(i, BroadcastTo) or not isinstance(i.args[0], Reshape):
        return None
    ids = i.args[0].args[0]
    if not (is_tensor_expr(ids) and _integer_of(ids) and ids.ndim == 1 and i.args[0].ndim == ndim):
        return None
    ones = all(dims_equal(d, 1) for k, d in enumerate(i.args[0].shape) if k != dim)
    return ids if ones and dims_equal(i.args[0].shape[dim], ids.shape[0]) else None


def scatter_add(x, dim, index, src):
    """torch's ``x.scatter_add(dim, index, src)`` where ``index`` is 1-D ids repeated over the other
    axes (``dst.unsqueeze(-1).expand_as(msg)``, the form graph code writes), which is
    ``x.index_add(dim, ids, src)``; any other index is refused naming that spelling."""
    x, src = _tensor_arg(x, "scatter_add"), _tensor_arg(src, "scatter_add")
    ax = normalize_axis(dim, x.ndim, "scatter_add", x)
    ids = _ids_along(index, ax, x.ndim)
    if ids is None or as_expr(index).shape != src.shape:
        raise scatter_add_refusal(x)
    return index_add(x, ax, ids, src)


def scatter_add_refusal(who):
    """torch's ``x.scatter_add(dim, index, src)`` with an index that is not 1-D ids repeated; symgrad
    has the 1-D form, index_add."""
    return ArgumentError(f"{who}.scatter_add(dim, index, src) is taken only with 1-D ids repeated over the other "
                         f"axes (index = dst.unsqueeze(-1).expand_as(src)); for rows summed at 1-D ids (messages into nodes, index = dst expanded over the features) "
                         f"write {who}.index_add(dim, dst, src) or sg.index_add({who}, dim, dst, src) with the 1-D dst")


BY_LATER_MODULES.update(index_add=index_add, in_place_refusal=in_place_refusal, scatter_add=scatter_add,
                        index_reduce=index_reduce, scatter_reduce=scatter_reduce, bincount=bincount)
