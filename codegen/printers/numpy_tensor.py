"""The N-d primitives in NumPy: one row per primitive, each a vectorized NumPy form (no Python loop
over entries). The whole-batch scheduler (`codegen.numpy_whole_batch`) looks a primitive up here by its
name; a backend or a later primitive (convolution, pooling) extends the table with one entry.

    reshape[shape]        a.reshape(shape)                          a view (a matrix un-flattened to
                                                                    (N, C, *S): a channel-last copy)
    permute[axes]         a.transpose(axes)                         a view
    expand[shape]         numpy.broadcast_to(a, shape)              a view (dissolves into broadcasting)
    slice[items]          a[start:stop:step, ...]                   a view
    rsum[axes]            a.sum(axes, keepdims=True)                (over axis 0 first, then the rest;
                                                                    the last axis alone by einsum)
    rmax[axis]            a.max(axis, keepdims=True)
    argmax[axis]          a.argmax(axis)                            integers
    one_hot[n, axis]      (y[..., None] == arange(n)) as 0/1        along ``axis``
    pad[shape, items]     zeros(shape); out[items] = a              the adjoint of a slice
    concat[axis]          numpy.concatenate((a, b, ...), axis)
    take[axis]            numpy.take(x, idx, axis)                  gather at integer indices
    scatter_add[axis, n]  zeros; numpy.add.at(out, (:, ..., idx), ḡ)  repeated indices add up; rows
                          (axis 0): add.at of the flattened out at idx·T + t (ufunc.at's 1-D fast path)
    bmatmul               numpy.matmul(a, b)                        batched over the leading axes
    lse[axis]             m + log Σ exp(a − m), m = max a           stable by the max shift
    tril[k], triu[k]      numpy.tril(a, k), numpy.triu(a, k)        a causal mask (last two axes)

A row is ``Form(code, view)``: ``code(c, e)`` gets a `Context` ``c`` (the operands' code, the
generated name, shapes as code) and the IR equation ``e``; it returns one expression (the statement
is ``name = expression``) or a list of lines that assign ``c.name``. ``view=True``: the expression is
a view of its operand, printed where it is used rather than as a statement of its own.

>>> from codegen.printers.numpy_tensor import FORMS, Context
>>> c = Context("v3", ["v1"], lambda shape: "(" + ", ".join(map(str, shape)) + ")", str)
>>> shaped = type("V", (), {"shape": (4, 3)})()          # an IR variable, as far as the form reads it
>>> FORMS["rsum"].code(c, type("E", (), {"params": ((0,),), "inputs": (shaped,)})())
'v1.sum((0,), keepdims=True)'
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Context:
    """What a form prints with: ``name`` (the statement's target), ``args`` (each operand's code, a
    name or a parenthesized expression), ``shape(dims)`` (a shape as code, symbolic sizes bound to
    generated names), ``dim(d)`` (one size as code); ``producer(var)`` (the equation that makes a
    var, None outside a scheduler) and ``built`` (a dict the forms of one function share: what an
    earlier statement left under a name that a later one may read, as the convolution's im2col
    buffer that its weight gradient reads again)."""
    name: str
    args: list
    shape: Callable
    dim: Callable
    producer: Callable = lambda var: None
    built: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Form:
    code: Callable              # (Context, Eqn) -> str | list[str]
    view: bool = False          # a view of its operand: no statement, printed where used


def _items(c: Context, items) -> str:
    """x[a:b:c, ...] for one (start, stop, step) per axis; ``:`` for a whole axis."""
    out = []
    for a, b, s in items:
        a, b, s = c.dim(a), c.dim(b), c.dim(s)
        text = ("" if a == "0" else a) + ":" + b + ("" if s == "1" else f":{s}")
        out.append(text)
    return ", ".join(out)


def _one_hot(c: Context, e) -> str:
    # labels y of shape s → s[:axis] + (n,) + s[axis:]: y with a new axis at ``axis`` compared with
    # 0 … n − 1 laid along that axis (right-aligned broadcasting)
    n, axis = e.params
    rank_after = len(e.inputs[0].shape) - axis
    if rank_after == 0 and axis >= 3:
        # a pooling window's arg-max (N, C, *O) → (N, C, *O, n): the n slabs made contiguous
        # (n outermost in memory), seen through numpy.moveaxis in the declared order, as the
        # windows are laid out (codegen.printers.numpy_conv): the product with δ and fold's
        # slab reads stay contiguous
        ar = f"numpy.arange({c.dim(n)}).reshape({c.shape((n,) + (1,) * axis)})"
        return f"numpy.moveaxis(({c.args[0]} == {ar}).astype(DTYPE), 0, {axis})"
    ar = f"numpy.arange({c.dim(n)})" + (f".reshape({c.shape((n,) + (1,) * rank_after)})" if rank_after else "")
    return f"(numpy.expand_dims({c.args[0]}, {axis}) == {ar}).astype(DTYPE)"


def window_argmax(e) -> bool:
    """Whether the arg-max ``e`` is a pooling window's (N, C, *O, k) → (N, C, *O): the last axis, of
    an array of rank 4 or more, whose k entries the windows keep k slabs apart in memory."""
    (axis,) = e.params
    return axis >= 3 and axis == len(e.inputs[0].shape) - 1


def _window_hits(c: Context, e, keep: bool = False) -> tuple[str, str, list]:
    """The lines that make ``{name}_w``: at each entry j of a window that reaches the window's max,
    k − j (the first hit weighs most), else 0 — found slab-wise, as numpy's argmax would copy the
    windows into rows first. A NaN counts as reaching it (a ≠ a), as numpy.argmax returns the first
    NaN. Returns (the name of the array of hits, the windows' name in those lines — kept bound when
    ``keep`` — and the lines)."""
    (axis,) = e.params
    n, k = c.name, e.inputs[0].shape[axis]
    small = "numpy.int8" if k < 128 else "numpy.intp"
    x = c.args[0]
    lines = []
    if not x.isidentifier():
        lines.append(f"{n}_a = {x}")
        x = f"{n}_a"
    lines += [f"{n}_hit = ({x} == {x}.max({axis}, keepdims=True))",
              f"{n}_hit |= ({x} != {x})",
              f"{n}_w = {n}_hit * numpy.arange({c.dim(k)}, 0, -1, dtype={small})",
              f"del {n}_hit" + (f", {x}" if x != c.args[0] and not keep else "")]
    return f"{n}_w", x, lines


def _argmax(c: Context, e):
    (axis,) = e.params
    if not window_argmax(e):
        return f"{c.args[0]}.argmax({axis})"
    # a pooling window's arg-max: the first index j that reaches the max, k − max_j (k − j)[hit]
    w, _, lines = _window_hits(c, e)
    return lines + [f"{c.name} = {c.dim(e.inputs[0].shape[axis])} - {w}.max({axis})", f"del {w}"]


def window_first_hit(c: Context, e, in_windows: bool = False) -> list:
    """one_hot(argmax(a)) of a pooling window's arg-max ``e`` (`window_argmax`), from the window's
    entries ``c.args[0]`` themselves, into ``c.name``: 1 at the first entry of each window that
    reaches its max, in the windows' slab layout (`_window_hits`: the hit of largest weight) — no
    integer arg-max array, nor a compare of it with 0 … k − 1 laid along a new axis. ``in_windows``:
    the windows' array dies here, and the 0/1 mask is written into it (no new array)."""
    (axis,) = e.params
    w, x, lines = _window_hits(c, e, keep=in_windows)
    top = f"{w}.max({axis}, keepdims=True)"
    if in_windows:
        return lines + [f"{c.name} = numpy.equal({w}, {top}, out={x})  # (in the windows' buffer)",
                        f"del {w}" + (f", {x}" if x != c.args[0] else "")]
    return lines + [f"{c.name} = ({w} == {top}).astype(DTYPE)", f"del {w}"]


