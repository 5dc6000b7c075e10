"""torch.nn.functional's layers that are compositions of the tensor operations, under torch's names
and argument orders, so a model copied from torch code reads as written:

- ``sg.linear(x, weight, bias=None)`` — ``F.linear``: ``x @ weight.T + bias``, the weight stored
  (out_features, in_features) as ``nn.Linear`` stores it;
- ``sg.layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5)`` — ``F.layer_norm``: the
  last ``len(normalized_shape)`` axes normalised by their mean and biased variance, then scaled and
  shifted;
- ``sg.rms_norm(x, normalized_shape, weight=None, eps=...)`` — ``F.rms_norm``: divided by the root
  mean square of the last axes, then scaled.

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


def _last_axes(x, normalized_shape, eps, who):
    """The axes (-k, …, -1) that ``normalized_shape`` names at the end of x, checked; eps a number."""
    if isinstance(normalized_shape, int) or (isinstance(normalized_shape, sp.Basic) and normalized_shape.is_Integer):
        normalized_shape = (normalized_shape,)
    shape = tuple(normalized_shape)
    k = len(shape)
    if not 0 < k <= x.ndim or not all(T.dims_equal(a, b) for a, b in zip(x.shape[x.ndim - k:], shape)):
        raise ShapeError(f"{who}: normalized_shape {shape} must be the last axes of x {x}, of shape "
                         f"{T.fmt(x.shape)}")
    if not (isinstance(eps, (int, float)) or isinstance(eps, sp.Basic)) or isinstance(eps, bool):
        raise ArgumentError(f"{who}: eps must be a number, got {eps!r}")
    return tuple(range(-k, 0))


def standardized(x, axes, eps):
    """(x − mean)/√(var + eps) over ``axes`` (an int or a tuple), the biased variance: a layer norm
    without its scale and shift (`layer_norm`; ``jax.nn.standardize``, `numpy_spellings.standardize`)."""
    mu = x.mean(axis=axes, keepdims=True)
    return (x - mu) / sp.sqrt(x.var(axis=axes, keepdims=True) + eps)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """``F.layer_norm(x, normalized_shape, weight, bias, eps)``: over the last
    ``len(normalized_shape)`` axes (which must be ``normalized_shape``), (x − mean)/√(var + eps) with
    the biased variance, times ``weight`` plus ``bias`` (each of ``normalized_shape``, or None)."""
    x = T.as_tensor(x)
    out = standardized(x, _last_axes(x, normalized_shape, eps, "layer_norm"), eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def rms_norm(x, normalized_shape, weight=None, eps=None):
    """``F.rms_norm(x, normalized_shape, weight, eps)`` (``nn.RMSNorm``, Llama's and T5's norm): over
    the last ``len(normalized_shape)`` axes, x / √(mean(x²) + eps), times ``weight`` (of
    ``normalized_shape``, or None). No mean is subtracted and there is no bias. torch's eps=None is the
    machine epsilon of x's dtype, which a declaration does not know: give eps (the error says so).

    >>> import sympy as sp, symgrad as sg
    >>> x, g = sg.tensor("x", (2, 4)), sg.tensor("g", (4,))
    >>> sg.rms_norm(x, (4,), g, eps=1e-6)
    g*x/sqrt((x**2).mean(axis=1, keepdims=True) + 1.0e-6)
    """
    x = T._tensor_arg(x, "rms_norm")
    if eps is None:
        raise ArgumentError("rms_norm: give eps= (Llama's is 1e-6, T5's 1e-6, many use 1e-5). torch's "
                            "eps=None is the machine epsilon of x's dtype (float32: 1.1920929e-07, float64: "
                            "2.220446e-16), which a declaration does not know before sg.compile's dtype=")
    axes = _last_axes(x, normalized_shape, eps, "rms_norm")
    out = x / sp.sqrt((x ** 2).mean(axis=axes, keepdims=True) + eps)
    return out if weight is None else out * weight


def _per_channel(v, c, nd, name, who):
    v = T._tensor_arg(v, who)
    if tuple(v.shape) != (c,):
        raise ShapeError(f"{who}: {name} {v} has shape {T.fmt(v.shape)}; it must be ({c},), one per channel")
    return T.reshape(v, (1, c) + (1,) * nd)


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """``F.group_norm(x, num_groups, weight, bias, eps)`` on (N, C, ...): each example's channels in
    ``num_groups`` groups, each group normalised by its own mean and biased variance (over its
    channels and positions), then ``weight`` and ``bias`` per channel. num_groups = 1 is a layer norm
    over (C, ...), num_groups = C an instance norm."""
    x = T._tensor_arg(x, "group_norm")
    if x.ndim < 2 or any(not isinstance(d, int) for d in x.shape[1:]):
        raise ShapeError(f"group_norm: x {x} has shape {T.fmt(x.shape)}; it takes (N, C, ...) with fixed "
                         f"channel and spatial sizes")
    c, rest = x.shape[1], tuple(x.shape[2:])
    if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups < 1 or c % num_groups:
        raise ArgumentError(f"group_norm: num_groups must be a positive integer dividing the {c} channels, "
                            f"got {num_groups!r}")
    g = T.reshape(x, (x.shape[0], num_groups, -1))
    mu = g.mean(axis=2, keepdims=True)
    out = T.reshape((g - mu) / sp.sqrt(g.var(axis=2, keepdims=True) + eps), x.shape)
    if weight is not None:
        out = out * _per_channel(weight, c, len(rest), "weight", "group_norm")
    if bias is not None:
        out = out + _per_channel(bias, c, len(rest), "bias", "group_norm")
    return T.as_tensor(out)


def instance_norm(x, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """``F.instance_norm`` with the instance's statistics (use_input_stats=True, torch's default):
    each example's channel normalised over its positions; ``group_norm(x, C, weight, bias)``."""
    x = T._tensor_arg(x, "instance_norm")
    if running_mean is not None or running_var is not None or use_input_stats is not True:
        raise ArgumentError("instance_norm: only the instance's own statistics (use_input_stats=True, no "
                            "running_mean / running_var) are supported")
    if x.ndim < 3:
        raise ShapeError(f"instance_norm: x {x} has shape {T.fmt(x.shape)}; it takes (N, C, L) or more axes")
    return group_norm(x, x.shape[1], weight, bias, eps)


