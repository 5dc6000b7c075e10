"""torch's ``F.pad(x, pad, mode="constant", value=0)`` on tensors, as compositions of the movement
primitives, so the gradient is theirs: zero padding is the ``pad`` primitive (the adjoint of a
slice; its gradient slices the padding off), a negative amount a slice (a crop), and the other
modes concatenations of slices:

    reflect     the p entries next to the edge, the edge itself not repeated, reversed (``flip``)
    replicate   the edge entry repeated p times (a broadcast)
    circular    the p entries at the other end

``pad`` lists (before, after) amounts from the LAST axis backwards, as torch's:
``(1, 2)`` pads the last axis by 1 before and 2 after, ``(1, 1, 2, 2)`` the last by 1 and the one
before it by 2.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x = sg.tensor("x", (N, 3, 5))
>>> sg.pad(x, (1, 2)).shape
(N, 3, 8)
>>> sg.pad(x, (2, 2), mode="reflect").shape
(N, 3, 9)
"""
from __future__ import annotations

import numbers

import sympy as sp
from sympy import Tuple

from . import conv as C
from . import tensor as T
from .tensor_tri import ones as _ones
from .parse import as_expr
from ..errors import ArgumentError, ShapeError

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _amounts(pad, x):
    """{axis: (before, after)} from torch's flat tuple, last axis first."""
    if not isinstance(pad, (tuple, list)) or len(pad) % 2 or not pad or any(
            isinstance(p, bool) or not isinstance(p, (numbers.Integral, sp.Integer)) for p in pad):
        raise ArgumentError(f"pad: pad must be a tuple of an even number of integers, (before, after) for "
                            f"the last axis, then the one before it, ... (torch's order), got {pad!r}")
    if len(pad) // 2 > x.ndim:
        raise ArgumentError(f"pad: {len(pad)} amounts pad {len(pad) // 2} axes, but {x} has only {x.ndim}")
    out = {}
    for i in range(len(pad) // 2):
        ax = x.ndim - 1 - i
        lo, hi = int(pad[2 * i]), int(pad[2 * i + 1])
        if (lo or hi) and not isinstance(x.shape[ax], int):
            raise ShapeError(f"pad: axis {ax} of {x} has the symbolic size {x.shape[ax]}; only axes of a "
                             f"fixed size can be padded")
        if lo or hi:
            out[ax] = (lo, hi)
    return out


def _take(x, ax, lo, hi):
    return x[(slice(None),) * ax + (slice(lo, hi),)]


def _crop(x, amounts):
    """The negative amounts: a slice."""
    for ax, (lo, hi) in amounts.items():
        s = x.shape[ax]
        if lo < 0 or hi < 0:
            start, stop = max(-lo, 0), s - max(-hi, 0)
            if stop <= start:
                raise ShapeError(f"pad: the amounts {(lo, hi)} crop all of axis {ax} of size {s}")
            x = _take(x, ax, start, stop)
    return x, {ax: (max(lo, 0), max(hi, 0)) for ax, (lo, hi) in amounts.items()}


def _zero_pad(x, amounts):
    shape, items = [], []
    for ax, d in enumerate(x.shape):
        lo, hi = amounts.get(ax, (0, 0))
        shape.append(as_expr(d + lo + hi))
        items.append(Tuple(sp.Integer(lo), as_expr(lo + d), sp.S.One))
    return T.Pad(x, Tuple(*shape), Tuple(*items))


def _edges(x, ax, lo, hi, mode):
    s = x.shape[ax]
    limit = s - 1 if mode == "reflect" else s
    if mode != "replicate" and max(lo, hi) > limit:
        raise ShapeError(f"pad: mode={mode!r} pads at most {limit} entries on axis {ax} of size {s} (as "
                         f"torch's), got {(lo, hi)}")
    parts = []
    if lo:
        if mode == "reflect":
            parts.append(C.flip(_take(x, ax, 1, lo + 1), ax))
        elif mode == "replicate":
            parts.append(T.broadcast(_take(x, ax, 0, 1), x.shape[:ax] + (lo,) + x.shape[ax + 1:]))
        else:
            parts.append(_take(x, ax, s - lo, s))
    parts.append(x)
    if hi:
        if mode == "reflect":
            parts.append(C.flip(_take(x, ax, s - 1 - hi, s - 1), ax))
        elif mode == "replicate":
            parts.append(T.broadcast(_take(x, ax, s - 1, s), x.shape[:ax] + (hi,) + x.shape[ax + 1:]))
        else:
            parts.append(_take(x, ax, 0, hi))
    return T.concat(parts, axis=ax)


def pad(x, pad, mode="constant", value=None):
    """torch's ``F.pad``: see the module docstring. ``value`` (mode="constant" only) fills the
    padding, 0 by default.

    >>> import symgrad as sg
    >>> sg.pad(sg.tensor("x", (2, 3)), (1, 0, 0, 1))
    pad(x, (3, 4), [:2, 1:])
    """
    if mode not in _MODES:
        raise ArgumentError(f"pad: mode={mode!r} is not supported; supported: {', '.join(map(repr, _MODES))}")
    x = T._tensor_arg(x, "pad")
    amounts = _amounts(pad, x)
    if mode != "constant":
        if value not in (None, 0):
            raise ArgumentError(f"pad: value={value!r} is for mode='constant'; mode={mode!r} takes none")
        if any(lo < 0 or hi < 0 for lo, hi in amounts.values()):
            raise ArgumentError(f"pad: negative amounts (crops) are for mode='constant'; got {pad!r} with "
                                f"mode={mode!r}")
        for ax, (lo, hi) in sorted(amounts.items(), reverse=True):
            x = _edges(x, ax, lo, hi, mode)
        return x
    x, amounts = _crop(x, amounts)
    amounts = {ax: p for ax, p in amounts.items() if p != (0, 0)}
    if not amounts:
        return x
    padded = _zero_pad(x, amounts)
    v = as_expr(0 if value is None else value, "value")
    if v.is_zero:
        return padded
    inside = _zero_pad(_ones(x.shape), amounts)                # 1 at x's entries, 0 in the padding
    return T.where(inside > 0, padded, v)
