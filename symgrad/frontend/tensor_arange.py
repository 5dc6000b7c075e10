"""``sg.arange(n)``: the integer tensor 0, 1, …, n − 1 (NumPy's ``np.arange``, torch's
``torch.arange``), for the two places torch code writes it: the labels of a contrastive loss
(InfoNCE / CLIP, ``F.cross_entropy(za @ zb.T / tau, torch.arange(N))``) and the positions of a
position embedding (nanoGPT's ``wpe(torch.arange(T))``).

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> y = sg.arange(N)
>>> y, y.shape, y.is_integer_tensor
(arange(N), (N,), True)
>>> sg.tensor("P", (16, 8))[sg.arange(5)]              # the first five positions: a slice
P[:5]

Where its values make the operation a simpler one, the consumer is that one, so that the gradient
reads as the notes write it: ``take(x, arange(m), axis)`` is the slice ``x[:m]`` along the axis;
``one_hot(arange(m), n)`` is ``eye(m, n)``; ``take_along_axis(s, arange(N)[:, None], 1)`` — each
row's entry on the diagonal, which ``cross_entropy(s, arange(N))`` reads — is ``(s * eye).sum(1)``.
Anywhere else (compared with an ``ignore_index``, a class weight ``w[arange(N)]`` of a larger w)
it is lowered as the running count ``tril(ones((n, n))).sum(axis=1) - 1`` (n² entries: meant for a
batch or a sequence, not a vocabulary).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import ArgumentError, ShapeError
from . import tensor as T
from .parse import register_tensor_constructor as _register_constructor
from .tensor_tri import eye, ones, tril

__all__ = ["Arange", "arange"]


class Arange(T.TensorExpr):
    """arange(n): the integer tensor (0, 1, …, n − 1) of shape (n,); n a number or a size (N)."""

    _data = ()                  # n is a size, not data: no free symbol
    is_integer_tensor = True
    is_number = False           # (SymPy's default, all args numbers: arange(6) would be lowered as a scalar)

    @property
    def n(self):
        return self.args[0]

    @property
    def shape(self):
        return (T._dim(self.n),)

    def counted(self):
        """The same values as a real tensor made of symgrad's operations (its lowering)."""
        n = self.shape[0]
        return T.as_tensor(tril(ones((n, n))).sum(axis=1) - 1)

    def _sympystr(self, printer):
        return f"arange({printer._print(self.n)})"

    def _latex(self, printer):
        return rf"\operatorname{{arange}}\left({printer._print(self.n)}\right)"


def arange(start, stop=None, step=None):
    """np.arange(n) / torch.arange(n): the integer tensor 0 … n − 1, n a positive integer or a size
    of the declaration (N). ``arange(0, n)`` and ``arange(0, n, 1)`` are the same; other starts and
    steps are refused (labels and positions start at 0)."""
    if stop is None:
        start, stop = 0, start
    for what, v in (("start", start), ("step", step)):
        if v is not None and not (isinstance(v, (int, np.integer, sp.Integer)) and not isinstance(v, bool)
                                  and int(v) == (0 if what == "start" else 1)):
            raise ArgumentError(f"arange: {what}={v!r} — sg.arange(n) is the labels or positions 0 … n − 1 "
                                f"(start 0, step 1); other values: take a slice of them "
                                f"(sg.arange(n)[k:], a step in the slice) or declare an integer input "
                                f"(sg.tensor(name, shape, integer=True))")
    if isinstance(stop, bool) or T.is_tensor_expr(stop):
        raise ArgumentError(f"arange: n must be a positive integer or an integer size (N), got {stop!r}")
    n = T.as_expr(stop, "arange's n")
    if not (n.is_Integer and n > 0) and not (n.free_symbols and n.is_integer and n.is_positive):
        raise ArgumentError(f"arange: n must be a positive integer or a positive integer size "
                            f"(sp.Symbol('N', integer=True, positive=True)), got {stop!r}")
    return Arange(n)


def arange_axis(idx):
    """(m, a) when the integer tensor ``idx`` holds 0 … m − 1 along its axis a, with every other axis of
    size 1 (``arange(m)``, ``arange(m)[:, None]``, ``arange(m).reshape(m, 1)``); None otherwise."""
    base = idx.args[0] if isinstance(idx, T.Reshape) else idx
    if not isinstance(base, Arange):
        return None
    m = base.shape[0]
    long = [i for i, d in enumerate(idx.shape) if not T.dims_equal(d, 1)]
    if len(long) > 1 or (long and not T.dims_equal(idx.shape[long[0]], m)):
        return None
    return m, (long[0] if long else 0)


def _take(x, idx, ax):
    """take(x, arange(m), axis): x's first m entries along the axis, a slice (its gradient a pad);
    None where m is not known to fit (N against 16: the general take checks it at run time)."""
    if not isinstance(idx, Arange):
        return None
    m, d = idx.shape[0], x.shape[ax]
    if T.dims_equal(m, d):
        return x
    if isinstance(m, int) and isinstance(d, int):
        if m > d:
            raise ShapeError(f"take: the indices arange({m}) reach {m - 1}, past axis {ax} of {x} "
                             f"(size {d})")
        return x[(slice(None),) * ax + (slice(0, m),)]
    return None


def _one_hot(y, n, ax):
    """one_hot(arange(m), n, axis): eye(m, n) (classes last) or eye(n, m) (classes first)."""
    if not isinstance(y, Arange):
        return None
    m = y.shape[0]
    return eye(m, n) if ax == 1 else eye(n, m)


def _take_along(x, idx, ax):
    """take_along_axis(x, idx, ax) for idx = arange(m) along another axis a, of size 1 on ax: each
    entry x[..., i (axis a), ..., i (axis ax)], i.e. Σ over ax of x ⊙ the diagonal of ones."""
    found = arange_axis(idx)
    if found is None or idx.ndim < 2 or not T.dims_equal(idx.shape[ax], 1):
        return None
    m, a = found
    if a == ax:
        return None
    c = x.shape[ax]
    shape = [1] * x.ndim
    shape[a], shape[ax] = m, c
    diagonal = (eye(m, c) if a < ax else eye(c, m)).reshape(shape)
    return T.sum(T.as_tensor(x * diagonal), axis=ax, keepdims=True)


T.BY_LATER_MODULES.update(arange_take=_take, arange_one_hot=_one_hot, arange_take_along=_take_along)


def _text_arange(shape):
    """arange(N) in the text (a string claim, the command line): one size, read as a constant."""
    if len(shape) != 1:
        raise ArgumentError(f"arange takes one size in the text, arange(N) (the labels 0 … N − 1); got "
                            f"{len(shape)}")
    return arange(shape[0])


def _text_eye(shape):
    """eye(N) or eye(n, m) in the text: NumPy's np.eye(n, m) (the diagonal k=0)."""
    if len(shape) > 2:
        raise ArgumentError(f"eye takes one or two sizes in the text, eye(N) or eye(n, m); got {len(shape)}")
    return eye(*shape)


_register_constructor("arange", _text_arange)
_register_constructor("eye", _text_eye)
