"""Name a norm layer's one-line dx whose sums run over other axes than its statistics:

    dx = (1/n) * istd * (n * dxhat - dxhat.sum(axis=B) - xhat * (dxhat * xhat).sum(axis=B))

with x̂ and istd right (over the axes A the forward's mean and variance take), and the two sums
(and their count n) over B ≠ A (every axis too: dxhat.sum() with no axis=); or the backward's
mean and variance taken with no axis=, x.mean() and x.var(), its sums right — a layer norm's backward written from batch norm's with the axis of
the sums left at 0, or the reverse. The whole layer over the other axes is `norm_axes_hint`'s
("normalisation axes swapped"); this is the slip on dx's line alone, which that one does not fit.

At each point the slipped dx is computed in NumPy from x (its mean, variance and x̂ over A, the
std from f's own var + eps), and dxhat = D·std, D the gradient with the statistics held constant
(`norm_dx_hints._held_constant`); the claim is compared with it for each other set of axes B, the
count n taken over B and, as a student who changed only the axis may leave it, over A. A group
norm's statistics are of x.reshape(N, G, -1): its x, dxhat and the claim are read in that shape.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np

from .hint_kind import Hint
from .hint_case import Case, _fitted, differs, same, value_at


def point_statistics(case: Case, base, A, shape, vals, d):
    """At one point's values: (x, std, xhat, dxhat, eps) of the norm layer over axes ``A`` whose
    variance + eps is ``base``, read in the statistics' ``shape``; dxhat from ``d``, the gradient with
    the statistics held, and eps f's own, read back."""
    x = np.asarray(vals[case.w.name], float).reshape(shape)
    kept = tuple(1 if a in A else s for a, s in enumerate(x.shape))
    std = np.sqrt(value_at(base, vals)).reshape(kept)
    xhat = (x - x.mean(axis=A, keepdims=True)) / std
    eps = float(np.mean(std ** 2 - x.var(axis=A, keepdims=True)))
    return x, std, xhat, np.reshape(d, shape) * std, eps


