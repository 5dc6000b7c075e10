"""Which kind a declaration is — whole-batch or per-example — and what follows from it.

A declaration whose tensors have a symbolic size (``N = sp.Symbol("N", integer=True,
positive=True)``, ``x = sg.tensor("x", (N, D))``) is whole-batch (``shared/DESIGN.md``); one without
is per-example; a per-example one that uses tensors of fixed shapes (`per_example_tensors`) is
batched into a whole-batch one (`symgrad.compiling.batching`). `check_declaration` tells them apart
for `symgrad.compiling.compiler.specify` and refuses what a whole-batch program cannot take (the
kernel backends take one through `symgrad.compiling.kernel_lift`, which names what they cannot run);
`label_bounds` finds the inputs that hold labels or indices, checked at run time.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> sorted(check_declaration([sg.tensor("w", (3,))], [sg.tensor("x", (N, 3))], [], "mean"), key=str)
[N]
"""
from __future__ import annotations

import sympy as sp

from ..core import array_rules as A
from ..core import rules as R
from ..errors import ArgumentError, UnsupportedError
from ..frontend.tensor import Tensor

# What the kernel (Triton) backends cannot run yet, in the words of the declaration.
USER_TERMS = {
    "reshape": "a reshape (x.reshape)", "permute": "a transpose of axes (x.transpose(axes))",
    "expand": "broadcasting (an array repeated along an axis, a bias added to every row)",
    "rsum": "a sum over an axis (sg.sum(x, axis=...), sg.mean, sg.var)",
    "rmax": "a max over an axis (sg.max(x, axis=...))", "argmax": "an argmax",
    "one_hot": "integer labels (sg.one_hot, cross_entropy with labels)", "slice": "slicing (x[a:b])",
    "pad": "padding (sg.pad, F.pad)", "concat": "sg.concat / sg.stack",
    "take": "sg.take / sg.embedding (W[idx])", "scatter_add": "the gradient of take / embedding (scatter-add)",
    "bmatmul": "a batched matrix product (@ over leading axes)",
    "lse": "logsumexp / softmax / cross_entropy over an axis",
    "conv": "conv2d / conv1d (a convolution: sg.conv2d, sg.conv1d)", "flip": "a flip (sg.flip, or sg.pad with mode='reflect')",
    "windows": "pooling (sg.max_pool2d, sg.avg_pool2d)", "fold": "the gradient of pooling (fold)",
    "tril": "sg.tril (a causal mask)", "triu": "sg.triu (a mask)",
}


def check_declaration(params, inputs, masks, reduction) -> set:
    """The symbolic sizes of a whole-batch declaration, or the empty set for a per-example one; an
    error for what a whole-batch program cannot take (see the module docstring)."""
    sizes: set = set()
    for s in list(params) + list(inputs):
        if isinstance(s, Tensor):
            for d in s.shape:
                sizes |= sp.sympify(d).free_symbols
    for p in params:
        if isinstance(p, Tensor) and p.is_integer_tensor:
            raise ArgumentError(f"the parameter {p.name!r} is an integer tensor (labels, indices); those are "
                                f"inputs, never trained")
    if not sizes:
        if per_example_tensors(params, inputs):
            _check_per_example_tensors(params, inputs)
        return set()
    for p in params:
        if isinstance(p, Tensor) and any(not sp.sympify(d).is_Integer for d in p.shape):
            raise UnsupportedError(f"the parameter {p.name!r} has the shape {tuple(p.shape)}; a parameter's "
                                   f"shape must be numbers (only inputs carry the batch size)")
    for s in list(params) + list(inputs):
        if isinstance(s, sp.MatrixSymbol):
            raise UnsupportedError(f"{s.name!r} is a MatrixSymbol in a declaration over the batch (size "
                                   f"{', '.join(sorted(d.name for d in sizes))}); declare it with sg.tensor")
    for m in masks:     # sg.dropout of a tensor: a mask of its shape, N included, drawn per step
        if isinstance(m, sp.MatrixSymbol):
            raise UnsupportedError(f"sg.dropout of a matrix (MatrixSymbol) in a declaration over the batch (size "
                                   f"{', '.join(sorted(d.name for d in sizes))}); apply it to a tensor (sg.tensor)")
    if reduction != "mean":
        raise ArgumentError(f"reduction={reduction!r} applies to per-example declarations; a declaration "
                            f"over the batch is used as written (write sg.sum or sg.mean over N)")
    return sizes


