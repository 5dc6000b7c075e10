"""Reductions of a tensor over axes: ``sg.sum / mean / max / min`` (the `Reduce` node), ``var`` and
``std`` (`Variance`, with torch's ``correction=`` and NumPy's ``ddof=``) and ``argmax``.

>>> import symgrad as sg
>>> sg.tensor("x", (4, 3)).sum(axis=0).shape
(3,)
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Tuple

from .keywords import check_flag, keywords
from ..errors import ArgumentError, AxisError
from .tensor_expr import (BY_LATER_MODULES, as_expr, as_tensor, _axes, is_tensor_expr, normalize_axis, _paren, reduced_shape,
                          _tensor_arg, TensorExpr, _torch_dim_of_var, torch_reduce_names)


class Reduce(TensorExpr):
    """x.sum / x.mean / x.max / x.min over ``axes`` (all when every axis is listed)."""

    @property
    def x(self):
        return self.args[0]

    @property
    def op(self):
        return self.args[1].name

    @property
    def axes(self):
        return tuple(int(a) for a in self.args[2])

    @property
    def keepdims(self):
        return bool(self.args[3])

    @property
    def shape(self):
        return reduced_shape(self.x.shape, self.axes, self.keepdims)

    def _sympystr(self, printer):
        axes = self.axes
        parts = []
        if len(axes) != self.x.ndim:
            parts.append(f"axis={axes[0]}" if len(axes) == 1 else f"axis={axes}")
        if self.keepdims:
            parts.append("keepdims=True")
        return f"{_paren(printer, self.x)}.{self.op}({', '.join(parts)})"

    def _latex(self, printer):
        return r"\operatorname{%s}\left(%s\right)" % (self.op, printer._print(self.x))

    # torch's x.max(dim) is a pair (values, indices): x.max(axis=1).values / .indices read as torch's
    # (NumPy's x.max(axis=1) is the values themselves, and x.max(1)[0] its first entry)
    @property
    def values(self):
        """torch's ``x.max(dim).values``: the maxima (or minima) themselves, this expression."""
        if self.op not in ("max", "min"):
            raise AttributeError(f"{self}.values: only a max or min over an axis has torch's .values")
        return self

    @property
    def indices(self):
        """torch's ``x.max(dim).indices``: the first arg-max (arg-min) along the one reduced axis."""
        if self.op not in ("max", "min") or len(self.axes) != 1 or self.keepdims:
            raise AttributeError(f"{self}.indices: only a max or min over one axis, without keepdims, has "
                                 f"torch's .indices")
        x = self.x if self.op == "max" else -self.x
        return argmax(x, self.axes[0])


def _keepdims(keepdims, op) -> bool:
    """keepdims= is True or False (a string such as "yes" is refused, not read as true)."""
    if not isinstance(keepdims, (bool, np.bool_)):
        raise ArgumentError(f"{op}: keepdims= must be True or False, got {keepdims!r}")
    return bool(keepdims)


def _reduce(op, x, axis, keepdims):
    keepdims = _keepdims(keepdims, op)
    x = _tensor_arg(x, op)
    axes = _axes(axis, x.ndim, f"{op}", x)
    return Reduce(x, sp.core.symbol.Str(op), Tuple(*axes), sp.true if keepdims else sp.false)


@keywords()
def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001 - sg.sum, as in numpy/torch
    """Σ over ``axis`` (None: all; an int or a tuple, negative counted from the end) of a tensor, as
    NumPy's ``sum`` (torch's ``dim=`` / ``keepdim=`` are taken too). A matrix expression keeps
    symgrad's matrix ``sum`` (all entries).

    >>> import symgrad as sg
    >>> x = sg.tensor("x", (4, 3))
    >>> sg.sum(x, axis=-1, keepdims=True).shape
    (4, 1)
    """
    axis, keepdims = torch_reduce_names("sum", axis, keepdims, dim, keepdim)
    x = as_expr(x)
    if not is_tensor_expr(x):
        if axis is not None or keepdims:
            raise AxisError(f"sum: axis= and keepdims= are for tensors (sg.tensor); {x} is not one. "
                            f"A matrix's column sum is OneMatrix(1, n) * M")
        from .functions import sum as matrix_sum
        return matrix_sum(x)
    return _reduce("sum", x, axis, keepdims)


