"""``=`` where ``+=`` belongs in a convolution or max-pool backward written as cs231n's loops.

With overlapping windows (stride < kernel) an input entry lies in several windows, and its gradient
is the sum of what each window sends back. A loop that assigns instead of adding,

    dx_pad[n, :, i*s:i*s+HH, j*s:j*s+WW] = w[f] * dout[n, f, i, j]       # conv
    dx[n, c, i*s + a, j*s + b] = dout[n, c, i, j]                        # max pool, at the arg-max

keeps only the last window's share. The same slip in the weight gradient, ``dw[f] = x_pad[n, :,
window] * dout[n, f, i, j]``, keeps only the last example's last window (windows need not overlap).

The recogniser redoes the slipped loop in NumPy at the check's points, for each convolution or max
pool of f whose input (or kernel) is the parameter the claim is wrong for, with δ the gradient of f
with respect to that node's output (dout itself for a layer alone), in the loop orders students
write: the last filter's share or the sum over filters (one statement ``= np.sum(w * dout[...])``)
for ∂L/∂x, the last example's or the sum over examples for ∂L/∂w; a max pool's arg-max written
alone or its whole window written with the mask. Plain convolutions only (no dilation).
"""
from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from ..frontend import conv as C
from ..frontend import tensor as T
from .claims import _shape, fit_shape, rel_errors

TOL = 1e-6


def _regions(out_sp, kernel, stride):
    """(output position, slices of its window) in row-major order: the order of the loops."""
    for o in itertools.product(*(range(int(n)) for n in out_sp)):
        yield o, tuple(slice(i * s, i * s + k) for i, s, k in zip(o, stride, kernel))


def _conv_dx(x, w, ct, node, per_filter):
    """∂L/∂x of a loop that writes dx_pad[n, :, window] = …: the last window covering an entry wins;
    ``per_filter``: one statement per filter (the last filter's share), else summed over filters."""
    pads = node.padding
    xp_shape = x.shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    dxp = np.zeros(xp_shape)
    K = w.shape[2:]
    for o, sl in _regions(ct.shape[2:], K, node.stride):
        d = ct[(slice(None), slice(None)) + o]                    # (N, F)
        if per_filter:
            share = w[-1][None] * d[:, -1].reshape((-1,) + (1,) * (w.ndim - 1))
        else:
            share = np.tensordot(d, w, axes=([1], [0]))           # (N, C, *K)
        dxp[(slice(None), slice(None)) + sl] = share
    return dxp[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, x.shape[2:]))]


def _conv_dw(x, w, ct, node, per_example):
    """∂L/∂w of a loop that writes dw[f] = x_pad[n, :, window] * dout[n, f, …]: the last window
    (of the last example, or summed over the examples) wins."""
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(node.padding))
    o, sl = list(_regions(ct.shape[2:], w.shape[2:], node.stride))[-1]
    win = xp[(slice(None), slice(None)) + sl]                     # (N, C, *K)
    d = ct[(slice(None), slice(None)) + o]                        # (N, F)
    if per_example:
        return d[-1][:, None, ...].reshape((-1, 1) + (1,) * (w.ndim - 2)) * win[-1][None]
    return np.tensordot(d, win, axes=([0], [0]))


def _pool_dx(x, ct, node, whole_window):
    """∂L/∂x of a max-pool loop that assigns: at the window's first arg-max alone, or the window
    written whole with its mask (zeros over the other entries)."""
    p = node.padding
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((q, q) for q in p), constant_values=-np.inf)
    dxp = np.zeros(xp.shape)
    n_, c_ = x.shape[:2]
    nn, cc = np.meshgrid(np.arange(n_), np.arange(c_), indexing="ij")
    for o, sl in _regions(ct.shape[2:], node.kernel, node.stride):
        win = xp[(slice(None), slice(None)) + sl]
        flat = win.reshape(n_, c_, -1)
        a = flat.argmax(axis=-1)
        d = ct[(slice(None), slice(None)) + o]
        if whole_window:
            mask = np.zeros_like(flat)
            np.put_along_axis(mask, a[..., None], 1.0, axis=-1)
            dxp[(slice(None), slice(None)) + sl] = (mask * d[..., None]).reshape(win.shape)
        else:
            pos = np.unravel_index(a, win.shape[2:])
            dxp[(nn, cc) + tuple(s.start + q for s, q in zip(sl, pos))] = d
    return dxp[(slice(None), slice(None)) + tuple(slice(q, q + s) for q, s in zip(p, x.shape[2:]))]