def _rsum(c: Context, e) -> str:
    # over the leading axis and others of a 3-d array or more (a bias gradient Σ over (N, *S)):
    # the leading axis first, a sum of N contiguous slabs, then the rest of the now N-times smaller
    # array; NumPy's one reduction over (0, 2, 3) runs 3-6 times slower, whatever the memory order
    axes = tuple(e.params[0])
    shape = tuple(e.inputs[0].shape)
    rank, k = len(shape), len(axes)
    if axes == (rank - 1,) and short_rows(shape):
        return last_axis_sum(c.args[0], rank)
    if k > 1 and 0 not in axes and axes == tuple(range(rank - k, rank)) and _short(shape[rank - k:]):
        # the trailing axes, short rows together (a conv map's spatial sum: global average pooling,
        # the bias of a per-example conv): einsum's loop, 2-4 times NumPy's .sum((2, 3)) whatever the
        # memory order, (128, 16, 8, 8) to (256, 3, 32, 32) float32 (docs/benchmarks.md, thirteenth
        # session, np); the same bits as .sum over channel-last maps
        return last_axis_sum(c.args[0], rank, n=k)
    if 0 in axes and len(axes) > 1 and rank >= 3:
        return f"{c.args[0]}.sum(0, keepdims=True).sum({tuple(a for a in axes if a != 0)}, keepdims=True)"
    return f"{c.args[0]}.sum({axes}, keepdims=True)"


