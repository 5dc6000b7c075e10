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
from .parse import register_arange as _register_arange
from .parse import register_tensor_constructor as _register_constructor
from .tensor_tri import eye, ones, tril
from .torch_tensor_methods import dtype_kind

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


def _whole(v) -> bool:
    return isinstance(v, (int, np.integer, sp.Integer)) and not isinstance(v, bool)


def arange(start=None, stop=None, step=None, *, end=None, dtype=None, device=None):
    """np.arange / torch.arange: ``arange(n)`` is the integer tensor 0 … n − 1, n a positive integer
    or a size of the declaration (N). ``arange(start, stop, step)`` of whole numbers is
    ``arange(count) * step + start``, count = ⌈(stop − start)/step⌉, as NumPy counts them
    (rotary embeddings' ``torch.arange(0, Dh, 2) / Dh``; ``torch.arange(N, 2 * N)``: a symbolic
    stop with step 1). Fractional values are refused (no integer tensor holds them). torch's
    keywords: ``end=`` is stop, a float ``dtype=`` makes it real (``.float()``; guided diffusion's
    ``th.arange(start=0, end=half, dtype=th.float32)``), ``device=`` changes nothing (a declaration
    has no device).

    >>> arange(0, 8, 2), arange(3, 0, -1), arange(start=0, end=3, dtype="float32")
    (2*arange(4), 3 - arange(3), 1.0*arange(3))
    """
    if end is not None:
        if stop is not None:
            raise ArgumentError(f"arange: give the end once, stop={stop} (NumPy's) or end={end} (torch's)")
        stop = end
    if stop is None:
        if start is None:
            raise ArgumentError("arange() needs its end: arange(n), arange(start, end) or arange(start, end, step)")
        start, stop = 0, start
    start = 0 if start is None else start
    kind = dtype_kind(dtype) if dtype is not None else "int"
    if kind not in ("int", "float"):
        raise ArgumentError(f"arange: dtype={dtype} — symgrad's arange is whole numbers (an integer tensor) "
                            f"or, with a float dtype, those numbers as reals")
    values = _arange(start, stop, step)
    return values.float() if kind == "float" else values


def _arange(start, stop, step):
    step = 1 if step is None else step
    for what, v in (("start", start), ("step", step)):
        if not _whole(v) and not (what == "start" and isinstance(v, sp.Expr) and not T.is_tensor_expr(v)
                                  and v.is_integer):
            raise ArgumentError(f"arange: {what}={v!r} — sg.arange takes whole numbers (start and step "
                                f"integers, stop an integer or an integer size N); for fractional "
                                f"values scale it (sg.arange(n) * 0.5) or declare an input "
                                f"(sg.tensor(name, shape))")
    if int(step) == 0:
        raise ArgumentError("arange: step=0 — the step must not be 0 (as NumPy's)")
    if isinstance(stop, bool) or T.is_tensor_expr(stop):
        raise ArgumentError(f"arange: n must be a positive integer or an integer size (N), got {stop!r}")
    start, stop, step = sp.sympify(start), T.as_expr(stop, "arange's stop"), int(step)
    if stop.is_number and not stop.is_Integer:
        raise ArgumentError(f"arange: stop={stop} — sg.arange takes whole numbers; for fractional values "
                            f"scale it (sg.arange(n) * 0.5) or declare an input (sg.tensor(name, shape))")
    call = f"arange({stop})" if start == 0 and step == 1 else f"arange({start}, {stop}, {step})"
    count = stop - start
    if count.is_Integer:
        count = sp.Integer(-(-int(count) // step))      # ⌈(stop − start)/step⌉, as NumPy counts
    elif step != 1:
        raise ArgumentError(f"arange: a symbolic stop ({stop}) takes step 1, got step={step}: the count "
                            f"⌈({stop} − {start})/{step}⌉ is no size; write sg.arange({stop})[{start}::{step}]")
    if not (count.is_Integer and count > 0) and not (count.free_symbols and count.is_integer
                                                     and count.is_positive):
        raise ArgumentError(f"arange: {call} holds {count} values; a tensor needs at least one, and a "
                            f"symbolic count a positive integer size (sp.Symbol('N', integer=True, "
                            f"positive=True))")
    return Arange(count) if start == 0 and step == 1 else Arange(count) * step + start


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
_register_arange(arange)
_register_constructor("eye", _text_eye)
