"""``=`` where ``+=`` belongs in a convolution or max- or average-pool backward written as cs231n's loops.

With overlapping windows (stride < kernel) an input entry lies in several windows, and its gradient
is the sum of what each window sends back. A loop that assigns instead of adding,

    dx_pad[n, :, i*s:i*s+HH, j*s:j*s+WW] = w[f] * dout[n, f, i, j]       # conv
    dx[n, c, i*s + a, j*s + b] = dout[n, c, i, j]                        # max pool, at the arg-max

keeps only the last window's share. The same slip in the weight gradient, ``dw[f] = x_pad[n, :,
window] * dout[n, f, i, j]``, keeps only the last example's last window (windows need not overlap).

The recogniser redoes the slipped loop and the right one in NumPy at the check's points, for each
convolution or max pool of f whose input (or kernel) depends on the parameter the claim is wrong
for, with δ the gradient of f with respect to that node's output (dout itself for a layer alone),
and asks whether the claim is the true gradient plus their difference carried back from the node's
input to the parameter (through the relu and convolution of a conv-relu-pool sandwich), in the loop
orders students write: the last filter's share or the sum over filters (one statement ``= np.sum(w * dout[...])``)
for ∂L/∂x, the last example's or the sum over examples for ∂L/∂w; a max pool's arg-max written
alone or its whole window written with the mask. Plain convolutions only (no dilation).
"""
from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from ..frontend import conv as C
from ..frontend import tensor as T
from .hint_kind import Hint
from .claims import _shape, fit_shape, rel_errors

TOL = 1e-6


def _regions(out_sp, kernel, stride):
    """(output position, slices of its window) in row-major order: the order of the loops."""
    for o in itertools.product(*(range(int(n)) for n in out_sp)):
        yield o, tuple(slice(i * s, i * s + k) for i, s, k in zip(o, stride, kernel))


def _conv_dx(x, w, ct, node, per_filter, add=False):
    """∂L/∂x of a loop that writes dx_pad[n, :, window] = …: the last window covering an entry wins;
    ``per_filter``: one statement per filter (the last filter's share), else summed over filters.
    ``add``: the right loop (+=, summed over the filters)."""
    pads = node.padding
    xp_shape = x.shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    dxp = np.zeros(xp_shape)
    K = w.shape[2:]
    for o, sl in _regions(ct.shape[2:], K, node.stride):
        d = ct[(slice(None), slice(None)) + o]                    # (N, F)
        if per_filter and not add:
            share = w[-1][None] * d[:, -1].reshape((-1,) + (1,) * (w.ndim - 1))
        else:
            share = np.tensordot(d, w, axes=([1], [0]))           # (N, C, *K)
        if add:
            dxp[(slice(None), slice(None)) + sl] += share
        else:
            dxp[(slice(None), slice(None)) + sl] = share
    return dxp[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, x.shape[2:]))]


def _conv_dw(x, w, ct, node, per_example, add=False):
    """∂L/∂w of a loop that writes dw[f] = x_pad[n, :, window] * dout[n, f, …]: the last window
    (of the last example, or summed over the examples) wins. ``add``: the right loop (+=)."""
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(node.padding))
    if add:
        return sum(np.tensordot(ct[(slice(None), slice(None)) + o], xp[(slice(None), slice(None)) + sl],
                                axes=([0], [0])) for o, sl in _regions(ct.shape[2:], w.shape[2:], node.stride))
    o, sl = list(_regions(ct.shape[2:], w.shape[2:], node.stride))[-1]
    win = xp[(slice(None), slice(None)) + sl]                     # (N, C, *K)
    d = ct[(slice(None), slice(None)) + o]                        # (N, F)
    if per_example:
        return d[-1][:, None, ...].reshape((-1, 1) + (1,) * (w.ndim - 2)) * win[-1][None]
    return np.tensordot(d, win, axes=([0], [0]))