# einsum adds a row up entry after entry (in a few running sums), NumPy's .sum pairwise: the same
# rounding over rows up to its pairwise block (128), a larger error over longer ones in float32
SHORT_ROW = 1024


def short_rows(shape) -> bool:
    """A 2-d array or more whose last axis is a known size of at most `SHORT_ROW` entries: its sum
    over that axis alone is `last_axis_sum`."""
    last = shape[-1] if len(shape) >= 2 else None
    return last is not None and getattr(last, "is_Integer", isinstance(last, int)) and int(last) <= SHORT_ROW


def _short(sizes) -> bool:
    """Whether ``sizes`` are known numbers of at most `SHORT_ROW` entries together."""
    n = 1
    for d in sizes:
        if not getattr(d, "is_Integer", isinstance(d, int)):
            return False
        n *= int(d)
    return n <= SHORT_ROW


def last_axis_sum(a: str, rank: int, dtype: str = "", n: int = 1) -> str:
    """Σ of ``a`` (code of a ``rank``-d array) over its last axis (its last ``n`` axes), the axes
    kept (size 1): ``numpy.einsum('ijk->ij', a)[..., None]``. NumPy's ``.sum(-1, keepdims=True)``
    over short rows (a layer norm's D, a softmax's T) runs 2-7 times slower than einsum's loop,
    (2048, 128) to (32, 4, 64, 64) float32 (float32 accumulation both, over rows this short).
    ``dtype``: "" or ", dtype=DTYPE" (a count of a 0/1 mask: einsum of booleans would be their
    logical or)."""
    ij = "ijklmnop"[:rank]
    return f"numpy.einsum('{ij}->{ij[:-n]}', {a}{dtype})[...{', None' * n}]"


def _axis_sum(a: str, axis: int, shape) -> str:
    """Σ of ``a`` (code of an array of ``shape``) over ``axis``, kept: `last_axis_sum` over short
    rows, else ``.sum``."""
    if axis == len(shape) - 1 and short_rows(shape):
        return last_axis_sum(a, len(shape))
    return f"{a}.sum({axis}, keepdims=True)"


