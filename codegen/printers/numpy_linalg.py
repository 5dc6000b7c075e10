"""NumPy statements for the matrix inverse and the determinant (`symgrad.core.matrix_inverse`).

``numpy.linalg.inv``, ``det`` and ``slogdet`` work on the last two axes, so one line serves a
declared (n, n) matrix and a batch of them (B, n, n) alike. A batch of 1×1 matrices is laid out
as one number per example, (B, 1): its inverse is 1/x entry by entry, and its determinants are
taken of it reshaped to (B, 1, 1), so they come out as (B,), the layout of a scalar per example. ``log det X`` is ``slogdet``'s
log|det X| where det X > 0 and NaN elsewhere (the log of a number ≤ 0 is not real), the value
`symgrad.core.matrix_inverse` defines.
"""
from __future__ import annotations

PRIMITIVES = ("inverse", "det", "logdet")


def statement(sched, e, name: str, reads: set, atom) -> list:
    """The code lines that compute equation ``e`` (an inverse, det or logdet) into ``name``; ``atom``
    parenthesizes an operand's code (the scheduler's own)."""
    (x,) = e.inputs
    vx = sched.value[x.id]
    X = atom(sched.view(x.id, reads))
    one_per_example = vx.batched and vx.layout != "mat"         # a batch of 1×1 matrices, (B,)
    if e.prim.name == "inverse":
        if one_per_example:
            return [f"{name} = 1.0 / {X}"]
        return [f"{name} = numpy.linalg.inv({X})"]
    M = f"{X}.reshape(-1, 1, 1)" if one_per_example else X
    if e.prim.name == "det":
        return [f"{name} = numpy.linalg.det({M})"]
    return [f"{name}_sign, {name} = numpy.linalg.slogdet({M})",
            f"{name} = numpy.where({name}_sign > 0, {name}, numpy.nan)   # log det X: real where det X > 0",
            f"del {name}_sign"]