def _pool_dx(x, ct, node, whole_window, add=False):
    """∂L/∂x of a max-pool loop that assigns: at the window's first arg-max alone, or the window
    written whole with its mask (zeros over the other entries). ``add``: the right loop (+=)."""
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
        if whole_window and not add:
            mask = np.zeros_like(flat)
            np.put_along_axis(mask, a[..., None], 1.0, axis=-1)
            dxp[(slice(None), slice(None)) + sl] = (mask * d[..., None]).reshape(win.shape)
        else:                                  # one entry per (n, c): += has no repeated index
            at = (nn, cc) + tuple(s.start + q for s, q in zip(sl, np.unravel_index(a, win.shape[2:])))
            dxp[at] = dxp[at] + d if add else d
    return dxp[(slice(None), slice(None)) + tuple(slice(q, q + s) for q, s in zip(p, x.shape[2:]))]


def _avg_dx(x, ct, node, add=False):
    """∂L/∂x of an average-pool loop, dx[n, c, window] = dout[n, c, i, j] / k (the last window
    covering an entry wins). ``add``: the right loop (+=)."""
    p, k = node.padding, int(np.prod(node.kernel))
    dxp = np.zeros(x.shape[:2] + tuple(s + 2 * q for s, q in zip(x.shape[2:], p)))
    for o, sl in _regions(ct.shape[2:], node.kernel, node.stride):
        share = ct[(slice(None), slice(None)) + o].reshape(x.shape[:2] + (1,) * len(o)) / k
        at = (slice(None), slice(None)) + sl
        dxp[at] = dxp[at] + share if add else np.broadcast_to(share, dxp[at].shape)
    return dxp[(slice(None), slice(None)) + tuple(slice(q, q + s) for q, s in zip(p, x.shape[2:]))]


def _overlaps(kernel, stride) -> bool:
    return any(s < k for s, k in zip(stride, kernel))


def _slips(node, w):
    """(message, slot, slipped, right) for each assignment slip of ``node`` whose input ``slot``
    (0: x, 1: the kernel) depends on ``w``: ``slipped(x, k, ct)`` and ``right(x, k, ct)`` are the
    gradients the loop gives with = and with += for that input."""
    if type(node) is C.Conv:
        if set(node.dilation) != {1} or set(node.input_dilation) != {1}:
            return
        x, k = node.args[0], node.args[1]
        kernel = tuple(int(d) for d in k.shape[2:])
        if x.has(w) and _overlaps(kernel, node.stride):
            kind = f"overlapping windows (stride {_fmt(node.stride)} < kernel {_fmt(kernel)})"
            words = ("the gradient of an input entry is the sum over every window that covers it; this "
                     "backward keeps only the last one (= instead of +=)")
            fix = ": write dx_pad[n, :, window] += w[f] * dout[n, f, i, j]."
            right = lambda xv, kv, ct: _conv_dx(xv, kv, ct, node, False, add=True)    # noqa: E731
            if int(k.shape[0]) > 1:        # one filter: "the last filter's share" is all of it
                yield (Hint(kind, words + ", and of the filters only the last one's share" + fix), 0,
                       lambda xv, kv, ct: _conv_dx(xv, kv, ct, node, True), right)
            yield Hint(kind, words + fix), 0, lambda xv, kv, ct: _conv_dx(xv, kv, ct, node, False), right
        if k.has(w):
            kind = "= instead of += in the weight gradient"
            words = ("dw[f] is the sum over every example and every window of x's window times δ; this "
                     "backward keeps only the last window")
            right = lambda xv, kv, ct: _conv_dw(xv, kv, ct, node, False, add=True)    # noqa: E731
            yield (Hint(kind, words + " of the last example: dw[f] += x_pad[n, :, window] * dout[n, f, i, j]."), 1,
                   lambda xv, kv, ct: _conv_dw(xv, kv, ct, node, True), right)
            yield Hint(kind, words + ": dw[f] += …."), 1, lambda xv, kv, ct: _conv_dw(xv, kv, ct, node, False), right
    elif type(node) is C.MaxPool and node.args[0].has(w) and _overlaps(node.kernel, node.stride):
        kind = f"overlapping windows (stride {_fmt(node.stride)} < kernel {_fmt(node.kernel)})"
        words = ("the gradient of an input entry is the sum over every window that covers it (an entry can "
                 "be the arg-max of several); this backward keeps only the last one (= instead of +=)")
        right = lambda xv, kv, ct: _pool_dx(xv, ct, node, False, add=True)    # noqa: E731
        yield (Hint(kind, words + ": dx[n, c, arg-max] += dout[n, c, i, j]."), 0,
               lambda xv, kv, ct: _pool_dx(xv, ct, node, False), right)
        yield (Hint(kind, words + ", writing the whole window with its mask: dx[n, c, window] += mask * "
                    "dout[n, c, i, j]."), 0,
               lambda xv, kv, ct: _pool_dx(xv, ct, node, True), right)
    elif type(node) is C.AvgPool and node.args[0].has(w) and _overlaps(node.kernel, node.stride):
        k = int(np.prod(node.kernel))
        yield (Hint(f"overlapping windows (stride {_fmt(node.stride)} < kernel {_fmt(node.kernel)})",
                    f"the gradient of an input entry is the sum over every window that covers it; this backward "
                    f"keeps only the last one (= instead of +=): dx[n, c, window] += dout[n, c, i, j] / {k}."), 0,
               lambda xv, kv, ct: _avg_dx(xv, ct, node), lambda xv, kv, ct: _avg_dx(xv, ct, node, add=True))


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


