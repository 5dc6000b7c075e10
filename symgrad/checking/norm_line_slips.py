"""Name three slips of a norm layer's dx that keep its statistics' axes right (cs231n's
batchnorm_backward_alt and its staged batchnorm_backward):

    x for xhat      dx = (N * dxhat - dxhat.sum(0) - xhat * (dxhat * x).sum(0)) / (N * std), the input
                    x (or x - mu) inside the second sum where xhat belongs — in the form with gamma out
                    of the sums too, gamma * istd / N * (N * dout - dout.sum(0) - xhat * (dout * x).sum(0))
    ddof=1          the backward's std and xhat from x.var(axis=0, ddof=1) (np.std's or torch's unbiased
                    default) while the forward's variance divides by N
    dmu's axis      a staged backward's dmu = -np.sum(dx1, axis=1, keepdims=True) where mu = x.mean(axis=0)
                    gives dmu = -np.sum(dx1, axis=0): dx = dx1 + dmu / N, dx1 the gradient with mu held
                    constant (f derived again with the mean as a constant tensor)

Each is computed in NumPy at the check's points from x, f's own eps and dxhat = D·std, D the gradient
with the statistics held constant (`norm_dx_hints._held_constant`), as `norm_sum_axes_hint` does,
and compared with the claim at every point. (A staged backward's 1/(N − 1) on the variance's path
alone is `variance_path_hint`: f derived again with that path's derivative scaled by N/(N − 1).)
"""
from __future__ import annotations

from itertools import combinations

import numpy as np

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs, same, value_at


def _pieces(case: Case):
    """(v, n, A, per point (claim, x, xhat, std, dxhat, eps, gamma choices)) for the norm layer that
    normalises w, read in the statistics' shape; None where there is none or a point has a batch."""
    from .norm_dx_hints import _held_constant, _norm_of_w
    from .norm_sum_axes_hint import _gammas, point_statistics
    found = _norm_of_w(case)
    Cs, Ts = _fitted(case)
    if found is None or not differs(Cs, Ts) or any(len(p.examples) != 1 for p in case.points):
        return None
    v, n, base = found
    shape = tuple(int(d) for d in v.x.shape)
    A = v.axes
    Ds = _held_constant(case, v, Ts)
    if Ds is None:
        return None
    scales = [None] + _gammas(case, v, shape)
    rows = []
    for c, d, p in zip(Cs, Ds, case.points):
        vals = p.example(0)
        x, std, xhat, dxhat, eps = point_statistics(case, base, A, shape, vals, d)
        dout = np.asarray(vals["dout"], float) if "dout" in vals else None
        gammas = []
        for g in scales:                 # gamma outside the sums: the one with dxhat = dout * gamma
            gam = 1.0 if g is None else np.broadcast_to(np.asarray(vals[g.name], float), shape)
            if g is None or (dout is not None and np.size(dout) == dxhat.size
                             and same(dxhat, np.reshape(dout, shape) * gam)):
                gammas.append((None if g is None else g.name, gam))
        rows.append((np.reshape(c, shape), x, xhat, std, dxhat, eps, gammas))
    return v, n, A, rows


def _line(gam, g, n, std, xh_out, inner, A):
    """gamma * (n * g - g.sum(A) - xh_out * (g * inner).sum(A)) / (n * std)."""
    k = dict(axis=A, keepdims=True)
    return gam * (n * g - g.sum(**k) - xh_out * (g * inner).sum(**k)) / (n * std)


def _ax(A, rank) -> str:
    """The sums' keywords a student writes: axis=0 for a batch norm, keepdims=True for the others."""
    return "axis=0" if A == (0,) else f"axis={A[0] if len(A) == 1 else A}, keepdims=True"


def _fits(rows, slipped):
    """The (gamma name or None, label) pairs that ``slipped(row, gam, g)`` yields matching the claim at
    every point; ``slipped`` yields (label, value)."""
    fits = None
    for row in rows:
        c, gammas = row[0], row[-1]
        here = set()
        for gname, gam in gammas:
            for label, value in slipped(row, gam, row[4] / gam):
                if same(c, value):
                    here.add((gname, label))
        fits = here if fits is None else fits & here
        if not fits:
            return set()
    return fits


def norm_x_for_xhat_hint(case: Case):
    """dx's second sum of dxhat * x (or * (x - mu)) where dxhat * xhat belongs."""
    got = _pieces(case)
    if got is None:
        return None
    v, n, A, rows = got

    def slipped(row, gam, g):
        c, x, xhat, std = row[:4]
        xmu = x - x.mean(axis=A, keepdims=True)
        yield "x", _line(gam, g, n, std, xhat, x, A)
        yield "x - mu", _line(gam, g, n, std, xhat, xmu, A)
    fits = _fits(rows, slipped)
    if not fits:
        return None
    gname, what = sorted(fits, key=lambda f: (f[0] is not None, f[0] or "", f[1]))[0]
    g, pre = ("dxhat", "") if gname is None else ("dout", f"{gname} * ")
    w, ax, size = case.w.name, _ax(A, len(v.x.shape)), ("N" if A == (0,) else "n")
    inner = f"({g} * {w})" if what == "x" else f"({g} * ({w} - mu))"
    outside = sorted(f[0] for f in fits if f[0] is not None and f[1] == what)
    also = (f" (or, with {outside[0]} outside the sums, xhat * {inner.replace(g, 'dout')}.sum({ax}))"
            if gname is None and outside else "")
    return Hint(f"{what} where xhat belongs in dx's second sum",
                f"the claim is dx = {pre}({size} * {g} - "
                f"{g}.sum({ax}) - xhat * {inner}.sum({ax})) / ({size} * std){also}; the sum is of {g} * xhat, "
                f"the normalised input (xhat = ({w} - mu) / std): xhat * ({g} * xhat).sum({ax}).")


