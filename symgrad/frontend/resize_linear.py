"""Linear, bilinear and trilinear resizing, as torch's ``F.interpolate(mode="linear" / "bilinear" /
"trilinear")`` computes it, with ``align_corners=False`` (the default) or ``True``.

A linear resize of a spatial axis from S entries to O is a fixed linear map: an (O, S) matrix A of
constant weights, applied along that axis with ``@`` (along H and W in turn for bilinear), so its
gradient is the transposed map Aᵀ — no new primitive, no new rule. Output entry i reads the input
at the real position

    c_i = (i + ½)·r − ½, clamped to [0, S − 1]   (align_corners=False; r = S / O, or 1 / scale_factor
                                                   when one is given, as torch)
    c_i = i·(S − 1)/(O − 1)                       (align_corners=True; 0 when O = 1)

and mixes its two neighbours by the distance: A[i, s] = max(0, 1 − |c_i − s|), the "tent" weights
(1 − λ at ⌊c_i⌋, λ at ⌊c_i⌋ + 1). The matrix is itself an expression of primitives — the indices
0 … n − 1 as ``tril(ones((n, n))).sum(axis=1) − 1``, then ``clip``, ``abs`` and ``relu`` — with no
variable in it: the compiled step computes it and differentiates only through the ``@``.

>>> import symgrad as sg
>>> sg.interpolate(sg.tensor("x", (2, 3, 4, 5)), scale_factor=2, mode="bilinear").shape
(2, 3, 8, 10)
"""
from __future__ import annotations

import sympy as sp

from . import tensor as T
from .tensor_bounds import clip
from .tensor_tri import ones, tril
from .activations import relu

__all__ = ["resize_matrix", "linear_resize"]


def _indices(n: int):
    """The indices 0, 1, …, n − 1 as a constant tensor of shape (n,)."""
    return tril(ones((n, n))).sum(axis=1) - 1


def resize_matrix(S: int, O: int, align_corners: bool, scale=None):
    """The (O, S) weights of torch's linear resize of an axis of S entries to O (``scale``: the
    scale_factor given, whose inverse torch then uses as the step instead of S / O)."""
    if S == 1:                                   # every output entry is the one input entry
        return ones((O, 1))
    if align_corners:
        step, start = (sp.Rational(S - 1, O - 1) if O > 1 else sp.Integer(0)), sp.Integer(0)
    else:
        # torch's step: S / O, or 1 / scale_factor in float64 when one is given (taken exactly)
        step = sp.Rational(S, O) if scale is None else sp.Rational(1.0 / float(scale))
        start = step / 2 - sp.Rational(1, 2)
    c = clip(step * _indices(O) + start, 0, S - 1)
    return relu(1 - abs(c.reshape(O, 1) - _indices(S).reshape(1, S)))


def linear_resize(x, sizes, align_corners: bool, scales=None):
    """x (N, C, *S) resized to (N, C, *sizes) by the linear map along each spatial axis in turn
    (``scales``: the scale factors given, one per axis, or None)."""
    out = x
    last = x.ndim - 1
    for k, (S, O) in enumerate(zip(x.shape[2:], sizes)):
        scale = None if scales is None else scales[k]
        if S == O and (scale is None or scale == 1):       # the identity map
            continue
        A = resize_matrix(S, O, align_corners, scale)
        ax = 2 + k
        if ax == last:
            out = out @ A.T
        elif ax == last - 1:
            out = A @ out
        else:
            out = (out.swapaxes(ax, last) @ A.T).swapaxes(ax, last)
    return T.as_tensor(out)