def _overlaps(kernel, stride) -> bool:
    return any(s < k for s, k in zip(stride, kernel))


def _slips(node, w):
    """(message, slipped gradient(x, w, ct)) for each assignment slip of ``node`` w.r.t. ``w``."""
    if type(node) is C.Conv:
        if set(node.dilation) != {1} or set(node.input_dilation) != {1}:
            return
        x, k = node.args[0], node.args[1]
        kernel = tuple(int(d) for d in k.shape[2:])
        if x == w and _overlaps(kernel, node.stride):
            words = (f"overlapping windows (stride {_fmt(node.stride)} < kernel {_fmt(kernel)}): the gradient of "
                     f"an input entry is the sum over every window that covers it; this backward keeps "
                     f"only the last one (= instead of +=)")
            fix = ": write dx_pad[n, :, window] += w[f] * dout[n, f, i, j]."
            yield (words + ", and of the filters only the last one's share" + fix,
                   lambda xv, wv, ct: _conv_dx(xv, wv, ct, node, True))
            yield words + fix, lambda xv, wv, ct: _conv_dx(xv, wv, ct, node, False)
        if k == w:
            words = ("= instead of += in the weight gradient: dw[f] is the sum over every example and "
                     "every window of x's window times δ; this backward keeps only the last window")
            yield (words + " of the last example: dw[f] += x_pad[n, :, window] * dout[n, f, i, j].",
                   lambda xv, wv, ct: _conv_dw(xv, wv, ct, node, True))
            yield words + ": dw[f] += ….", lambda xv, wv, ct: _conv_dw(xv, wv, ct, node, False)
    elif type(node) is C.MaxPool and node.args[0] == w and _overlaps(node.kernel, node.stride):
        words = (f"overlapping windows (stride {_fmt(node.stride)} < kernel {_fmt(node.kernel)}): the gradient "
                 f"of an input entry is the sum over every window that covers it (an entry can be the "
                 f"arg-max of several); this backward keeps only the last one (= instead of +=)")
        yield words + ": dx[n, c, arg-max] += dout[n, c, i, j].", lambda xv, wv, ct: _pool_dx(xv, ct, node, False)
        yield (words + ", writing the whole window with its mask: dx[n, c, window] += mask * dout[n, c, i, j].",
               lambda xv, wv, ct: _pool_dx(xv, ct, node, True))


def _fmt(v):
    v = tuple(int(a) for a in v)
    return str(v[0]) if len(set(v)) == 1 else str(v)


def _upstream(f, node):
    """(Tensor u, derivation of f with the node replaced by u): δ at the node is ∂f/∂u at u = node."""
    from ..core.differentiate import differentiate
    names = {s.name for s in f.free_symbols if hasattr(s, "name")}
    name = next(n for n in (f"window_output{i}" for i in itertools.count()) if n not in names)
    u = T.tensor(name, tuple(int(d) for d in node.shape))
    return u, differentiate(f.xreplace({node: u}), [u])


def overwrite_hint(case):
    """The assignment slip that explains the claim, as a sentence; else None."""
    from ..core.evaluate import evaluate, numeric
    w = case.w
    nodes = [n for n in dict.fromkeys(sp.preorder_traversal(case.f))
             if type(n) in (C.Conv, C.MaxPool) and w in n.args[:2]]
    if not nodes:
        return None
    Cs = [fit_shape(c, _shape(w)) for c in case.C()]
    if any(c is None for c in Cs):
        return None
    for node in nodes:
        rows = list(_slips(node, w))
        if not rows:
            continue
        u, Du = _upstream(case.f, node)
        per_point = []
        for p in case.points:
            if len(p.examples) != 1:             # a tensor check's point is one whole batch
                return None
            vals = p.example(0)
            with np.errstate(all="ignore"):
                xv = np.asarray(numeric(node.args[0], vals), float)
                wv = np.asarray(numeric(node.args[1], vals), float) if type(node) is C.Conv else None
                ct = np.asarray(evaluate(Du.ir, [Du.gradient_vars[0]], {**vals, u.name: numeric(node, vals)})[0], float)
            per_point.append((xv, wv, ct))
        for message, slipped in rows:
            if all(np.all(rel_errors(c, slipped(*args).reshape(c.shape)) <= TOL)
                   for c, args in zip(Cs, per_point)):
                return message
    return None


__all__ = ["overwrite_hint"]
