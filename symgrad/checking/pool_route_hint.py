"""Name a max-pool backward that sends each window's δ to another entry of the window than its
arg-max: cs231n's max_pool_backward_naive with ``np.argmin`` for ``np.argmax``, or the flat index
unravelled the wrong way round (``k % WW, k // WW`` for ``np.unravel_index(k, (HH, WW))``). Its
numbers are the gradient's, in other places, so `layer_hints.permuted_hint` would read it as a
reshape without its transpose.

Decided window by window at each point, for f with one 2-d max pool of the wrt tensor itself, with
windows that tile it (stride = kernel, no padding): every window of the claim holds the same numbers
as the gradient's window (δ at one entry, zeros elsewhere), and the entries outside every window
agree. Which entry — the arg-min, or the arg-max's transposed place — is said when every window
shows it. Where the windows overlap (stride < kernel: 11-785's MaxPool2d_stride1) those two loops
are redone in NumPy at each point and compared with the claim.

A max or average pool with stride > 1 whose backward writes δ back without the stride (window (i, j)
taken at (i, j) itself, or at (i, j)·kernel): `stride_left_out_hint`, the slipped loop redone the
same way.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _fitted, all_same, same


def _pool_of(case):
    from ..frontend import conv as C
    pools = list(dict.fromkeys(n for n in sp.preorder_traversal(case.f) if type(n) is C.MaxPool))
    if len(pools) != 1 or pools[0].args[0] != case.w or pools[0].nd != 2:
        return None
    p = pools[0]
    if p.stride != p.kernel or set(p.padding) != {0}:
        return None
    return p.kernel


def _windows(a, k):
    """(N, C, Ho, Wo, kh·kw): each window's entries in row-major order; and the uncovered rest."""
    kh, kw = k
    n, c, h, w = a.shape
    ho, wo = h // kh, w // kw
    inner = a[:, :, :ho * kh, :wo * kw].reshape(n, c, ho, kh, wo, kw).transpose(0, 1, 2, 4, 3, 5)
    rest = np.concatenate([a[:, :, ho * kh:, :].ravel(), a[:, :, :ho * kh, wo * kw:].ravel()])
    return inner.reshape(n, c, ho, wo, kh * kw), rest


def _routed(x, ct, pool, pick):
    """∂L/∂x of a max-pool loop that sends each window's δ to the entry ``pick(window, flat
    arg-max)`` (+=, so overlapping windows add): windows of any stride, no padding."""
    from .overwrite_hints import _regions
    dx = np.zeros(x.shape)
    n_, c_ = x.shape[:2]
    nn, cc = np.meshgrid(np.arange(n_), np.arange(c_), indexing="ij")
    for o, sl in _regions(ct.shape[2:], pool.kernel, pool.stride):
        win = x[(slice(None), slice(None)) + sl].reshape(n_, c_, -1)
        a = pick(win)
        at = (nn, cc) + tuple(q.start + i for q, i in zip(sl, np.unravel_index(a, pool.kernel)))
        np.add.at(dx, at, ct[(slice(None), slice(None)) + o])
    return dx