def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """``F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale)``:
    softmax(q @ kᵀ · scale + mask) @ v over the last two axes, scale 1/√(q's last size) by default;
    ``is_causal`` keeps key j ≤ query i (torch's top-left causal mask); ``attn_mask`` as torch's:
    a comparison (``m > 0``) or an integer tensor is the bool mask (true: attend), a real tensor is
    added to the scores (a float mask: 0 / −inf, or a bias). dropout_p must be 0 (write
    ``sg.dropout`` on the weights yourself). ``enable_gqa=True`` (grouped-query attention, torch ≥
    2.5): k and v have fewer heads (axis −3) than q, a divisor of q's; each is repeated
    (``repeat_interleave``) to q's heads, so query head h reads key head h // (Hq / Hkv)."""
    q, k, v = (T._tensor_arg(a, "scaled_dot_product_attention") for a in (q, k, v))
    if enable_gqa:
        k, v = _grouped_heads(q, k, "k"), _grouped_heads(q, v, "v")
    if dropout_p != 0:
        raise ArgumentError("scaled_dot_product_attention: dropout_p must be 0; write the attention out with "
                            "sg.dropout(sg.softmax(s, axis=-1), p) @ v for dropout on the weights")
    if attn_mask is not None and is_causal:
        raise ArgumentError("scaled_dot_product_attention: give attn_mask or is_causal=True, not both (as torch)")
    L, S = q.shape[-2], k.shape[-2]
    sc = (sp.S.One / sp.sqrt(q.shape[-1])) if scale is None else scale
    s = (q @ k.swapaxes(-2, -1)) * sc
    from .tensor_softmax import softmax
    from .tensor_tri import ones, tril
    if is_causal:
        if not (isinstance(L, int) and isinstance(S, int)):
            raise ShapeError("scaled_dot_product_attention: is_causal=True needs fixed sequence lengths")
        s = T.where(tril(ones((L, S))) > 0, s, float("-inf"))
    elif attn_mask is not None:
        if isinstance(attn_mask, sp.logic.boolalg.Boolean) or T._integer_of(attn_mask):
            s = T.where(attn_mask, s, float("-inf"))    # torch's bool mask: a comparison (m > 0), or integers
        else:
            s = s + attn_mask                           # torch's float mask: added to the scores
    return softmax(s, axis=-1) @ v


def _grouped_heads(q, kv, name):
    """k or v with its heads (axis −3) repeated to q's, torch's enable_gqa=True."""
    if q.ndim < 3 or kv.ndim < 3:
        raise ShapeError(f"scaled_dot_product_attention: enable_gqa=True needs heads on axis -3 of q and "
                         f"{name}; q has shape {T.fmt(q.shape)}, {name} {T.fmt(kv.shape)}")
    hq, hk = q.shape[-3], kv.shape[-3]
    if not (isinstance(hq, int) and isinstance(hk, int)) or hq % hk:
        raise ShapeError(f"scaled_dot_product_attention: enable_gqa=True: {name} has {hk} heads (axis -3 of "
                         f"{T.fmt(kv.shape)}), which must divide q's {hq} (of {T.fmt(q.shape)})")
    from .tensor_shapes import repeat_interleave
    return kv if hq == hk else repeat_interleave(kv, hq // hk, dim=kv.ndim - 3)
