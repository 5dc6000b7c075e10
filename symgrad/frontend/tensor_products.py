"""Products along an axis, as NumPy and torch write them (twelfth session: ``x.prod()`` and
``x.cumprod(dim)`` were AttributeErrors) — NeRF's transmittance ``torch.cumprod(1 - alpha, dim=-1)``,
a geometric mean, a survival curve:

    sg.prod(x, axis=None, keepdims=False)   np.prod / torch.prod(x, dim, keepdim): x₀·x₁·…·x_{L−1}
    sg.cumprod(x, axis=None)                np.cumprod / torch.cumprod(x, dim): the running products

Each is the product of the axis's slices, one ``ewise`` multiplication each, so the gradient is the
product rule's — exact where entries are 0 (not the prod(x)/xᵢ that divides by them). An axis of a
fixed size L (L − 1 products; ``axis=None`` flattens, as NumPy): meant for the short axes these
appear on, not the batch.

>>> import symgrad as sg
>>> x = sg.tensor("x", (2, 3))
>>> sg.prod(x, axis=1).shape, x.cumprod(1).shape
((2,), (2, 3))
"""
from __future__ import annotations

from ..errors import AxisError, ShapeError
from . import tensor as T
from .tensor_expr import BY_LATER_MODULES

__all__ = ["prod", "cumprod"]


def _axis(x, axis, who):
    """(x, its axis) with axis None flattening x (NumPy's), and the axis's size fixed."""
    if axis is None:
        x, axis = x.reshape(-1), 0
    if x.ndim == 0:
        raise AxisError(f"{who} of the scalar {x}: it takes a tensor with an axis")
    ax = T.normalize_axis(axis, x.ndim, who, x)
    if not isinstance(x.shape[ax], int):
        raise ShapeError(f"{who} along axis {ax} of {x} (shape {T.fmt(x.shape)}): the axis has the symbolic "
                         f"size {x.shape[ax]}; a product of its entries needs a fixed size")
    return x, ax


def _slice(x, ax, k):
    """x[..., k:k + 1, ...] on axis ``ax`` (the axis kept, size 1)."""
    return x[(slice(None),) * ax + (slice(k, k + 1),)]


def prod(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """np.prod(x, axis, keepdims=) / torch.prod(x, dim, keepdim=): the product over one axis, over a
    tuple of axes (NumPy's), or over every entry (None)."""
    axis, keepdims = T.torch_reduce_names("prod", axis, keepdims, dim, keepdim)
    x = T._tensor_arg(x, "prod")
    if isinstance(axis, (tuple, list)):
        return _prod_over(x, axis, keepdims)
    rank = x.ndim                   # before axis=None flattens x: keepdims keeps this many axes of size 1
    whole = axis is None
    x, ax = _axis(x, axis, "prod")
    out = _slice(x, ax, 0)
    for k in range(1, x.shape[ax]):
        out = out * _slice(x, ax, k)
    if whole:
        return T.as_tensor(out.reshape((1,) * rank if keepdims else ()))
    if keepdims:
        return T.as_tensor(out)
    return T.as_tensor(out.reshape(tuple(d for i, d in enumerate(x.shape) if i != ax)))


def _prod_over(x, axis, keepdims):
    """np.prod(x, axis=(a, b, ...)): the product over each axis in turn, each kept (size 1) until the end."""
    axes = [T.normalize_axis(a, x.ndim, "prod", x) for a in axis]
    if len(set(axes)) != len(axes):
        raise AxisError(f"prod: an axis given twice in {tuple(axis)!r}")
    out = x
    for a in axes:
        out = prod(out, a, keepdims=True)
    if keepdims:
        return out
    return T.as_tensor(out.reshape(tuple(d for i, d in enumerate(x.shape) if i not in axes)))


def cumprod(x, axis=None, *, dim=None):
    """np.cumprod(x, axis) / torch.cumprod(x, dim): the running products along one axis (None: of the
    flattened x, as NumPy)."""
    axis, _ = T.torch_reduce_names("cumprod", axis, False, dim, None)
    x = T._tensor_arg(x, "cumprod")
    x, ax = _axis(x, axis, "cumprod")
    run = [_slice(x, ax, 0)]
    for k in range(1, x.shape[ax]):
        run.append(run[-1] * _slice(x, ax, k))
    return T.as_tensor(run[0]) if len(run) == 1 else T.concat(run, axis=ax)


BY_LATER_MODULES.update(prod=prod, cumprod=cumprod)
