"""The windowed primitives of convolution and pooling, one rule row each (same table as `rules.py`).

    conv[stride, pads, ldil, rdil](x, w)   x (N, C, *S) ⋆ w (F, C, *K) → (N, F, *O)
        vjp x: conv(ḡ, flip(w)ᵀ, stride=ldil, pads', ldil=stride, rdil)   the full convolution of δ
               with the flipped kernel, δ spread out by the stride (input dilation), pads' crop or
               pad so that the result has x's size
        vjp w: conv(xᵀ, ḡᵀ, stride=rdil, pads'', ldil, rdil=stride)ᵀ    the correlation of the input
               with δ (batch and channel axes swapped: Σ over the batch is the contraction)
    flip[axes](x)                          x reversed along axes                 vjp: flip ḡ back
    windows[K, stride, pads, dil, fill](x) every window as trailing axes (N, C, *O, *K)   vjp: fold
    fold[shape, K, stride, pads, dil](g)   the windows added back (col2im)       vjp: windows

As JAX's ``conv_general_dilated`` transposes (jax/_src/lax/convolution.py): one general rule with
stride, padding (lo, hi per axis, negative = crop), input dilation and kernel dilation as params, so
the adjoint of a convolution is again a convolution of the table (and so is its adjoint). With
d(n, k) = 1 + k·(n − 1) the extent of n entries dilated by k:

    pads'  = (d(K, rdil) − lo − 1,  d(S, ldil) + d(K, rdil) − 1 − d(O, stride) − that lo)
    pads'' = (lo,  d(O, stride) − d(S, ldil) + d(K, rdil) − lo − 1)

Pooling composes: max_pool = rmax over the flattened windows (its gradient goes to the first
arg-max, the subgradient policy), avg_pool = rsum / k; their gradients come back through `fold`.

The ``impl``s are the evaluator's, vectorized: the windows are a strided view
(`numpy.lib.stride_tricks.sliding_window_view`), a convolution one ``tensordot`` over (C, *K); fold
loops over the k kernel offsets only (each a strided slice-add over every position at once).
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from numpy.lib.stride_tricks import sliding_window_view
from sympy import Tuple

from . import array_rules as A
from . import rules as R
from ..errors import ShapeError
from ..frontend import conv as C
from .array_rules import _ints, _prim, _targs
from .ir import Graph, Var, dims_equal, format_shape

dilated = C.dilated


def _swap01(g: Graph, x: Var) -> Var:
    n = len(x.shape)
    return A.permute(g, x, (1, 0) + tuple(range(2, n)))


# ===================================================================================================
# Shared NumPy pieces


def dilate_and_pad(x, pads, lhs_dilation=None, fill=0.0):
    """x (N, C, *S) with ``lhs_dilation − 1`` zeros between entries on each spatial axis, then padded
    by (lo, hi) per axis with ``fill`` (a negative amount crops)."""
    nd = len(pads)
    lead = (slice(None),) * (x.ndim - nd)
    if lhs_dilation is not None and any(d != 1 for d in lhs_dilation):
        shape = x.shape[:-nd] + tuple(dilated(s, d) for s, d in zip(x.shape[-nd:], lhs_dilation))
        z = np.zeros(shape)
        z[lead + tuple(slice(None, None, d) for d in lhs_dilation)] = x
        x = z
    if any(lo < 0 or hi < 0 for lo, hi in pads):
        x = x[lead + tuple(slice(max(-lo, 0), s - max(-hi, 0)) for s, (lo, hi) in zip(x.shape[-nd:], pads))]
    widths = [(0, 0)] * (x.ndim - nd) + [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
    if any(a or b for a, b in widths):
        x = np.pad(x, widths, constant_values=fill)
    return x


def window_view(xp, kernel, stride, dilation):
    """The windows of the padded xp (N, C, *S) as a strided view (N, C, *O, *K): no copy, no loop."""
    nd = len(kernel)
    span = tuple(dilated(k, d) for k, d in zip(kernel, dilation))
    v = sliding_window_view(xp, span, axis=tuple(range(xp.ndim - nd, xp.ndim)))
    lead = (slice(None),) * (xp.ndim - nd)
    return v[lead + tuple(slice(None, None, s) for s in stride) + tuple(slice(None, None, d) for d in dilation)]


def conv_numpy(x, w, stride, pads, lhs_dilation, rhs_dilation):
    """out[n, f, o] = Σ_{c, k} xp[n, c, o·stride + k·dil] · w[f, c, k]: one tensordot of the windows."""
    nd = len(stride)
    win = window_view(dilate_and_pad(np.asarray(x, float), pads, lhs_dilation), w.shape[2:], stride, rhs_dilation)
    out = np.tensordot(win, w, axes=([1] + list(range(2 + nd, 2 + 2 * nd)), [1] + list(range(2, 2 + nd))))
    return np.moveaxis(out, -1, 1)                    # (N, *O, F) → (N, F, *O)


def fold_numpy(g, shape, kernel, stride, pads, dilation):
    """The adjoint of the windows: zeros of the padded shape, each kernel offset's slab of g added at
    its strided positions (k slice-adds, each over every position), then the padding cut off."""
    nd = len(kernel)
    lead = tuple(shape[:-nd])
    out = np.zeros(lead + tuple(s + lo + hi for s, (lo, hi) in zip(shape[-nd:], pads)))
    O = g.shape[len(lead):len(lead) + nd]
    for offs in np.ndindex(*kernel):
        at = tuple(slice(o * d, o * d + s * (n - 1) + 1, s) for o, d, s, n in zip(offs, dilation, stride, O))
        out[(Ellipsis,) + at] += g[(Ellipsis,) + offs]
    return out[(Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(shape[-nd:], pads))]


# ===================================================================================================
# conv


conv_p = _prim("conv", "convolution (its gradients are convolutions)",
               lambda p: f"stride={p[0]}, pads={p[1]}, ldil={p[2]}, rdil={p[3]}")


def conv(g: Graph, x: Var, w: Var, stride, pads, lhs_dilation, rhs_dilation) -> Var:
    params = (tuple(int(a) for a in stride), tuple((int(lo), int(hi)) for lo, hi in pads),
              tuple(int(a) for a in lhs_dilation), tuple(int(a) for a in rhs_dilation))
    return g.bind(conv_p, (x, w), params)


def _conv_shape(shapes, params):
    x, w = shapes
    stride, pads, ld, rd = params
    nd = len(stride)
    if len(x) != nd + 2 or len(w) != nd + 2 or not dims_equal(x[1], w[1]):
        raise ShapeError(f"conv: input {format_shape(x)} and kernel {format_shape(w)} need the layout "
                         f"(N, C, ...) and (F, C, ...) with equal C")
    O = tuple(C.conv_out_size(int(s), int(k), st, lo, hi, l, r) for s, k, st, (lo, hi), l, r in
              zip(x[2:], w[2:], stride, pads, ld, rd))
    if any(o < 1 for o in O):
        raise ShapeError(f"conv: the kernel {format_shape(w)} does not fit the input {format_shape(x)} "
                         f"with padding {pads}")
    return (x[0], w[0]) + O


def _conv_vjp(g, eqn, ct, want):
    x, w = eqn.inputs
    stride, pads, ld, rd = eqn.params
    nd = len(stride)
    S, K, O = [_ints(v.shape[2:]) for v in (x, w, ct)]
    dx = dw = None
    if want[0]:
        before = [dilated(k, r) - lo - 1 for k, r, (lo, _) in zip(K, rd, pads)]
        after = [dilated(s, l) + dilated(k, r) - 1 - dilated(o, st) - b
                 for s, l, k, r, o, st, b in zip(S, ld, K, rd, O, stride, before)]
        w_flipped = _swap01(g, flip(g, w, tuple(range(2, 2 + nd))))            # (C, F, *K), reversed
        dx = conv(g, ct, w_flipped, ld, tuple(zip(before, after)), stride, rd)
    if want[1]:
        his = [dilated(o, st) - dilated(s, l) + dilated(k, r) - lo - 1
               for o, st, s, l, k, r, (lo, _) in zip(O, stride, S, ld, K, rd, pads)]
        los = [lo for lo, _ in pads]
        dw = _swap01(g, conv(g, _swap01(g, x), _swap01(g, ct), rd, tuple(zip(los, his)), ld, stride))
    return [dx, dw]


def _conv_jvp(g, eqn, t):
    x, w = eqn.inputs
    return R.add_n(g, [conv(g, t[0], w, *eqn.params) if t[0] is not None else None,
                       conv(g, x, t[1], *eqn.params) if t[1] is not None else None], eqn.out.shape)


def _conv_to_sympy(args, params, shape):
    stride, pads, ld, rd = params
    x, w = _targs(args)
    return C.Conv(x, w, Tuple(*stride), Tuple(*[Tuple(*p) for p in pads]), Tuple(*ld), Tuple(*rd))


conv_p.shape = _conv_shape
conv_p.impl = lambda args, params: conv_numpy(np.asarray(args[0], float), np.asarray(args[1], float), *params)
conv_p.vjp = _conv_vjp
conv_p.jvp = _conv_jvp
conv_p.to_sympy = _conv_to_sympy


# ===================================================================================================
# flip: its own adjoint


flip_p = _prim("flip", "flip (reverse axes)", lambda p: f"axes={p[0]}")


def flip(g: Graph, x: Var, axes) -> Var:
    axes = tuple(sorted(int(a) for a in axes if not dims_equal(x.shape[a], 1)))
    if not axes:
        return x
    e = g.producer[x.id]
    if e.prim is flip_p and e.params[0] == axes:          # flip(flip(x)) = x
        return e.inputs[0]
    return g.bind(flip_p, (x,), (axes,))


flip_p.shape = lambda shapes, params: shapes[0]
flip_p.impl = lambda args, params: np.flip(args[0], params[0]).copy()
flip_p.vjp = lambda g, eqn, ct, want: [flip(g, ct, eqn.params[0])]
flip_p.jvp = lambda g, eqn, t: flip(g, t[0], eqn.params[0])
flip_p.to_sympy = lambda args, params, shape: C.Flip(_targs(args)[0], Tuple(*params[0]))


# ===================================================================================================
# windows and fold: each other's adjoint


windows_p = _prim("windows", "windows (im2col as a view)",
                  lambda p: f"kernel={p[0]}, stride={p[1]}, pads={p[2]}, dil={p[3]}, fill={p[4]}")
fold_p = _prim("fold", "fold (col2im, the adjoint of windows)",
               lambda p: f"{format_shape(p[0])}, kernel={p[1]}, stride={p[2]}, pads={p[3]}, dil={p[4]}")


def windows(g: Graph, x: Var, kernel, stride, pads, dilation, fill=0) -> Var:
    return g.bind(windows_p, (x,), (_ints(kernel), _ints(stride), tuple(_ints(p) for p in pads),
                                    _ints(dilation), sp.sympify(fill)))


def fold(g: Graph, ct: Var, shape, kernel, stride, pads, dilation) -> Var:
    return g.bind(fold_p, (ct,), (tuple(shape), _ints(kernel), _ints(stride),
                                  tuple(_ints(p) for p in pads), _ints(dilation)))


def _windows_shape(shapes, params):
    x, (kernel, stride, pads, dil, _) = shapes[0], params
    nd = len(kernel)
    O = tuple(C.conv_out_size(int(s), k, st, lo, hi, 1, d) for s, k, st, (lo, hi), d in
              zip(x[-nd:], kernel, stride, pads, dil))
    if any(o < 1 for o in O):
        raise ShapeError(f"windows: the window {kernel} does not fit {format_shape(x)} with padding {pads}")
    return tuple(x[:-nd]) + O + tuple(kernel)


def _windows_impl(args, params):
    kernel, stride, pads, dil, fill = params
    xp = dilate_and_pad(np.asarray(args[0], float), pads, fill=float(fill))
    return window_view(xp, kernel, stride, dil).copy()


windows_p.shape = _windows_shape
windows_p.impl = _windows_impl
windows_p.vjp = lambda g, eqn, ct, want: [fold(g, ct, eqn.inputs[0].shape, *eqn.params[:4])]
windows_p.jvp = lambda g, eqn, t: windows(g, t[0], *eqn.params[:4], fill=0)   # padding is constant
windows_p.to_sympy = lambda args, params, shape: C.Windows(
    _targs(args)[0], Tuple(*params[0]), Tuple(*params[1]), Tuple(*[Tuple(*p) for p in params[2]]),
    Tuple(*params[3]), params[4])

fold_p.shape = lambda shapes, params: tuple(params[0])
fold_p.impl = lambda args, params: fold_numpy(np.asarray(args[0], float), _ints(params[0]), *params[1:])
fold_p.vjp = lambda g, eqn, ct, want: [windows(g, ct, *eqn.params[1:], fill=0)]
fold_p.jvp = lambda g, eqn, t: fold(g, t[0], *eqn.params)
fold_p.to_sympy = lambda args, params, shape: C.Fold(
    _targs(args)[0], Tuple(*params[0]), Tuple(*params[1]), Tuple(*params[2]),
    Tuple(*[Tuple(*p) for p in params[3]]), Tuple(*params[4]))


__all__ = ["conv", "flip", "windows", "fold", "conv_numpy", "fold_numpy", "window_view", "dilate_and_pad"]
