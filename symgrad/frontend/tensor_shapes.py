"""torch's shape-moving ops, as compositions of reshape, broadcast, slices, concatenation, permute
and the convolution windows (so each gradient is theirs):

    x.repeat(2, 1) / sg.repeat          np.tile: the whole tensor repeated along each axis (a broadcast
                                         over new axes, then a reshape; the gradient sums the copies)
    x.repeat_interleave(2, dim=1)       np.repeat: each entry repeated in place
    x.roll(1, 2) / sg.roll              np.roll: a concatenation of two slices
    sg.pixel_shuffle(x, r)              F.pixel_shuffle: (N, C·r², H, W) → (N, C, H·r, W·r)
    sg.unfold(x, kernel, ...)           F.unfold (im2col): (N, C·k, L), the `Windows` node reshaped

>>> import symgrad as sg
>>> x = sg.tensor("x", (2, 3))
>>> x.repeat(2, 1).shape, x.repeat_interleave(2, dim=1).shape
((4, 3), (2, 6))
"""
from __future__ import annotations

import numbers

import sympy as sp
from sympy import Tuple

from . import conv as C
from .einops_patterns import repeat as einops_repeat
from . import tensor as T
from ..errors import ArgumentError, ShapeError

__all__ = ["repeat", "tile", "repeat_interleave", "roll", "pixel_shuffle", "unfold"]


def _count(v, name, who):
    if isinstance(v, bool) or not isinstance(v, (numbers.Integral, sp.Integer)) or v < 1:
        raise ArgumentError(f"{who}: {name} must be a positive integer, got {v!r}")
    return int(v)


def repeat(x, *sizes, axis=None, dim=None, **axes_lengths):
    """torch's ``x.repeat(*sizes)``: x tiled ``sizes[i]`` times along axis i (more sizes than axes
    add leading axes, as torch). NumPy's ``np.repeat(x, r, axis=)`` is another function (each entry
    r times in a row): given ``axis=`` (or ``dim=``) it is an `ArgumentError` naming
    ``sg.repeat_interleave(x, r, dim=axis)``; NumPy's tiling, ``np.tile(x, reps)``, is `sg.tile`.
    Given a pattern, ``sg.repeat(k, "b h n d -> b (h r) n d", r=2)``, it is einops' repeat
    (`symgrad.frontend.einops_patterns`)."""
    if len(sizes) == 1 and isinstance(sizes[0], str):
        return einops_repeat(x, sizes[0], **axes_lengths)
    if axes_lengths:
        raise ArgumentError(f"repeat: keywords {', '.join(axes_lengths)} are einops' axis sizes and come with "
                            f"a pattern, sg.repeat(x, 'b h n d -> b (h r) n d', r=2); torch's x.repeat takes sizes")
    if axis is not None or dim is not None:
        d = axis if axis is not None else dim
        r = sizes[0] if len(sizes) == 1 else sizes
        raise ArgumentError(f"repeat: sg.repeat is torch's x.repeat (x tiled, sizes per axis), which takes no "
                            f"axis; NumPy's np.repeat(x, {r}, axis={d}) (each entry {r} times in a row) is "
                            f"sg.repeat_interleave(x, {r}, dim={d}); np.tile(x, reps) is sg.tile(x, reps)")
    x = T._tensor_arg(x, "repeat")
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if len(sizes) < x.ndim:
        raise ArgumentError(f"repeat: {len(sizes)} sizes for {x} of {x.ndim} axes; torch's repeat takes at "
                            f"least one per axis")
    sizes = tuple(_count(s, "each size", "repeat") for s in sizes)
    shape = (1,) * (len(sizes) - x.ndim) + tuple(x.shape)
    if all(s == 1 for s in sizes):
        return T.reshape(x, shape) if len(shape) != x.ndim else x
    split = tuple(d for s in shape for d in (1, s))
    wide = tuple(d for s, r in zip(shape, sizes) for d in (r, s))
    return T.reshape(T.broadcast(T.reshape(x, split), wide), tuple(s * r for s, r in zip(shape, sizes)))


def tile(x, reps):
    """NumPy's ``np.tile(x, reps)``: x repeated ``reps[i]`` times along axis i; fewer reps than axes
    count from the last axis (NumPy pads them with 1s in front), more add leading axes. torch's
    ``x.repeat(*reps)`` with the reps padded so."""
    x = T._tensor_arg(x, "tile")
    reps = tuple(reps) if isinstance(reps, (tuple, list)) else (reps,)
    return repeat(x, *((1,) * (x.ndim - len(reps)) + reps))