def per_example_tensors(params, inputs) -> bool:
    """A per-example declaration that uses tensors (``sg.tensor`` with fixed shapes): compiled by
    batching its graph (`symgrad.compiling.batching`) into a whole-batch one."""
    every = list(params) + list(inputs)
    return any(isinstance(s, Tensor) for s in every) and not any(
        sp.sympify(d).free_symbols for s in every if isinstance(s, Tensor) for d in s.shape)


def _check_per_example_tensors(params, inputs) -> None:
    """What the batching pass cannot take: a MatrixSymbol among the tensors (a dropout mask is
    batched like an input: one draw per example, `symgrad.compiling.batching`)."""
    for s in list(params) + list(inputs):
        if isinstance(s, sp.MatrixSymbol):
            t = next(t for t in list(params) + list(inputs) if isinstance(t, Tensor))
            raise UnsupportedError(
                f"{s.name!r} is a MatrixSymbol in a declaration of tensors ({t.name!r} is sg.tensor); the two "
                f"array languages do not mix: declare it with sg.tensor({s.name!r}, {tuple(s.shape)})")


def ignored_value(e):
    """The ignore_index of an ewise that sets the labels equal to it to 0 (``where(Eq(y, v), 0, y)``,
    `symgrad.frontend.tensor_softmax.ignored_labels`), else None."""
    if e.prim is not R.ewise_p or len(e.inputs) != 1:
        return None
    body, a = e.params[0], R.ph(0)
    if not (isinstance(body, sp.Piecewise) and len(body.args) == 2 and body.args[0].expr == 0
            and body.args[1] == (a, sp.true) and isinstance(body.args[0].cond, sp.Eq)):
        return None
    lhs, rhs = body.args[0].cond.args
    v = rhs if lhs == a else lhs if rhs == a else None
    return int(v) if v is not None and v.is_Integer else None


def _label_uses(spec):
    """(input index, n, ignored value or None) for each use of an integer input as labels or indices."""
    for lw in (spec.train, spec.eval):
        ids = {vid: i for i, vid in enumerate(lw.inputs) if vid is not None}

        def origins(v, lw=lw, ids=ids):
            """(input index or None, ignored value) of each label input v is read from; a concat of
            labels (sg.concat([y1, y2])) reads each of its parts, labels taken at indices (y[perm])
            the labels themselves."""
            e, skip = lw.graph.producer[v.id], None
            while True:
                if e.prim in (A.reshape_p, A.expand_p, A.permute_p, A.slice_p, R.broadcast_p, A.take_p):
                    e = lw.graph.producer[e.inputs[0].id]       # (take: labels y[perm] hold y's values)
                elif e.prim is A.concat_p:
                    return [(i, skip if s is None else s) for u in e.inputs for i, s in origins(u)]
                elif skip is None and (skip := ignored_value(e)) is not None:     # (None: still None)
                    e = lw.graph.producer[e.inputs[0].id]
                else:
                    return [(ids.get(e.out.id), skip)]

        for e in lw.graph.eqns:
            if e.prim is A.one_hot_p:
                found, n = origins(e.inputs[0]), e.params[0]
            elif e.prim is A.take_p:
                found, n = origins(e.inputs[1]), e.inputs[0].shape[e.params[0]]
            elif e.prim is A.scatter_add_p:
                found, n = origins(e.inputs[1]), e.params[1]
            else:
                continue
            for i, skip in found:
                if i is not None:
                    yield i, n, skip


def ignored_label_values(spec) -> dict:
    """Input index → the one value beyond 0 … n − 1 its labels may take: torch's ``ignore_index`` of
    cross_entropy / nll_loss, when every use of the input as labels sets those entries aside (a
    direct use as labels, or another ignore_index, accepts no extra value)."""
    out: dict = {}
    for i, _, skip in _label_uses(spec):
        out[i] = skip if out.get(i, skip) == skip else None
    return {i: v for i, v in out.items() if v is not None}


def label_bounds(spec) -> dict:
    """Input index → n: the integer inputs read as labels or indices, 0 … n − 1 — by one_hot, take or
    scatter_add (an embedding's ids) — directly or through a reshape, a broadcast or a slice; n may
    be a symbolic size. Negative indices are refused, as torch refuses them (``nn.Embedding``,
    ``index_select``, ``gather``): NumPy would read −1 as the last row, silently."""
    out: dict = {}
    for i, n, _ in _label_uses(spec):
        n, prev = sp.sympify(n), out.get(i)
        if prev is not None and prev.is_Integer and (not n.is_Integer or prev < n):
            n = prev                    # the tighter bound of the uses
        out[i] = n
    return out
