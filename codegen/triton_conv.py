"""What the Triton rows kernels load for convolutions and embeddings: a convolution's window of an
image input (an index table made once per kernel), the constant 0/1 selections of a second
convolution's windows, and an embedding's row index."""
from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from symgrad.core import rules as R

from .kernel_schedule import KernelScheduler
from .triton_text import _I, _label

if TYPE_CHECKING:
    from .triton_rows import _RowsBody


def _patch_load(rb: _RowsBody, v: int, nm: str, sfx: str, arg, defined: set) -> list:
    """The lines that load var ``v``, a convolution's window of an image input (`kernel_conv.patch`):
    entry n = (c·KH + i)·KW + j of the window at origin (r0, c0) is the image's entry
    c·H·W + (r0 + i·dh)·W + (c0 + j·dw), a zero outside the image. The index table (tap_c, tap_i,
    tap_j and the offset tap_at of the window at (0, 0)) is made once, in the stage of the first
    window, for all (each window's stage has the same width C·KH·KW: the same offsets)."""
    x, ((C, H, W), (KH, KW), (r0, c0), (dh, dw)) = rb.patches[v]
    xn, T = rb.name(x), _I
    arg(f"{xn}_ptr", f"(B, C·H·W) {_label(xn, rb.sch.notes.get(x))}: an image per row", xn)
    arg(f"stride_{xn}", f"row stride of {xn}", f"{xn}.stride(0)")
    if C * KH * KW == 1:        # one entry (a 1×1 window of one channel): a number per example, a column
        defined.add(nm)
        if not (0 <= r0 < H and 0 <= c0 < W):
            return [f"{T}{nm} = tl.zeros([BLOCK_M], dtype=tl.float32)  # the 1×1 window at ({r0}, {c0}): padding"]
        return [f"{T}{nm} = tl.load({xn}_ptr + offs_m * stride_{xn} + {r0 * W + c0}, mask=mask_m, other=0.0)"
                f"  # the 1×1 window at ({r0}, {c0})"]
    key = (C, H, W, KH, KW, dh, dw)     # (the same in every stage of width C·KH·KW: made once, in the first)
    lines = []
    tap = rb.taps.get(key)
    if tap is None:
        tap = f"tap{sfx}" + (f"_{len(rb.taps)}" if rb.taps else "")
        rb.taps[key] = tap
        times = lambda a, k: a if k == 1 else f"{a} * {k}"      # noqa: E731
        lines = [f"{T}# -- the {KH}×{KW} windows of {xn} ({C}, {H}, {W}): entry n of a window is (c, i, j) = "
                 f"(n // {KH * KW}, n // {KW} % {KH}, n % {KW}),",
                 f"{T}#    the image's entry c·{H * W} + (r0 + {times('i', dh)})·{W} + (c0 + {times('j', dw)}) for "
                 f"the window at (r0, c0)",
                 f"{T}{tap}_c = offs_n{sfx} // {KH * KW}",
                 f"{T}{tap}_i = offs_n{sfx} // {KW} % {KH}",
                 f"{T}{tap}_j = offs_n{sfx} % {KW}",
                 f"{T}{tap}_at = {tap}_c * {H * W} + {times(f'{tap}_i', dh * W)} + {times(f'{tap}_j', dw)}"]
        defined |= {f"{tap}_c", f"{tap}_i", f"{tap}_j", f"{tap}_at"}
    shift = r0 * W + c0
    at = f"{tap}_at" + (f" + {shift}" if shift > 0 else f" - {-shift}" if shift < 0 else "")
    inside = []                     # the bounds a window in the padding crosses (none inside the image)
    for a, k, o, n in (("i", dh, r0, H), ("j", dw, c0, W)):
        ax = f"{tap}_{a}" if k == 1 else f"{tap}_{a} * {k}"
        if o < 0:
            inside.append(f"({ax} >= {-o})")
        if o + (KH - 1 if a == "i" else KW - 1) * k >= n:
            inside.append(f"({ax} < {n - o})")
    where = f"the window at ({r0}, {c0})"
    if inside:
        lines.append(f"{T}{nm}_in = mask_n{sfx} & " + " & ".join(inside) + f"  # {where}: its entries inside the image")
        mask = f"mask_m[:, None] & {nm}_in[None, :]"
    else:
        mask = f"mask{sfx}"
    lines.append(f"{T}{nm} = tl.load({xn}_ptr + offs_m[:, None] * stride_{xn} + ({at})[None, :], mask={mask}, "
                 f"other=0.0)  # {where}")
    defined.add(nm)
    return lines


def _zero_one(sch: KernelScheduler, v: int) -> bool:
    """Var ``v`` is a constant matrix of 0s and 1s (kernel_form's selection of a slice or a concat)."""
    e = sch.g.producer[v]
    return e.prim is R.const_p and isinstance(e.params[0], sp.MatrixBase) and set(e.params[0]) <= {0, 1}


def _index_of(sch: KernelScheduler, v: int) -> int | None:
    """The var an embedding's row index ``v`` is loaded as: an integer input itself, or one entry
    ids[i] of an example's ids (a bag, `kernel_form.AsColumns._entry`: Σ of a 1×1 slice of the input,
    loaded with an offset); None for a computed index."""
    e = sch.g.producer[v]
    if e.prim.leaf:
        return v
    if e.prim is R.sum_p and e.params[0] is None and tuple(e.inputs[0].shape) == (1, 1):
        s = sch.g.producer[e.inputs[0].id]
        if s.prim.name == "slice" and sch.g.producer[s.inputs[0].id].prim.leaf:
            return s.out.id
    return None


def _index_input(sch: KernelScheduler, v: int) -> int | None:
    """The input an embedding's row index ``v`` reads (`_index_of`)."""
    k = _index_of(sch, v)
    if k is None or sch.g.producer[k].prim.leaf:
        return k
    return sch.g.producer[k].inputs[0].id