def _chain(f_slot, params, k):
    """(G, derivation): the gradient w.r.t. params[k] of Σ slot ⊙ G, G held fixed — how a change Δ
    of the gradient at the node's input reaches the parameter (Δ itself when the input is it)."""
    from ..core.differentiate import differentiate
    names = {s.name for s in f_slot.free_symbols if hasattr(s, "name")} | {p.name for p in params}
    name = next(n for n in (f"change_at_input{i}" for i in itertools.count()) if n not in names)
    G = T.tensor(name, tuple(int(d) for d in f_slot.shape))
    return G, differentiate(T.sum(f_slot * G), [params[k]])


def overwrite_hint(case):
    """The assignment slip that explains the claim, as a sentence; else None. The claim should be
    the gradient with the node's backward slipped: the true gradient plus the change at the node's
    input (slipped − right) carried back to the parameter."""
    from ..core.evaluate import evaluate, numeric
    w = case.w
    nodes = [n for n in dict.fromkeys(sp.preorder_traversal(case.f))
             if type(n) in (C.Conv, C.MaxPool, C.AvgPool) and any(a.has(w) for a in n.args[:2])]
    if not nodes or any(len(p.examples) != 1 for p in case.points):   # a tensor check: one example
        return None
    Cs, Ts = [fit_shape(c, _shape(w)) for c in case.C()], case.T()
    if any(c is None for c in Cs):
        return None
    for node in nodes:
        rows = list(_slips(node, w))
        if not rows:
            continue
        u, Du = _upstream(case.f, node)
        chains = {}
        per_point = []
        for p in case.points:
            vals = p.example(0)
            with np.errstate(all="ignore"):
                xv = np.asarray(numeric(node.args[0], vals), float)
                kv = np.asarray(numeric(node.args[1], vals), float) if type(node) is C.Conv else None
                ct = np.asarray(evaluate(Du.ir, [Du.gradient_vars[0]], {**vals, u.name: numeric(node, vals)})[0], float)
            per_point.append((vals, xv, kv, ct))
        for message, slot, slipped, right in rows:
            if slot not in chains:
                chains[slot] = None if node.args[slot] == w else _chain(node.args[slot], case.params, case.k)
            ok = True
            for c, t, (vals, xv, kv, ct) in zip(Cs, Ts, per_point):
                delta = slipped(xv, kv, ct) - right(xv, kv, ct)
                if chains[slot] is not None:
                    G, Dg = chains[slot]
                    delta = np.asarray(evaluate(Dg.ir, [Dg.gradient_vars[0]], {**vals, G.name: delta})[0], float)
                if not np.all(rel_errors(c, (t + delta.reshape(t.shape)).reshape(c.shape)) <= TOL):
                    ok = False
                    break
            if ok:
                return message
    return None


__all__ = ["overwrite_hint"]