def _overlapping_route_hint(case: Case):
    """The same slips where the windows overlap (11-785's MaxPool2d_stride1): the slipped loop
    redone in NumPy at each point, with dout as δ (a max pool of the wrt tensor, no padding)."""
    import re
    from ..frontend import conv as C
    pools = list(dict.fromkeys(n for n in sp.preorder_traversal(case.f) if type(n) is C.MaxPool))
    if len(pools) != 1 or pools[0].args[0] != case.w or pools[0].nd != 2 or set(pools[0].padding) != {0}:
        return None
    pool = pools[0]
    kh, kw = pool.kernel
    if kh != kw or pool.stride == pool.kernel:
        return None
    Cs, Ts = _fitted(case)
    if any(c is None for c in Cs) or all_same(Cs, Ts):
        return None
    picks = {"argmin": lambda w: w.argmin(axis=-1),
             "swapped": lambda w: (w.argmax(axis=-1) % kw) * kw + w.argmax(axis=-1) // kw}
    for name, pick in picks.items():
        ok = True
        for c, p in zip(Cs, case.points):
            ex = p.example()
            d = next((v for k, v in ex.items() if re.fullmatch(r"dout\d*", str(k))), None)
            if d is None or np.shape(d) != tuple(int(v) for v in pool.shape):
                return None
            x = np.asarray(ex[case.w.name], float)
            if not same(c, _routed(x, np.asarray(d, float), pool, pick)):
                ok = False
                break
        if ok:
            return name, kh, kw
    return None


def _stepped_dx(x, ct, kernel, read, write, avg=False):
    """∂L/∂x of a max-pool loop that takes window (i, j)'s arg-max from x[i·read : i·read + k, …]
    and sends δ[i, j] to (i·write + a, j·write + b): the right loop has read = write = stride;
    None where a write falls outside x (the student's loop would have raised)."""
    dx = np.zeros(x.shape)
    n_, c_ = x.shape[:2]
    nn, cc = np.meshgrid(np.arange(n_), np.arange(c_), indexing="ij")
    for o in np.ndindex(*ct.shape[2:]):
        sl = tuple(slice(i * read, i * read + k) for i, k in zip(o, kernel))
        win = x[(slice(None), slice(None)) + sl]
        if win.shape[2:] != tuple(kernel):
            return None
        if avg:                       # an average pool: δ/k to every entry of the window at o·write
            out = tuple(slice(i * write, i * write + k) for i, k in zip(o, kernel))
            if any(q.stop > n for q, n in zip(out, x.shape[2:])):
                return None
            share = ct[(slice(None), slice(None)) + o] / float(np.prod(kernel))
            dx[(slice(None), slice(None)) + out] += share.reshape(share.shape + (1,) * len(kernel))
            continue
        at = np.unravel_index(win.reshape(n_, c_, -1).argmax(axis=-1), kernel)
        place = tuple(i * write + a for i, a in zip(o, at))
        if any(int(np.max(q)) >= n for q, n in zip(place, x.shape[2:])):
            return None
        np.add.at(dx, (nn, cc) + place, ct[(slice(None), slice(None)) + o])
    return dx


def stride_left_out_hint(case: Case):
    """cs231n's max_pool_backward_naive with the stride left out where δ is written back:
    ``dx[n, c, i + a, j + b] += dout[n, c, i, j]`` for ``dx[n, c, i*stride + a, j*stride + b]`` (the
    arg-max read from the right window, or from a window read without the stride too), or the
    kernel where the stride belongs (``i*HH + a``). The loop redone in NumPy at each point, for a
    max pool of the wrt tensor itself, stride > 1, no padding."""
    import re
    from ..frontend import conv as C
    pools = list(dict.fromkeys(n for n in sp.preorder_traversal(case.f) if type(n) in (C.MaxPool, C.AvgPool)))
    if len(pools) != 1 or pools[0].args[0] != case.w or set(pools[0].padding) != {0}:
        return None
    pool = pools[0]
    avg = type(pool) is C.AvgPool
    stride, kernel = tuple(int(s) for s in pool.stride), tuple(int(k) for k in pool.kernel)
    if len(set(stride)) != 1 or stride[0] == 1:
        return None
    s = stride[0]
    Cs, Ts = _fitted(case)
    if any(c is None for c in Cs) or all_same(Cs, Ts):
        return None
    loops = ([(s, 1, "the window")] if avg else
             [(s, 1, "the arg-max's place"), (1, 1, "the window and the arg-max's place")])
    if len(set(kernel)) == 1 and kernel[0] != s:
        loops.append((s, kernel[0], "kernel"))
    for read, write, what in loops:
        for c, p in zip(Cs, case.points):
            ex = p.example()
            d = next((v for k, v in ex.items() if re.fullmatch(r"dout\d*", str(k))), None)
            if d is None or np.shape(d) != tuple(int(v) for v in pool.shape):
                return None
            dx = _stepped_dx(np.asarray(ex[case.w.name], float), np.asarray(d, float), kernel, read, write, avg)
            if dx is None or not same(c, dx):
                break
        else:
            nd = len(kernel)
            o, at = ("i", "a") if nd == 1 else ("(i, j)", "(a, b)")
            right = "i*stride + a" if nd == 1 else "i*stride + a, j*stride + b"
            fix = f"dx[n, c, {right}] += dout[n, c, {o.strip('()')}]"
            if avg:
                k = int(np.prod(kernel))
                span = ("i*stride:i*stride + k" if nd == 1
                        else "i*stride:i*stride + kh, j*stride:j*stride + kw")
                start = f"{o}·{kernel[0]}" if what == "kernel" else f"{o} itself"
                return Hint("average-pool gradient written at the kernel's step" if what == "kernel" else
                            "average-pool gradient written without the stride",
                            f"the claim spreads window {o}'s δ/{k} over the window starting at {start}, "
                            f"where it starts at {o}·stride (stride {s}): "
                            f"dx[n, c, {span}] += dout[n, c, {o.strip('()')}] / {k}.")
            if what == "kernel":
                return Hint("max-pool gradient written at the kernel's step",
                            f"the claim sends window {o}'s δ to its arg-max {at} counted from {o}·{kernel[0]}, "
                            f"the kernel size where the stride ({s}) belongs: window {o} starts at {o}·stride, "
                            f"so {fix}.")
            return Hint("max-pool gradient written without the stride",
                        f"the claim sends window {o}'s δ to its arg-max {at} counted from {o} itself, "
                        f"{what} computed without the stride ({s}): window {o} starts at {o}·stride, "
                        f"so {fix}.")
    return None


def pool_route_hint(case: Case):
    k = _pool_of(case)
    Cs, Ts = _fitted(case)
    if k is None:
        found = _overlapping_route_hint(case)
        return None if found is None else _words({found[0]}, found[1], found[2])
    if any(c is None or c.ndim != 4 for c in Cs) or all_same(Cs, Ts):
        return None
    kh, kw = k
    routes = set()
    for c, t, p in zip(Cs, Ts, case.points):
        x = np.asarray(p.example()[case.w.name], float)
        (cw, crest), (tw, trest), (xw, _) = _windows(c, k), _windows(t, k), _windows(x, k)
        if not same(crest, trest) or not same(np.sort(cw, axis=-1), np.sort(tw, axis=-1)):
            return None
        moved = np.abs(cw - tw).max(axis=-1) > 1e-9 * (np.abs(tw).max() + 1e-300)
        if not moved.any():
            continue
        at = np.argmax(np.abs(cw), axis=-1)[moved]
        amin = np.argmin(xw, axis=-1)[moved]
        amax = np.argmax(xw, axis=-1)[moved]
        swapped = (amax % kw) * kw + amax // kw if kh == kw else None
        routes.add("argmin" if np.array_equal(at, amin) else
                   "swapped" if swapped is not None and np.array_equal(at, swapped) else "other")
    if not routes:
        return None
    return _words(routes, kh, kw)


def _words(routes, kh, kw):
    how = {frozenset({"argmin"}): " — to the window's arg-min: np.argmin where np.argmax belongs",
           frozenset({"swapped"}): (f" — to the arg-max's place with its row and column swapped: the flat "
                                    f"index k of np.argmax(window) is (k // {kw}, k % {kw}), "
                                    f"np.unravel_index(k, ({kh}, {kw})), not (k % {kw}, k // {kw})")}
    return Hint("max-pool gradient routed to another entry of the window",
                f"each window's δ reaches one "
                f"entry of its window, but not its arg-max{how.get(frozenset(routes), '')}; max pooling's "
                f"gradient goes to the entry that gave the maximum (the first on ties).")