def repeat_interleave(x, repeats, dim=None):
    """torch's ``x.repeat_interleave(r, dim)``: each entry r times in a row along ``dim`` (None: of the
    flattened x). ``repeats`` one integer (a tensor of counts is not supported)."""
    x = T._tensor_arg(x, "repeat_interleave")
    r = _count(repeats, "repeats (one integer)", "repeat_interleave")
    if dim is None:
        x, dim = T.reshape(x, (-1,)), 0
    ax = T.normalize_axis(dim, x.ndim, "repeat_interleave", x)
    s = list(x.shape)
    split = s[:ax + 1] + [1] + s[ax + 1:]
    wide = s[:ax + 1] + [r] + s[ax + 1:]
    out = s[:ax] + [s[ax] * r] + s[ax + 1:]
    return T.reshape(T.broadcast(T.reshape(x, split), wide), out) if r > 1 else x


def roll(x, shifts=None, dims=None, *, axis=None, shift=None):
    """torch's ``torch.roll(x, shifts, dims)`` / NumPy's ``np.roll(x, shift, axis=)``: entries shifted
    along ``dims`` (wrapping around); ``dims=None`` rolls the flattened x."""
    x = T._tensor_arg(x, "roll")
    if axis is not None:
        if dims is not None:
            raise ArgumentError("roll: the axes given twice, as dims= and axis=; give one")
        dims = axis
    if shift is not None:                          # np.roll(x, shift=2, axis=1)
        if shifts is not None:
            raise ArgumentError("roll: the shift given twice, as shifts and shift=; give one")
        shifts = shift
    if shifts is None:
        raise ArgumentError("roll: say by how much, roll(x, shifts, dims) (np.roll's shift=, axis= too)")
    if dims is None:
        return T.reshape(roll(T.reshape(x, (-1,)), shifts, 0), x.shape)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise ArgumentError(f"roll: {len(shifts)} shifts for {len(dims)} dims; give one shift per dim")
    for k, d in zip(shifts, dims):
        ax = T.normalize_axis(d, x.ndim, "roll", x)
        n = x.shape[ax]
        if not isinstance(n, int):
            raise ShapeError(f"roll: axis {ax} of {x} has the symbolic size {n}; only fixed sizes roll")
        if isinstance(k, bool) or not isinstance(k, (numbers.Integral, sp.Integer)):
            raise ArgumentError(f"roll: shifts must be integers, got {k!r}")
        k = int(k) % n
        if k:
            head = (slice(None),) * ax
            x = T.concat([x[head + (slice(n - k, n),)], x[head + (slice(0, n - k),)]], axis=ax)
    return x


def pixel_shuffle(x, upscale_factor):
    """F.pixel_shuffle(x, r): (N, C·r², H, W) → (N, C, H·r, W·r), out[n, c, h·r + i, w·r + j] =
    x[n, c·r² + i·r + j, h, w] (a reshape, a permute, a reshape)."""
    x = T._tensor_arg(x, "pixel_shuffle")
    r = _count(upscale_factor, "upscale_factor", "pixel_shuffle")
    if x.ndim != 4 or not isinstance(x.shape[1], int) or x.shape[1] % (r * r):
        raise ShapeError(f"pixel_shuffle: x {x} has shape {T.fmt(x.shape)}; it takes (N, C·r², H, W) with "
                         f"the channels divisible by r² = {r * r}")
    n, c, h, w = x.shape
    y = T.reshape(x, (n, c // (r * r), r, r, h, w))
    return T.reshape(T.permute(y, (0, 1, 4, 2, 5, 3)), (n, c // (r * r), h * r, w * r))


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """F.unfold(x, kernel_size, dilation, padding, stride) on (N, C, H, W): every window as a column,
    (N, C·kh·kw, L) with L the number of windows, channel-major within a column as torch's."""
    x = C._layer_input(x, 2, "unfold")
    k = C._tuple_arg(kernel_size, 2, "kernel_size", "unfold", 1)
    d = C._tuple_arg(dilation, 2, "dilation", "unfold", 1)
    p = C._tuple_arg(padding, 2, "padding", "unfold", 0)
    s = C._tuple_arg(stride, 2, "stride", "unfold", 1)
    for i, (size, kk, dd, pp) in enumerate(zip(x.shape[2:], k, d, p)):
        if C.dilated(kk, dd) > size + 2 * pp:
            raise ShapeError(f"unfold: the window {k} (dilation {d}) does not fit x {T.fmt(x.shape)} with "
                             f"padding {p} on spatial axis {i}")
    win = C.Windows(x, Tuple(*k), Tuple(*s), Tuple(*[Tuple(a, a) for a in p]), Tuple(*d), sp.S.Zero)
    n, c, oh, ow = win.shape[:4]
    cols = T.permute(win, (0, 1, 4, 5, 2, 3))                   # (N, C, kh, kw, OH, OW)
    return T.reshape(cols, (n, c * k[0] * k[1], oh * ow))


T.BY_LATER_MODULES.update(repeat=repeat, repeat_interleave=repeat_interleave, roll=roll)
