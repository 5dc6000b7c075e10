"""Name a max-pool backward that sends each window's δ to another entry of the window than its
arg-max: cs231n's max_pool_backward_naive with ``np.argmin`` for ``np.argmax``, or the flat index
unravelled the wrong way round (``k % WW, k // WW`` for ``np.unravel_index(k, (HH, WW))``). Its
numbers are the gradient's, in other places, so `layer_hints.permuted_hint` would read it as a
reshape without its transpose.

Decided window by window at each point, for f with one 2-d max pool of the wrt tensor itself, with
windows that tile it (stride = kernel, no padding): every window of the claim holds the same numbers
as the gradient's window (δ at one entry, zeros elsewhere), and the entries outside every window
agree. Which entry — the arg-min, or the arg-max's transposed place — is said when every window
shows it.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

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


def pool_route_hint(case: Case):
    k = _pool_of(case)
    Cs, Ts = _fitted(case)
    if k is None or any(c is None or c.ndim != 4 for c in Cs) or all_same(Cs, Ts):
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
    how = {frozenset({"argmin"}): " — to the window's arg-min: np.argmin where np.argmax belongs",
           frozenset({"swapped"}): (f" — to the arg-max's place with its row and column swapped: the flat "
                                    f"index k of np.argmax(window) is (k // {kw}, k % {kw}), "
                                    f"np.unravel_index(k, ({kh}, {kw})), not (k % {kw}, k // {kw})")}
    return (f"max-pool gradient routed to another entry of the window: each window's δ reaches one "
            f"entry of its window, but not its arg-max{how.get(frozenset(routes), '')}; max pooling's "
            f"gradient goes to the entry that gave the maximum (the first on ties).")
