"""Transposed convolution (torch's ``F.conv_transpose1d`` / ``F.conv_transpose2d``, the decoder's and
the U-Net's upsampling layer), written as the adjoint of a convolution: no new primitive.

conv_transpose(x, w) is the gradient of conv(·, w) with respect to its input, applied to x: the
full convolution of x, spread out by the stride (``stride − 1`` zeros between its entries: an input
dilation), with the flipped kernel, its two channel axes swapped. With d·(k − 1) the dilated
kernel's extent less one, each spatial axis is padded by (d·(k − 1) − p, d·(k − 1) − p + output_padding)
(negative: a crop), so the output has torch's size

    (S − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1.

w has torch's layout (C_in, C_out / groups, *K); ``groups`` splits the input channels and the
kernel's first axis into groups, each transposed on its own (a concatenation, as `conv2d`'s groups).
The gradients are those of the `conv` primitive (convolutions again).

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x, w = sg.tensor("x", (N, 3, 4, 4)), sg.tensor("w", (3, 2, 3, 3))
>>> sg.conv_transpose2d(x, w, stride=2, padding=1).shape
(N, 2, 7, 7)
>>> sg.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1).shape
(N, 2, 8, 8)
"""
from __future__ import annotations

from sympy import Tuple

from . import conv as C
from . import tensor as T
from ..errors import ArgumentError, ShapeError

__all__ = ["conv_transpose1d", "conv_transpose2d"]


def _conv_transpose(x, w, b, stride, padding, output_padding, groups, dilation, nd):
    layer = f"conv_transpose{nd}d"
    x = C._layer_input(x, nd, layer)
    w = T._tensor_arg(w, layer)
    kn = "(C_in, C_out/groups, K)" if nd == 1 else "(C_in, C_out/groups, HH, WW)"
    if w.ndim != nd + 2 or any(not isinstance(d, int) for d in w.shape):
        raise ShapeError(f"{layer}: the kernel w {w} has shape {T.fmt(w.shape)}; {layer} takes {kn} "
                         f"with integer sizes (torch's layout: input channels first)")
    if isinstance(padding, str):
        raise ArgumentError(f"{layer}: padding={padding!r} is not supported (nor by torch's {layer}); "
                            f"give the padding as integers")
    stride = C._tuple_arg(stride, nd, "stride", layer, 1)
    pad = C._tuple_arg(padding, nd, "padding", layer, 0)
    opad = C._tuple_arg(output_padding, nd, "output_padding", layer, 0)
    dil = C._tuple_arg(dilation, nd, "dilation", layer, 1)
    for op, s, d in zip(opad, stride, dil):
        if op >= s and op >= d:
            raise ArgumentError(f"{layer}: output_padding {opad} must be smaller than the stride {stride} "
                                f"or the dilation {dil} (as torch's): it picks one of the input sizes that "
                                f"a strided convolution maps to the same output size")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ArgumentError(f"{layer}: groups must be a positive integer, got {groups!r}")
    cin = x.shape[1]
    if w.shape[0] != cin or cin % groups:
        raise ShapeError(f"{layer}: channel mismatch: x {x} of shape {T.fmt(x.shape)} has {cin} channels; "
                         f"the kernel w {w} of shape {T.fmt(w.shape)} must have them on its first axis "
                         f"(torch's layout {kn}), and groups={groups} must divide them")
    pads = []
    for i, (s, k, p, op, d) in enumerate(zip(x.shape[2:], w.shape[2:], pad, opad, dil)):
        lo = d * (k - 1) - p
        if (s - 1) * stride[i] + 2 * lo + op - d * (k - 1) + 1 < 1:
            raise ShapeError(f"{layer}: padding {pad} crops the whole output on spatial axis {i} "
                             f"(input {T.fmt(x.shape)}, kernel {T.fmt(w.shape)})")
        pads.append(Tuple(lo, lo + op))
    spatial = tuple(range(2, nd + 2))
    swap = (1, 0) + spatial

    def one(xg, wg):                 # the adjoint of conv(·, wg): flipped kernel, channels swapped
        return C.Conv(xg, T.permute(C.flip(wg, spatial), swap), Tuple(*[1] * nd), Tuple(*pads),
                      Tuple(*stride), Tuple(*dil))
    if groups == 1:
        out = one(x, w)
    else:
        cg = cin // groups
        out = T.concat([one(x[:, i * cg:(i + 1) * cg], w[i * cg:(i + 1) * cg]) for i in range(groups)],
                       axis=1)
    if b is None:
        return out
    b = T._tensor_arg(b, layer)
    f = out.shape[1]
    if b.shape != (f,):
        raise ShapeError(f"{layer}: the bias b {b} has shape {T.fmt(b.shape)}; it must be ({f},), one per "
                         f"output channel (w {T.fmt(w.shape)} × groups={groups})")
    return out + T.reshape(b, (f,) + (1,) * nd)


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch's ``F.conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
    dilation)`` (the same argument order): x (N, C_in, H, W), w (C_in, C_out / groups, HH, WW)."""
    return _conv_transpose(x, w, b, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose1d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch's ``F.conv_transpose1d``: x (N, C_in, L), w (C_in, C_out / groups, K)."""
    return _conv_transpose(x, w, b, stride, padding, output_padding, groups, dilation, 1)
