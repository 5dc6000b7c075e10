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


def dropout(y, p: float = 0.5, training: bool = True, inplace: bool = False):
    """``y`` with each entry dropped with probability ``p`` in training (see the module docstring).
    torch's ``F.dropout(y, p, training, inplace)`` arguments: ``training=False`` is ``y`` itself (the
    model in eval mode); ``inplace`` changes nothing in a declaration (no memory is shared)."""
    if not isinstance(training, bool) or not isinstance(inplace, bool):
        raise ArgumentError(f"dropout: training and inplace must be True or False, got "
                            f"training={training!r}, inplace={inplace!r}")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p < 1.0:
        raise ArgumentError(f"dropout probability p must be a number in [0, 1), got {p!r}")
    p = float(p)
    y = as_expr(y, "the argument of dropout")
    if not training:
        return y
    name = f"dropout_mask_{next(_count)}"
    RATES[name] = p
    if isinstance(y, sp.MatrixExpr):
        return sp.HadamardProduct(y, DropoutMask(name, *y.shape))
    if is_tensor_expr(y):       # y ⊙ M elementwise, M of y's shape (a symbolic N included)
        return y * DropoutMaskTensor(name, shape_of(y))
    return y * DropoutMaskScalar(name, real=True)


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