@keywords()
def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """The mean over ``axis``, as NumPy's ``mean`` (torch's ``dim=`` / ``keepdim=`` are taken too)."""
    axis, keepdims = torch_reduce_names("mean", axis, keepdims, dim, keepdim)
    return _reduce("mean", x, axis, keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    """The maximum over ``axis``; its gradient goes to the first arg-max (the subgradient policy;
    ``max_ties="split"`` leaves it so, as torch's ``max(x, dim)`` picks one index; `amax` splits)."""
    return _reduce("max", x, axis, keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    """The minimum over ``axis``; its gradient goes to the first arg-min."""
    return _reduce("min", x, axis, keepdims)


def amax(x, dim=None, keepdim=False):
    """torch's ``x.amax(dim, keepdim)``: the maximum over ``dim`` (an int, a tuple, or None for all),
    with torch's gradient at a tie, ½ to each of two tied entries (1/k to each of k), where
    ``x.max(axis)`` (torch's ``max(x, dim)`` and max pooling) gives it all to the first arg-max.

    Written with what exists: c + Σ where(x ≥ m, (x − c)/k, 0) over ``dim``, m the max (kept), k
    the count of tied entries, and c = m clipped to ±`AMAX_BOUND` (float32's largest finite number).
    Its value is m: for a finite m within the bound c = m and x − c is 0 at the tied entries (``where``
    selects, so a −inf elsewhere does not reach the sum); for m = ±inf, x − c is ±inf at the tied
    entries where x − m would have been ∞ − ∞ = NaN, so the value is ±inf, as torch's (a row masked to
    −inf throughout). The comparison and k have no derivative, and c enters once with + and k times
    with −c/k, so ∂/∂x = [x = m]/k whatever c′ is: torch's gradient, at ±inf too. A NaN gives NaN,
    as torch's."""
    check_flag("amax", "keepdim", keepdim)
    x = _tensor_arg(x, "amax")
    where = BY_LATER_MODULES["where"]
    m = max(x, dim, True)
    tied = x >= m
    k = sum(where(tied, 1, 0), dim, True)

    def bounded(v):      # v clipped to ±AMAX_BOUND: v itself for every finite float32
        return where(v > AMAX_BOUND, AMAX_BOUND, where(v < -AMAX_BOUND, -AMAX_BOUND, v))
    return bounded(max(x, dim, keepdim)) + sum(where(tied, (x - bounded(m)) / k, 0), dim, keepdim)


# float32's largest finite number (exact in float64 too): amax's shift c stays finite in both dtypes,
# so x − c at an infinite maximum is ±inf and not ∞ − ∞.
AMAX_BOUND = sp.Float(3.4028234663852886e38)


def amin(x, dim=None, keepdim=False):
    """torch's ``x.amin(dim, keepdim)``: −amax(−x), a tie's gradient split evenly as torch's."""
    return -amax(-_tensor_arg(x, "amin"), dim, keepdim)


class Variance(TensorExpr):
    """x.var(axis, keepdims, correction): mean of squared deviations, divided by n − correction."""

    @property
    def x(self):
        return self.args[0]

    @property
    def axes(self):
        return tuple(int(a) for a in self.args[1])

    @property
    def keepdims(self):
        return bool(self.args[2])

    @property
    def correction(self):
        return self.args[3]

    @property
    def shape(self):
        return reduced_shape(self.x.shape, self.axes, self.keepdims)

    def _sympystr(self, printer):
        parts = []
        if len(self.axes) != self.x.ndim:
            parts.append(f"axis={self.axes[0]}" if len(self.axes) == 1 else f"axis={self.axes}")
        if self.keepdims:
            parts.append("keepdims=True")
        if self.correction != 0:
            parts.append(f"correction={self.correction}")
        return f"{_paren(printer, self.x)}.var({', '.join(parts)})"


@_torch_dim_of_var
@keywords()
def var(x, axis=None, keepdims=False, *, correction=0, ddof=None):
    """The variance over ``axis``: Σ (x − mean)² / (n − correction), as NumPy's ``var`` with
    ``ddof=correction`` (torch's ``var(correction=)``; NumPy's default 0, torch's 1)."""
    correction = _ddof(correction, ddof, "var")
    keepdims = _keepdims(keepdims, "var")
    x = _tensor_arg(x, "var")
    axes = _axes(axis, x.ndim, "var", x)
    return Variance(x, Tuple(*axes), sp.true if keepdims else sp.false, as_expr(correction))


def _ddof(correction, ddof, who):
    """NumPy's ``ddof=`` and torch's ``correction=`` are one number; both given is an error."""
    if ddof is None:
        return correction
    if correction != 0:
        raise ArgumentError(f"{who}: give ddof= (NumPy's name) or correction= (torch's), not both")
    return ddof


@_torch_dim_of_var
@keywords()
def std(x, axis=None, keepdims=False, *, correction=0, ddof=None):
    """The standard deviation over ``axis``: sqrt(x.var(axis, correction=)), as NumPy's ``std``
    (``ddof=`` is NumPy's name for ``correction=``; NumPy's default 0, torch's 1). Its gradient is
    infinite where the variance is 0 (add an eps inside: sp.sqrt(x.var(axis) + eps))."""
    v = var(x, axis, keepdims, correction=_ddof(correction, ddof, "std"))
    return as_tensor(sp.sqrt(v))


class ArgMax(TensorExpr):
    """x.argmax(axis): the first index of the maximum along axis (an integer tensor)."""

    is_integer_tensor = True

    @property
    def shape(self):
        s = self.args[0].shape
        ax = int(self.args[1])
        return tuple(s[:ax]) + tuple(s[ax + 1:])

    def _sympystr(self, printer):
        return f"{_paren(printer, self.args[0])}.argmax(axis={int(self.args[1])})"


def argmax(x, axis=-1):
    x = _tensor_arg(x, "argmax")
    return ArgMax(x, sp.Integer(normalize_axis(axis, x.ndim, "argmax", x)))


BY_LATER_MODULES.update(sum=sum, mean=mean, max=max, min=min, var=var, std=std, argmax=argmax,
                        amax=amax, amin=amin)   # the methods x.sum(...), ...