def norm_sum_axes_hint(case: Case):
    from .norm_dx_hints import _held_constant, _norm_of_w
    found = _norm_of_w(case)
    Cs, Ts = _fitted(case)
    if found is None or not differs(Cs, Ts) or any(len(p.examples) != 1 for p in case.points):
        return None
    v, n, base = found
    shape = tuple(int(d) for d in v.x.shape)        # a group norm's statistics are of x.reshape(N, G, -1)
    A = v.axes
    Ds = _held_constant(case, v, Ts)
    if Ds is None:
        return None
    rank = len(shape)
    others = [B for r in range(1, rank + 1) for B in combinations(range(rank), r) if B != A]   # all: no axis=
    # the one-line form with gamma taken out of the sums, (1/N) * gamma * istd * (N*dout - dout.sum(0) - ...):
    # the same where gamma is constant along the sums' axes, not along others — so it is tried too, with
    # dout = dxhat / gamma for each tensor of f that broadcasts to x (gamma), x's own norm layer only
    scales = [None] + _gammas(case, v, shape)
    pairs = [(B1, B2) for B1 in [A] + others for B2 in [A] + others if B1 != B2]
    fits = None
    for c, d, p in zip(Cs, Ds, case.points):
        vals = p.example(0)
        x, std, xhat, dxhat, eps = point_statistics(case, base, A, shape, vals, d)
        c = np.reshape(c, shape)
        s_all = np.sqrt(x.var() + eps)               # the backward's statistics with no axis=: x.mean(), x.var()
        xh_all = (x - x.mean()) / s_all
        here = set()
        for gname in scales:
            gam = 1.0 if gname is None else np.broadcast_to(np.asarray(vals[gname.name], float), shape)
            if gname is not None and np.any(np.abs(gam) < 1e-8):
                continue
            g = dxhat / gam
            for B in others:
                m = int(np.prod([x.shape[a] for a in B]))
                sums = g.sum(axis=B, keepdims=True), (g * xhat).sum(axis=B, keepdims=True)
                for k in (m, n):
                    if same(c, gam * (k * g - sums[0] - xhat * sums[1]) / (k * std)):
                        here.add((B, k, None if gname is None else gname.name))
            for B1, B2 in pairs:         # the two sums on different axes (one of them may be right)
                for k in dict.fromkeys((n,) + tuple(int(np.prod([x.shape[a] for a in B])) for B in (B1, B2))):
                    if same(c, gam * (k * g - g.sum(axis=B1, keepdims=True)
                                      - xhat * (g * xhat).sum(axis=B2, keepdims=True)) / (k * std)):
                        here.add(((B1, B2), k, None if gname is None else gname.name))
            if len(A) < rank:
                sums = g.sum(axis=A, keepdims=True), (g * xh_all).sum(axis=A, keepdims=True)
                if same(c, gam * (n * g - sums[0] - xh_all * sums[1]) / (n * s_all)):
                    here.add(((), n, None if gname is None else gname.name))     # (): the statistics slipped
        fits = here if fits is None else fits & here
        if not fits:
            return None
    B, k, gname = sorted(fits, key=lambda f: (f[2] is not None, f[2] or "", bool(f[0]) and isinstance(f[0][0], tuple), f[:2]))[0]
    ax = lambda a: "" if len(a) == rank else f"axis={a[0]}" if len(a) == 1 else f"axis={a}"   # noqa: E731
    words = lambda a: f"axis {a[0]}" if len(a) == 1 else f"axes {a}"  # noqa: E731
    kd = lambda a: "" if len(a) == rank else ", keepdims=True"        # noqa: E731
    of = "" if v.x == case.w else f" of {case.w.name}.reshape{shape}"
    if B == ():
        return Hint("the backward's statistics over every entry",
                    f"the claim is dx with the mean and variance "
                    f"(and so xhat and std) taken over all of {case.w.name}'s entries — {case.w.name}.mean() and "
                    f"{case.w.name}.var() with no axis= — where the forward takes them over {words(A)}{of}: "
                    f"mu = {case.w.name}.mean({ax(A)}{kd(A)}), var = {case.w.name}.var({ax(A)}{kd(A)}).")
    g, pre = ("dxhat", "") if gname is None else ("dout", f"{gname} * ")
    if isinstance(B[0], tuple):               # two sums, on different axes
        B1, B2 = B
        return Hint("dx's two sums on different axes",
                    f"the claim is dx = {pre}(n * {g} - {g}.sum({ax(B1)}) - "
                    f"xhat * ({g} * xhat).sum({ax(B2)})) / (n * std) with n = {k}, where the mean and variance "
                    f"(and xhat, std) are taken over {words(A)}{of}; both sums run over the forward's axes: "
                    f"{g}.sum({ax(A)}{kd(A)}), ({g} * xhat).sum({ax(A)}{kd(A)}), and n = {n}.")
    return Hint("dx's sums over the wrong axes",
                f"the claim is dx = {pre}(n * {g} - {g}.sum({ax(B)}) - xhat * "
                f"({g} * xhat).sum({ax(B)})) / (n * std) with n = {k}, where the mean and variance (and "
                f"xhat, std) are taken over {words(A)}{of}; dx's sums run over the forward's axes: "
                f"{g}.sum({ax(A)}{kd(A)}), ({g} * xhat).sum({ax(A)}{kd(A)}), and n = {n}, "
                f"the entries they average over.")


def _gammas(case, v, shape) -> list:
    """f's tensors that may be the layer's gamma, taken out of dx's sums: each that broadcasts to x
    (not w, a dout or an integer tensor), in name order; none unless the variance is of w itself."""
    from ..frontend import tensor as T
    if v.x != case.w:
        return []
    return [t for t in sorted(case.f.atoms(T.Tensor), key=lambda t: t.name)
            if t != case.w and not t.name.startswith("dout") and not t.is_integer_tensor
            and _broadcasts(tuple(int(d) for d in t.shape), shape)]


def _broadcasts(small, shape) -> bool:
    """Does an array of shape ``small`` broadcast to ``shape`` (NumPy's rule, from the right)?"""
    if len(small) > len(shape):
        return False
    return all(a in (1, b) for a, b in zip(small[::-1], shape[::-1]))
