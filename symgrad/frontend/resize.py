"""Adaptive pooling and resizing, as torch's ``F.adaptive_avg_pool2d``,
``F.adaptive_max_pool2d`` and ``F.interpolate`` compute them; compositions of
slices, reductions, reshapes and broadcasts, so their gradients are those primitives' (no new one).

- **adaptive pooling** to an output size O over an input size S: output entry i pools the input
  entries ⌊i·S/O⌋ … ⌈(i + 1)·S/O⌉ − 1 (torch's windows, which overlap when O does not divide S).
  O = 1 is the global pool (``x.mean(axis=(2, 3), keepdims=True)``); O dividing S is the plain pool
  with kernel = stride = S / O; otherwise one slice per output entry, axis by axis (a mean or max
  over a rectangle is the mean or max over its rows of the mean or max over its columns).
- **nearest upsampling** by an integer factor s: each entry repeated s times along each spatial
  axis (``x.reshape(N, C, H, 1, W, 1)``, broadcast to (N, C, H, s, W, s), reshaped to (N, C, sH, sW));
  the gradient is the sum over each s × s block. An output size that is an integer multiple of
  the input's is the same thing; another ratio is refused.
- **linear, bilinear, trilinear** resizing (`symgrad.frontend.resize_linear`): a fixed linear map
  per axis, a constant matrix applied with ``@``; bicubic, area and antialiasing are refused.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x = sg.tensor("x", (N, 3, 4, 4))
>>> sg.adaptive_avg_pool2d(x, 1)
x.mean(axis=(2, 3), keepdims=True)
>>> sg.interpolate(x, scale_factor=2).shape
(N, 3, 8, 8)
"""
from __future__ import annotations

import math
import numbers

import sympy as sp

from . import conv as C
from . import resize_linear as RL
from . import tensor as T
from .parse import register_tensor_function as _register_text
from ..errors import ArgumentError, ShapeError

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "interpolate"]


def _sizes(output_size, x, nd, layer):
    """torch's output_size: an integer, or nd of them where None keeps the input's size."""
    vals = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * nd
    if len(vals) != nd:
        raise ArgumentError(f"{layer}: output_size must be an integer or {nd} of them, got {output_size!r}")
    out = []
    for v, s in zip(vals, x.shape[2:]):
        if v is None:
            out.append(s)
        elif isinstance(v, bool) or not isinstance(v, (numbers.Integral, sp.Integer)) or v < 1:
            raise ArgumentError(f"{layer}: output_size must hold positive integers (or None: the input's "
                                f"size), got {output_size!r}")
        else:
            out.append(int(v))
    return tuple(out)


