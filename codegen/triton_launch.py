"""The host lines that launch a kernel: its arguments in order, and the strides symgrad knows (a
parameter's, a buffer's) written as numbers."""
from __future__ import annotations

import re

from symgrad.core import rules as R

from .kernel_schedule import KernelScheduler
from .triton_text import _I


def _in_workspace(call: str, kind: str, name: str = "") -> str:
    """The launches put their outputs in buffers kept between calls (the function's Workspace,
    ``ws``; ``name``: a helper's buffers there), except what the function returns: step returns the
    loss (a buffer it is given, or a fresh one), grad the loss and the gradients `finish` makes, loss
    a sum; forward's outputs and grad_inputs' input gradients, outputs of rows kernels, are
    allocated afresh (`_rows_kernel`'s ``fresh``). ``kind``: the function (every kind keeps)."""
    return call[:-1] + (", " if call[-2] != "(" else "") + "ws=ws" + (f', name="{name}"' if name else "") + ")"


# A launch wrapper checks nothing its caller has checked at entry: the generated loss, grad, step and
# forward check their parameters (shape, contiguous) and inputs (shape, contiguous rows) once, and the
# launch wrappers read those and the buffers the launches before them made (contiguous (B, N) rows).
_CHECKED = (".\n\n{i}Called by the functions below, which check their parameters and inputs at entry; the other\n"
            "{i}tensors are buffers the launches make (contiguous rows).\"\"\"").format(i=_I)


def _launch_line(kname: str, args: list, calls: list, const: list, sch: KernelScheduler, names: dict) -> str:
    """The line that launches a rows kernel: tensors and scalars in order, then the strides by name —
    a number where symgrad decides the layout (a parameter or a value of the parameters alone, checked
    or made contiguous; a buffer of the launches, (B, N) rows: N), read from the tensor for an input
    (any row stride) — and the constexprs."""
    pos = [c for a, c in zip(args, calls) if not a.startswith("stride_")]
    strides = [f"{a}={_known_stride(c, sch, names)}" for a, c in zip(args, calls) if a.startswith("stride_")]
    kw = [f"{c}={val}" for c, val, _ in const]
    return f"{_I}{kname}[grid]({', '.join(pos + strides + kw)})"


def _known_stride(call: str, sch: KernelScheduler, names: dict) -> str:
    """``p0.stride(0)`` → ``32`` for a tensor whose layout symgrad decides (see `_launch_line`); an
    input's (``x0.stride(0)``) stays a call."""
    m = re.fullmatch(r"([phv])(\d+)\.stride\(([01])\)", call)
    if m is None:
        return call
    kind, num, dim = m.group(1), int(m.group(2)), int(m.group(3))
    by_name = {n: v for v, n in names.items()}
    v = num if kind == "v" and f"v{num}" not in by_name else by_name.get(f"{kind}{num}")
    if v is None or v not in sch.g.producer:
        return call
    if kind == "v":                 # a buffer of the launches: (B, N), or (B,); a stack's member: (B, count·N)
        stack = next((s for s in getattr(sch, "stacks", ()) if v in s.members), None)
        if stack is not None:
            return str(len(stack.members) * stack.width) if dim == 0 else "1"
        return str(sch.width_of(v) or 1) if dim == 0 else "1"
    shape = tuple(int(d) for d in sch.g.producer[v].out.shape)
    if len(shape) != 2:
        return call
    strided = _strided_view(sch, v)
    if strided is not None:
        return str(strided[dim])
    return str(shape[1]) if dim == 0 else "1"


def _strided_view(sch: KernelScheduler, v: int) -> tuple | None:
    """(row stride, column stride) when var ``v`` is a strided view of a parameter matrix (F, n) that
    the host passes as it is (no copy) and the kernels read with those strides: every c-th row, c > 1
    (V[p::P], the rows of a dense layer that one position of a flattened convolution output meets,
    `kernel_conv`): (n·c, 1); every c-th column, c > 1 (W[:, k::KH·KW], the columns of a second
    convolution's weight that one offset of its window meets, `triton_selections`): (n, c)."""
    e = sch.g.producer[v]
    if e.prim.name != "slice" or sch.g.producer[e.inputs[0].id].prim is not R.param_p:
        return None
    shape = tuple(int(d) for d in e.inputs[0].shape)
    items = tuple(tuple(int(a) for a in it) for it in e.params[0])
    if len(shape) != 2 or len(items) != 2:
        return None
    if items[0][2] > 1 and items[1] == (0, shape[1], 1):
        return shape[1] * items[0][2], 1
    if items[1][2] > 1 and items[0] == (0, shape[0], 1) and min(int(d) for d in e.out.shape) > 1:
        return shape[1], items[1][2]        # (a matrix: read only as a product's operand, with both strides)
    return None