def _reshape(c: Context, e) -> str:
    # a 0-d value may be a Python float (the seed ``scale``): numpy.reshape takes it as an array
    old, new = tuple(e.inputs[0].shape), tuple(e.params[0])
    if old == ():
        return f"numpy.reshape({c.args[0]}, {c.shape(new)})"
    if len(old) == 2 and len(new) >= 4 and old[0] == new[0]:
        # a matrix (N, D) un-flattened into (N, C, *S) (δ of a flatten, from a dense layer): copied
        # channel-last, the memory order of the conv and pooling arrays it meets
        # (`codegen.printers.numpy_conv._channel_last`): an elementwise statement over two orders
        # runs several times slower than the copy
        last = (0,) + tuple(range(2, len(new))) + (1,)
        back = tuple(last.index(i) for i in range(len(new)))
        return (f"numpy.ascontiguousarray({c.args[0]}.reshape({c.shape(new)}).transpose({last}))"
                f".transpose({back})")
    return f"{c.args[0]}.reshape({c.shape(new)})"


def _pad(c: Context, e) -> list:
    shape, items = e.params
    return [f"{c.name} = numpy.zeros({c.shape(shape)}, dtype=DTYPE)",
            f"{c.name}[{_items(c, items)}] = {c.args[0]}"]


def _scatter_add(c: Context, e) -> list:
    # out[..., idx[j], ...] += ḡ[..., j, ...] for every j: numpy.add.at, which (unlike out[idx] += ḡ)
    # adds every repeated index, as an embedding's gradient needs
    axis, _ = e.params
    made = f"{c.name} = numpy.zeros({c.shape(e.out.shape)}, dtype=DTYPE)"
    row = e.out.shape[1:]
    if axis == 0 and row and all(isinstance(d, int) or getattr(d, "is_Integer", False) for d in row):
        # rows (an embedding's gradient): the entries of the flattened out, one 1-D index per entry
        # of ḡ (row idx[j], column t → idx[j]·T + t), NumPy's fast path of ufunc.at: the same
        # additions in the same order (bitwise equal), 3-4× faster than the N-d index on the
        # embedding bag of bench/port_step.py
        T = 1
        for d in row:
            T *= int(d)
        flat = f"({c.args[1]}.astype(numpy.intp)[..., None] * {T} + numpy.arange({T})).reshape(-1)"
        return [made, f"numpy.add.at({c.name}.reshape(-1), {flat}, {c.args[0]}.reshape(-1))"]
    where = "(" + "slice(None), " * axis + f"{c.args[1]}.astype(numpy.intp))" if axis else \
        f"{c.args[1]}.astype(numpy.intp)"
    return [made, f"numpy.add.at({c.name}, {where}, {c.args[0]})"]


def not_finite_max(n: str) -> str:
    """The statement after ``{n}_max`` = the max of each row, an array: a row of −inf only (every
    entry masked) has max −inf, and −inf − (−inf) is NaN; its shift is 0 instead, so that its
    logsumexp is log 0 = −inf (torch's) and its softmax 0/0 = NaN (torch's too). One pass over the
    maxima, not over the rows."""
    return f"{n}_max[~numpy.isfinite({n}_max)] = 0     # a row of -inf only: logsumexp -inf, not NaN"


def row_max(a: str, axis) -> str:
    """The right side of the statement ``{n}_max = …``: the max of ``a`` along ``axis``, kept as an
    axis of 1, the shift of a log-sum-exp or softmax. ``numpy.fmax.reduce`` rather than ``a.max``:
    the same maxima where a row holds no NaN, in 0.84-0.86 of the time over rows of 64 (an
    attention's, a transformer's logits) and 0.90-1.03 over rows of 10 or 1000 (NumPy 2.4, float32
    and float64; bench/row_max.py), as it need not look for NaN. A row holding NaN gets another max
    (that of its other entries), and its softmax and logsumexp are NaN all the same: the NaN entry's
    exp is NaN, and so is the row's sum (tests/codegen/test_numpy_row_max.py: bit for bit)."""
    return f"numpy.fmax.reduce({a}, axis={axis}, keepdims=True)"


ROW_MAX_COMMENT = "     # .max without its NaN checks: quicker"


