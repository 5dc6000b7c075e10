"""torch.nn.functional's layers that are compositions of the tensor operations, under torch's names
and argument orders, so a model copied from torch code reads as written:

- ``sg.linear(x, weight, bias=None)`` — ``F.linear``: ``x @ weight.T + bias``, the weight stored
  (out_features, in_features) as ``nn.Linear`` stores it;
- ``sg.layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5)`` — ``F.layer_norm``: the
  last ``len(normalized_shape)`` axes normalised by their mean and biased variance, then scaled and
  shifted.

Both return the tensor expression they stand for, so their gradients are those of the composition,
printed in its words (``.mean(axis=-1, keepdims=True)``, ``sqrt(... + 1e-05)``).

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x, W, b = sg.tensor("x", (N, 4)), sg.tensor("W", (3, 4)), sg.tensor("b", (3,))
>>> sg.linear(x, W, b).shape
(N, 3)
>>> sg.layer_norm(x, (4,)).shape
(N, 4)
"""
from __future__ import annotations

import sympy as sp

from . import tensor as T
from ..errors import ArgumentError, ShapeError


def linear(x, weight, bias=None):
    """``F.linear(x, weight, bias)``: ``x @ weight.T + bias``; weight (out, in), bias (out,)."""
    x, weight = T.as_tensor(x), T.as_tensor(weight)
    if weight.ndim != 2:
        raise ShapeError(f"linear: the weight {weight} has shape {T.fmt(weight.shape)}; it is a matrix "
                         f"(out_features, in_features), as nn.Linear's")
    if not T.dims_equal(x.shape[-1], weight.shape[1]):
        raise ShapeError(f"linear: x {x} has {x.shape[-1]} features on its last axis, the weight {weight} "
                         f"takes {weight.shape[1]} (its shape {T.fmt(weight.shape)} is (out_features, "
                         f"in_features), as nn.Linear's: x @ weight.T)")
    out = x @ weight.T
    return out if bias is None else out + bias


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """``F.layer_norm(x, normalized_shape, weight, bias, eps)``: over the last
    ``len(normalized_shape)`` axes (which must be ``normalized_shape``), (x − mean)/√(var + eps) with
    the biased variance, times ``weight`` plus ``bias`` (each of ``normalized_shape``, or None)."""
    x = T.as_tensor(x)
    if isinstance(normalized_shape, int) or (isinstance(normalized_shape, sp.Basic) and normalized_shape.is_Integer):
        normalized_shape = (normalized_shape,)
    shape = tuple(normalized_shape)
    k = len(shape)
    if not 0 < k <= x.ndim or not all(T.dims_equal(a, b) for a, b in zip(x.shape[x.ndim - k:], shape)):
        raise ShapeError(f"layer_norm: normalized_shape {shape} must be the last axes of x {x}, of shape "
                         f"{T.fmt(x.shape)}")
    if not (isinstance(eps, (int, float)) or isinstance(eps, sp.Basic)) or isinstance(eps, bool):
        raise ArgumentError(f"layer_norm: eps must be a number, got {eps!r}")
    axes = tuple(range(-k, 0))
    mu = x.mean(axis=axes, keepdims=True)
    out = (x - mu) / sp.sqrt(x.var(axis=axes, keepdims=True) + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out