def _adaptive(x, output_size, nd, op):
    layer = f"adaptive_{op}_pool{nd}d"
    x = C._layer_input(x, nd, layer)
    O, S = _sizes(output_size, x, nd, layer), x.shape[2:]
    spatial = tuple(range(2, 2 + nd))
    reduce = T.mean if op == "avg" else T.max
    if set(O) == {1}:                                            # the global pool
        return reduce(x, axis=spatial, keepdims=True)
    if all(s % o == 0 for s, o in zip(S, O)):                    # plain windows: kernel = stride = S / O
        if op == "avg":
            return C._pool(C.AvgPool, x, tuple(s // o for s, o in zip(S, O)), None, 0, nd, layer)
        return C._pool(C.MaxPool, x, tuple(s // o for s, o in zip(S, O)), None, 0, nd, layer)
    out = x
    for ax, s, o in zip(spatial, S, O):                          # torch's windows, axis by axis
        if s == o:
            continue
        parts = []
        for i in range(o):
            lo, hi = (i * s) // o, -((-(i + 1) * s) // o)
            key = (slice(None),) * ax + (slice(lo, hi),)
            parts.append(reduce(out[key], axis=ax, keepdims=True))
        out = T.concat(parts, axis=ax)
    return out


def adaptive_avg_pool2d(x, output_size):
    """torch's ``F.adaptive_avg_pool2d(x, output_size)`` on (N, C, H, W); output_size 1 or (1, 1) is
    the global average pool, ``x.mean(axis=(2, 3), keepdims=True)``."""
    return _adaptive(x, output_size, 2, "avg")


def adaptive_avg_pool1d(x, output_size):
    """torch's ``F.adaptive_avg_pool1d(x, output_size)`` on (N, C, L)."""
    return _adaptive(x, output_size, 1, "avg")


def adaptive_max_pool2d(x, output_size, return_indices=False):
    """torch's ``F.adaptive_max_pool2d(x, output_size)`` on (N, C, H, W); the gradient goes to the
    first arg-max of each window (the subgradient policy of max)."""
    C._max_pool_options("adaptive_max_pool2d", 1, return_indices, 2)
    return _adaptive(x, output_size, 2, "max")


def adaptive_max_pool1d(x, output_size, return_indices=False):
    """torch's ``F.adaptive_max_pool1d(x, output_size)`` on (N, C, L)."""
    C._max_pool_options("adaptive_max_pool1d", 1, return_indices, 1)
    return _adaptive(x, output_size, 1, "max")


def _factor(v, layer):
    """An integer scale factor (2 or 2.0); anything else is refused."""
    if isinstance(v, bool) or not isinstance(v, (numbers.Real, sp.Integer)) or v < 1 or int(v) != v:
        raise ArgumentError(f"{layer}: scale_factor must be a positive whole number (2, or 2.0) for "
                            f"mode='nearest', got {v!r}; nearest upsampling repeats each entry that many "
                            f"times")
    return int(v)


# torch's modes: which takes which input (N, C, *spatial), by its number of spatial axes
_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}
_SUPPORTED = "'nearest' (by a whole factor), 'linear' (N, C, L), 'bilinear' (N, C, H, W), 'trilinear' (N, C, D, H, W)"


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """torch's ``F.interpolate`` on (N, C, L), (N, C, H, W) or (N, C, D, H, W).

    mode="nearest" by a whole factor per spatial axis: ``scale_factor=2`` (or a tuple), or ``size=``
    an integer multiple of the input's size. Each entry is repeated; its gradient sums each block.

    mode="linear" / "bilinear" / "trilinear" (on 1, 2, 3 spatial axes) to any ``size=`` or
    ``scale_factor=`` (the output ⌊S·scale⌋, the step 1/scale as torch's unless
    ``recompute_scale_factor=True``), ``align_corners=False`` (the default) or ``True``, as torch's:
    a fixed linear map per axis (`symgrad.frontend.resize_linear`), its gradient the transposed map.

    >>> import symgrad as sg
    >>> sg.interpolate(sg.tensor("x", (2, 3, 4, 5)), size=(8, 15)).shape
    (2, 3, 8, 15)
    >>> sg.interpolate(sg.tensor("x", (2, 3, 4, 5)), size=(6, 7), mode="bilinear", align_corners=True).shape
    (2, 3, 6, 7)
    """
    layer = "interpolate"
    if mode in _LINEAR_MODES:
        return _interpolate_linear(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    if mode != "nearest":
        raise ArgumentError(f"interpolate: mode={mode!r} is not supported; supported: {_SUPPORTED}. For a "
                            f"learned upsampling write sg.conv_transpose2d(x, w, stride=2)")
    if align_corners is not None or antialias:
        raise ArgumentError("interpolate: align_corners and antialias are for the linear modes; "
                            "mode='nearest' takes neither")
    x, nd = _spatial_input(x)
    if (size is None) == (scale_factor is None):
        raise ArgumentError("interpolate: give exactly one of size= and scale_factor= (as torch)")
    S = x.shape[2:]
    if scale_factor is not None:
        sf = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
        if len(sf) != nd:
            raise ArgumentError(f"interpolate: scale_factor must be a number or {nd} of them, got "
                                f"{scale_factor!r}")
        factors = tuple(_factor(f, layer) for f in sf)
    else:
        out = _sizes(size, x, nd, layer)
        if any(o % s for o, s in zip(out, S)):
            raise ArgumentError(f"interpolate: size={size!r} from the input's spatial size {S}: only whole "
                                f"multiples are supported for mode='nearest' (each entry repeated); "
                                f"resize by slicing, or upsample with sg.conv_transpose2d")
        factors = tuple(o // s for o, s in zip(out, S))
    if set(factors) == {1}:
        return x
    lead = tuple(x.shape[:2])
    split = lead + tuple(d for s in S for d in (s, 1))
    wide = lead + tuple(d for s, f in zip(S, factors) for d in (s, f))
    return T.reshape(T.broadcast(T.reshape(x, split), wide), lead + tuple(s * f for s, f in zip(S, factors)))


def _spatial_input(x):
    """x as (N, C, *spatial) with 1 to 3 spatial axes of integer sizes, and their number."""
    x = T._tensor_arg(x, "interpolate")
    nd = x.ndim - 2
    if nd not in (1, 2, 3) or any(not isinstance(d, int) for d in x.shape[1:]):
        raise ShapeError(f"interpolate: x {x} has shape {T.fmt(x.shape)}; it takes (N, C, L), (N, C, H, W) "
                         f"or (N, C, D, H, W) with integer channel and spatial sizes")
    return x, nd


def _interpolate_linear(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias):
    """mode="linear" / "bilinear" / "trilinear", as torch's: see `symgrad.frontend.resize_linear`."""
    if antialias:
        raise ArgumentError(f"interpolate: antialias=True (torch's antialiased downsampling) is not supported "
                            f"with mode={mode!r}; supported: antialias=False, each output entry read from "
                            f"its two neighbours per axis")
    if align_corners not in (None, True, False):
        raise ArgumentError(f"interpolate: align_corners must be True, False or None (False), got "
                            f"{align_corners!r}")
    x, nd = _spatial_input(x)
    if nd != _LINEAR_MODES[mode]:
        fits = {1: "linear", 2: "bilinear", 3: "trilinear"}[nd]
        raise ShapeError(f"interpolate: mode={mode!r} takes an input with {_LINEAR_MODES[mode]} spatial "
                         f"axes; x {x} has shape {T.fmt(x.shape)} ({nd}): write mode={fits!r} (as torch)")
    if (size is None) == (scale_factor is None):
        raise ArgumentError("interpolate: give exactly one of size= and scale_factor= (as torch)")
    S = x.shape[2:]
    scales = None
    if scale_factor is not None:
        sf = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
        if len(sf) != nd or any(isinstance(f, bool) or not isinstance(f, (numbers.Real, sp.Number))
                                or not 0 < f < 10_000 for f in sf):
            raise ArgumentError(f"interpolate: scale_factor must be a positive number or {nd} of them, got "
                                f"{scale_factor!r}")
        sizes = tuple(math.floor(float(s) * float(f)) for s, f in zip(S, sf))    # in float64, as torch
        if any(o < 1 for o in sizes):
            raise ArgumentError(f"interpolate: scale_factor={scale_factor!r} of the spatial size {S} leaves "
                                f"no entry (output {sizes})")
        if not recompute_scale_factor:
            scales = tuple(sf)
    else:
        sizes = _sizes(size, x, nd, "interpolate")
    return RL.linear_resize(x, sizes, bool(align_corners), scales)


def _interpolate_text(x, size=None, scale_factor=None, **kw):
    """interpolate as the text calls it: size positionally or as size=; the scale factor's SymPy
    numbers (2, 3/2, 1.5 read from the text) handed on as Python's int or float, as Python writes them."""
    def plain(v):
        return int(v) if v.is_Integer else float(v)
    if scale_factor is not None:
        scale_factor = (tuple(plain(v) for v in scale_factor) if isinstance(scale_factor, tuple)
                        else plain(scale_factor))
    return interpolate(x, size, scale_factor, **kw)


# The text reads interpolate(x, size=(8, 8)), interpolate(x, scale_factor=2, mode="bilinear",
# align_corners=True) (symgrad/frontend/parse.py): sizes integer constants, scale factors number
# constants, the mode one of its strings compared as written; never evaluated.
_register_text("interpolate", _interpolate_text, (1, 2), rest=("size",),
               keywords={"size": "size", "scale_factor": "scale", "mode": "mode",
                         "align_corners": "optional_bool", "recompute_scale_factor": "optional_bool",
                         "antialias": "bool"})