def _lse(c: Context, e) -> list:
    # log Σ exp(a) = m + log Σ exp(a − m), m = max a along the axis: no exp of a large number
    (axis,) = e.params
    a, n = c.args[0], c.name
    total = _axis_sum(f"numpy.exp({a} - {n}_max)", axis, e.inputs[0].shape)
    return [f"{n}_max = {row_max(a, axis)}" + ROW_MAX_COMMENT,
            not_finite_max(n),
            f"{n} = numpy.log({total})",
            f"{n} += {n}_max",
            f"del {n}_max"]


def lse_keeping_softmax(c: Context, e, softmax: str, lse_read: bool) -> list:
    """The log-sum-exp over an axis when the program needs softmax(a) = exp(a − lse a) too (an
    attention's softmax, the cross-entropy's in its backward): one exp, kept and divided in place
    into the softmax, ``softmax`` = exp(a − m) / Σ exp(a − m), as the per-example writer's
    `codegen.schedule.Scheduler._logsumexp` does; the lse itself, m + log Σ, only when
    ``lse_read`` (something besides the softmax reads it). A row of −inf entries but not only
    them (a causal mask) gives 0 there; a row of −inf only gives NaN, as torch's softmax does, and
    its lse −inf (`not_finite_max`), as torch's logsumexp does.
    ``softmax`` may be the name of a itself, a temporary that dies here (an attention's scores):
    then the softmax is worked out in a's buffer (``a -= max``), not in a new array."""
    (axis,) = e.params
    a, n = c.args[0], c.name
    total = _axis_sum(softmax, axis, e.inputs[0].shape)
    lines = [f"{n}_max = {row_max(a, axis)}" + ROW_MAX_COMMENT,
             not_finite_max(n),
             f"{a} -= {n}_max" if softmax == a else f"{softmax} = numpy.subtract({a}, {n}_max)",
             f"numpy.exp({softmax}, out={softmax})",
             f"{n}_sum = {total}"]
    if lse_read:
        lines += [f"{n} = numpy.log({n}_sum)", f"{n} += {n}_max"]
    return lines + [f"# {softmax} = softmax(z) = exp(z − max z) / Σ exp(z − max z), kept for the backward pass",
                    f"{softmax} /= {n}_sum",
                    f"del {n}_max, {n}_sum"]


FORMS: dict[str, Form] = {
    "reshape": Form(_reshape, view=True),
    "permute": Form(lambda c, e: f"{c.args[0]}.transpose({tuple(e.params[0])})", view=True),
    "expand": Form(lambda c, e: f"numpy.broadcast_to({c.args[0]}, {c.shape(e.params[0])})", view=True),
    "slice": Form(lambda c, e: f"{c.args[0]}[{_items(c, e.params[0])}]", view=True),
    "rsum": Form(_rsum),
    "rmax": Form(lambda c, e: f"{c.args[0]}.max({e.params[0]}, keepdims=True)"),
    "argmax": Form(_argmax),
    "one_hot": Form(_one_hot),
    "pad": Form(_pad),
    "concat": Form(lambda c, e: f"numpy.concatenate(({', '.join(c.args)},), axis={e.params[0]})"),
    "take": Form(lambda c, e: f"numpy.take({c.args[0]}, {c.args[1]}.astype(numpy.intp), axis={e.params[0]})"),
    "scatter_add": Form(_scatter_add),
    "bmatmul": Form(lambda c, e: f"numpy.matmul({c.args[0]}, {c.args[1]})"),
    "lse": Form(_lse),
    "tril": Form(lambda c, e: f"numpy.tril({c.args[0]}, {e.params[0]})"),
    "triu": Form(lambda c, e: f"numpy.triu({c.args[0]}, {e.params[0]})"),
}

from .numpy_conv import forms as _conv_forms  # noqa: E402 - convolution and pooling rows (their own module)
FORMS.update(_conv_forms(Form))