def norm_ddof_hint(case: Case):
    """The backward's std and xhat from the variance over N − 1 entries (ddof=1) where the forward's
    divides by N."""
    got = _pieces(case)
    if got is None or got[1] < 2 or int(got[0].correction) != 0:
        return None
    v, n, A, rows = got

    def slipped(row, gam, g):
        c, x, xhat, std, dxhat, eps = row[:6]
        std1 = np.sqrt(x.var(axis=A, keepdims=True, ddof=1) + eps)
        xh1 = (x - x.mean(axis=A, keepdims=True)) / std1
        yield "both", _line(gam, g, n, std1, xh1, xh1, A)
    if not _fits(rows, slipped):
        return None
    w, ax = case.w.name, _ax(A, len(v.x.shape))
    size = "N" if A == (0,) else "n"
    return Hint(f"variance over {size} − 1 in the backward",
                f"the claim's std and xhat come from "
                f"{w}.var({ax}, ddof=1) (np.std's ddof=1, torch's unbiased default), where the forward's "
                f"variance divides by {size} = {n}: std = np.sqrt({w}.var({ax}) + eps), as the forward "
                f"computed it (take std and xhat from the forward's cache).")


def dmu_axis_hint(case: Case):
    """A staged backward's dmu summed over other axes than mu's: dx = dx1 - dx1.sum(B) / k."""
    from .norm_dx_hints import _held_constant, _norm_of_w
    found = _norm_of_w(case)
    Cs, Ts = _fitted(case)
    if found is None or not differs(Cs, Ts) or found[0].x != case.w:
        return None
    v, n, _ = found
    A = v.axes
    shape = tuple(int(d) for d in v.x.shape)
    D1 = _held_constant(case, v, Ts, variance=False)          # dx1: the gradient with mu held constant
    if D1 is None:
        return None
    D1 = [d.reshape(shape) for d in D1]
    rank = len(shape)
    fits = None
    for c, d1 in zip(Cs, D1):
        c = np.reshape(c, shape)
        here = set()
        for r in range(1, rank + 1):
            for B in combinations(range(rank), r):
                if B == A:
                    continue
                m = int(np.prod([shape[a] for a in B]))
                for k in dict.fromkeys((n, m)):
                    if same(c, d1 - d1.sum(axis=B, keepdims=True) / k):
                        here.add((B, k))
        fits = here if fits is None else fits & here
        if not fits:
            return None
    B, k = sorted(fits)[0]
    w = case.w.name
    size = "N" if A == (0,) else "n"
    kk = size if k == n else str(k)
    axb = f"axis={B[0]}" if len(B) == 1 else ("" if len(B) == rank else f"axis={B}")
    axa = f"axis={A[0]}" if len(A) == 1 else f"axis={A}"
    return Hint("dmu summed over the wrong axes",
                f"the claim is dx = dx1 + dx2 with dmu = -np.sum(dx1, {axb}"
                f"{', ' if axb else ''}keepdims=True) and dx2 = dmu / {kk}, dx1 (dxmu1 + dxmu2) being the gradient "
                f"at {w} with mu held constant; mu = {w}.mean({axa}) broadcasts along {axa.replace('axis=', 'axis ')}, "
                f"so its gradient is summed there: dmu = -np.sum(dx1, {axa}), dx2 = dmu / {size} "
                f"({size} = {n}).")


def variance_path_hint(case: Case):
    """A staged backward's 1/(N − 1) on the variance's path alone (dsq = 1 / (N - 1) * ... * dvar):
    f derived again with each variance's derivative scaled by n/(n − 1), its value kept."""
    from ..frontend import tensor as T
    from .hint_case import _variances
    from .layer_hints import _rebuilt
    from .norm_dx_hints import _norm_of_w
    found = _norm_of_w(case)
    Cs, Ts = _fitted(case)
    if found is None or not differs(Cs, Ts):
        return None
    v, n, _ = found
    if n < 2 or int(v.correction) != 0:
        return None
    k = n / (n - 1)
    Vc = T.tensor("_Vc", tuple(T.shape_of(v)))
    slipped = _rebuilt(case.f, {v: k * v + Vc})

    def extra(vals):
        return {Vc.name: (1 - k) * value_at(v, vals)}
    if not _claim_is_gradient_of(case, slipped, extra):
        return None
    size = "N" if v.axes == (0,) else "n"
    return Hint(f"1/({size} − 1) on the variance's path",
                f"the claim takes the variance's derivative as "
                f"2 * (x - mu) / ({size} - 1) (dsq = 1 / ({size} - 1) * np.ones_like(x) * dvar) where the "
                f"forward's variance divides by {size} = {n}: dsq = 1 / {size} * np.ones_like(x) * dvar; "
                f"the backward differentiates the forward as it was computed.")
