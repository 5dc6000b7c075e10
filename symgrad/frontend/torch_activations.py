"""torch's activations that are compositions of symgrad's, so they need no derivative, printer or
kernel of their own (each works wherever its parts do: scalars, matrices entry by entry, tensors):

    hardsigmoid(x) = hardtanh(x + 3, 0, 6) / 6          F.hardsigmoid (relu6(x + 3) / 6)
    hardswish(x)   = x · hardsigmoid(x)                 F.hardswish (MobileNetV3)
    relu6(x)       = hardtanh(x, 0, 6)                  F.relu6
    mish(x)        = x · tanh(softplus(x))              F.mish
    logsigmoid(x)  = −softplus(−x)                      F.logsigmoid, stable for large |x|
    glu(x, axis)   = a · σ(b), a, b the halves of x     F.glu(x, dim=-1)
    prelu(x, w)    = where(x > 0, x, w · x)              F.prelu, w per channel (axis 1) or shared

>>> import symgrad as sg
>>> sg.hardswish(sg.tensor("x", (2, 3)))
hardtanh(x + 3, 0, 6)*x/6
"""
from __future__ import annotations

from . import functions as F
from . import tensor as T
from .keywords import check_flag
from .parse import as_expr
from ..errors import ShapeError

__all__ = ["hardsigmoid", "hardswish", "relu6", "mish", "logsigmoid", "glu", "prelu"]


def _arg(x, who, inplace=False):
    """x as an expression; torch's inplace= changes nothing in a declaration (no memory is shared)."""
    check_flag(who, "inplace", inplace)
    return as_expr(x, f"the argument of {who}")


def relu6(x, inplace=False):
    """F.relu6: min(max(x, 0), 6), the derivative 1 strictly between 0 and 6."""
    return F.hardtanh(_arg(x, "relu6", inplace), 0, 6)


def hardsigmoid(x, inplace=False):
    """F.hardsigmoid: relu6(x + 3) / 6; the derivative 1/6 strictly between −3 and 3, as torch."""
    return F.hardtanh(_arg(x, "hardsigmoid", inplace) + 3, 0, 6) / 6


def hardswish(x, inplace=False):
    """F.hardswish: x · relu6(x + 3) / 6; the derivative (2x + 3)/6 between −3 and 3, as torch."""
    x = _arg(x, "hardswish", inplace)
    return x * F.hardtanh(x + 3, 0, 6) / 6


def mish(x, inplace=False):
    """F.mish: x · tanh(softplus(x))."""
    x = _arg(x, "mish", inplace)
    return x * F.tanh(F.softplus(x))


def logsigmoid(x):
    """F.logsigmoid: log σ(x) = −softplus(−x), finite for large |x|."""
    return -F.softplus(-_arg(x, "logsigmoid"))


def glu(x, axis=T.DefaultAxis(-1), *, dim=None):
    """F.glu(x, dim): the first half of x along ``axis`` (torch's ``dim=`` too) times the sigmoid of
    the second."""
    axis = T.axis_or_dim("glu", axis, dim)
    x = T._tensor_arg(x, "glu")
    ax = T.normalize_axis(axis, x.ndim, "glu", x)
    n = x.shape[ax]
    if not isinstance(n, int) or n % 2:
        raise ShapeError(f"glu: axis {ax} of {x} (shape {T.fmt(x.shape)}) must have an even, fixed size")
    a, b = x.split(n // 2, dim=ax)
    return T.as_tensor(a * F.sigmoid(b))


def prelu(x, weight):
    """F.prelu(x, weight) (``nn.PReLU``): x where x > 0, weight·x elsewhere, with a learned slope —
    one for all (weight of shape (1,) or a scalar) or one per channel (shape (C,), on axis 1 of x,
    as torch). At x = 0 the slope's side (torch's too)."""
    x = T._tensor_arg(x, "prelu")
    w = as_expr(weight, "the weight of prelu")
    if T.is_tensor_expr(w):
        w = T.as_tensor(w)
        if w.ndim != 1:
            raise ShapeError(f"prelu: the weight {w} has shape {T.fmt(w.shape)}; it is (1,) or (C,), one slope "
                             f"per channel (axis 1 of x), as nn.PReLU's")
        if w.shape[0] == 1:
            w = T.reshape(w, ())
        elif x.ndim >= 2 and T.dims_equal(w.shape[0], x.shape[1]):
            w = T.reshape(w, (1, w.shape[0]) + (1,) * (x.ndim - 2))
        else:
            raise ShapeError(f"prelu: the weight {w} has {w.shape[0]} slopes but x {x} (shape {T.fmt(x.shape)}) "
                             f"has {x.shape[1] if x.ndim >= 2 else 'no'} channels on axis 1")
    return T.where(x > 0, x, w * x)
