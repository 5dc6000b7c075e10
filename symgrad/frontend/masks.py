"""Dropout: each entry of a layer is zeroed with probability p during training.

``sg.dropout(y, p)`` is ``y ⊙ M`` where ``M`` is a mask symbol of y's shape. A compiled program
draws M afresh for every call of ``.grad`` and ``.step`` from its seeded NumPy generator (entries
1/(1 − p) with probability 1 − p, else 0: "inverted" dropout, so the expected value is y), and sets
M = 1 — dropout off — in ``.loss`` and ``.forward`` (evaluation mode); ``.loss``/``.grad`` with
``dropout_seed=s`` draw the masks from a fresh generator seeded s instead, so that both see the
same masks (`sg.gradcheck` checks a dropout program that way). In a per-example declaration
(y a matrix, a scalar, or one example's tensor of fixed shape s) M is drawn for every example (a
tensor's as (B, *s): `symgrad.compiling.batching`); in a declaration over the batch (y a tensor of
shape (N, …), ``sg.tensor``) M is a tensor of y's shape, N included, so every entry of every
example has its own draw.

The mask is a symbol, so the derivation sees y ⊙ M like any product: ∂L/∂y = M ⊙ ∂L/∂(y ⊙ M).

>>> import sympy as sp, symgrad as sg
>>> y = sp.MatrixSymbol('y', 3, 1)
>>> d = sg.dropout(y, 0.5)
>>> d.shape
(3, 1)
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> sg.dropout(sg.tensor("h", (N, 4)), 0.5).shape
(N, 4)
"""
from __future__ import annotations

import itertools
import numbers

import sympy as sp

from ..errors import ArgumentError
from .parse import as_expr
from .tensor import Tensor, is_tensor_expr, shape_of

_count = itertools.count()
RATES: dict[str, float] = {}        # mask name -> drop probability p


class DropoutMask(sp.MatrixSymbol):
    """The mask of one `dropout` call (its drop probability is ``RATES[name]``)."""

    @property
    def p(self) -> float:
        return RATES[self.name]


class DropoutMaskScalar(sp.Symbol):
    """The mask of a `dropout` of a scalar."""

    @property
    def p(self) -> float:
        return RATES[self.name]


class DropoutMaskTensor(Tensor):
    """The mask of a `dropout` of a tensor expression (NumPy semantics): a tensor of its shape."""

    @property
    def p(self) -> float:
        return RATES[self.name]


_MASKS = (DropoutMask, DropoutMaskScalar, DropoutMaskTensor)


def _rate(p, training, inplace, who) -> float:
    if not isinstance(training, bool) or not isinstance(inplace, bool):
        raise ArgumentError(f"{who}: training and inplace must be True or False, got "
                            f"training={training!r}, inplace={inplace!r}")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p < 1.0:
        raise ArgumentError(f"{who} probability p must be a number in [0, 1), got {p!r}")
    return float(p)


def _new_mask(p: float) -> str:
    """A fresh mask name, its drop probability recorded in RATES."""
    name = f"dropout_mask_{next(_count)}"
    RATES[name] = p
    return name


def dropout(y, p: float = 0.5, training: bool = True, inplace: bool = False):
    """``y`` with each entry dropped with probability ``p`` in training (see the module docstring).
    torch's ``F.dropout(y, p, training, inplace)`` arguments: ``training=False`` is ``y`` itself (the
    model in eval mode); ``inplace`` changes nothing in a declaration (no memory is shared)."""
    p = _rate(p, training, inplace, "dropout")
    y = as_expr(y, "the argument of dropout")
    if not training:
        return y
    name = _new_mask(p)
    if isinstance(y, sp.MatrixExpr):
        return sp.HadamardProduct(y, DropoutMask(name, *y.shape))
    if is_tensor_expr(y):       # y ⊙ M elementwise, M of y's shape (a symbolic N included)
        return y * DropoutMaskTensor(name, shape_of(y))
    return y * DropoutMaskScalar(name, real=True)


def _channel_dropout(x, p, training, inplace, spatial: int, who: str):
    """torch's ``F.dropout1d`` / ``dropout2d`` / ``dropout3d``: whole channels zeroed — one draw per
    (example, channel), kept channels scaled by 1/(1 − p). x is (N, C, *spatial) or one example's
    (C, *spatial); the mask is a tensor of shape (N, C, 1, …, 1), broadcast over the positions."""
    y = as_expr(x, f"the argument of {who}")
    if not is_tensor_expr(y):
        raise ArgumentError(f"{who}: x must be a tensor (sg.tensor) with a channel axis, got {y}; "
                            f"sg.dropout(x, p) drops single entries of any expression")
    shape = tuple(shape_of(y))
    if who == "dropout2d" and len(shape) == 3:
        raise ArgumentError(f"dropout2d of {y}, shape {shape}: torch reads a 3-D input as (N, C, L) today "
                            f"(channel-wise 1-D dropout, with a warning that it will become one image "
                            f"(C, H, W)); write sg.dropout1d({y}, p) for (N, C, L), or "
                            f"sg.dropout2d({y}[None], p)[0] for one image (C, H, W)")
    if len(shape) not in (spatial + 1, spatial + 2):
        want = "(N, C, L) or (C, L)" if spatial == 1 else "(N, C, H, W)" if spatial == 2 else \
            "(N, C, D, H, W) or (C, D, H, W)"
        raise ArgumentError(f"{who}: x {y} has shape {shape}; it takes {want} (whole channels are dropped: "
                            f"axis 1 of a batch, axis 0 of one example); sg.dropout(x, p) drops single entries")
    p = _rate(p, training, inplace, who)
    if not training:              # eval mode: x itself
        return y
    per_channel = shape[:len(shape) - spatial] + (1,) * spatial
    return y * DropoutMaskTensor(_new_mask(p), per_channel)


def dropout1d(x, p: float = 0.5, training: bool = True, inplace: bool = False):
    """torch's ``F.dropout1d(x, p, training)`` (``nn.Dropout1d``): whole channels of (N, C, L) (or one
    example's (C, L)) zeroed with probability p, the others scaled by 1/(1 − p)."""
    return _channel_dropout(x, p, training, inplace, 1, "dropout1d")


def dropout2d(x, p: float = 0.5, training: bool = True, inplace: bool = False):
    """torch's ``F.dropout2d(x, p, training)`` (``nn.Dropout2d``, spatial dropout): whole feature maps
    of (N, C, H, W) zeroed with probability p — one draw per example and channel — the others scaled
    by 1/(1 − p). A 3-D x is refused (torch's reading of it is changing): see the message.

    >>> import sympy as sp, symgrad as sg
    >>> N = sp.Symbol("N", integer=True, positive=True)
    >>> y = sg.dropout2d(sg.tensor("x", (N, 3, 5, 5)), 0.2)
    >>> y.shape, [m.shape for m in y.free_symbols if m.name.startswith("dropout")]
    ((N, 3, 5, 5), [(N, 3, 1, 1)])
    """
    return _channel_dropout(x, p, training, inplace, 2, "dropout2d")


def dropout3d(x, p: float = 0.5, training: bool = True, inplace: bool = False):
    """torch's ``F.dropout3d(x, p, training)``: whole channels of (N, C, D, H, W) (or one example's
    (C, D, H, W)) zeroed."""
    return _channel_dropout(x, p, training, inplace, 3, "dropout3d")


def masks_in(expr) -> list:
    """The dropout masks in ``expr``, in a stable order. A walk over the distinct subexpressions
    (``atoms`` walks the tree, which doubles with each layer that reads a value twice: batch norm)."""
    found, seen, stack = set(), set(), [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, _MASKS):
            found.add(e)
            continue
        for a in getattr(e, "args", ()):
            if a not in seen:
                seen.add(a)
                stack.append(a)
    return sorted(found, key=lambda m: int(m.name.rsplit("_", 1)[1]))


def switch_off(expr):
    """``expr`` with every dropout mask set to 1 (evaluation mode). A tensor mask becomes the number
    1: it is a factor of an elementwise product (``y * M``), which keeps y's shape."""
    sub = {}
    for m in masks_in(expr):
        sub[m] = sp.OneMatrix(*m.shape) if isinstance(m, DropoutMask) else sp.S.One
    return expr.xreplace(sub) if sub else expr
