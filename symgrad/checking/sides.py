"""Both sides of every kink: before a claim is called equal, every kink argument u of f — each
entry of it, for a matrix — has been seen positive and negative at the test points.

Why: a claim that leaves out relu′, or gets the inner derivative of relu(w·x + b) wrong, differs
from the gradient on one side of u = w·x + b only (x·H(u) vs x: only where u < 0; w·H(u) vs x·H(u):
only where u > 0), and three random points can all fall on the other side.

How: the sides seen at the usual points are tallied per (kink site, entry) — a site is one kink
argument of one elementwise equation of f's graph (`sampling.KinkSites`), so nested kinks
(relu(relu(u) − 1)), max/min (the difference of their arguments) and matrix arguments
(relu(W·x + b), entry by entry) are all counted. For each side not seen, a point is searched for:

1. the free values of a point negated (u = w·x + b changes sign with w, x, b when b dominates);
2. the points of the lines of earlier searches (a point on the wrong side of one entry is often on
   the right side of another: a conv layer's relu has thousands of entries);
3. lines through the points: a random direction d, and p + t·d for t = ±½, ±1, ±2, ±4, ±8, ±16,
   where u has crossed 0 and is at least the kink margin past it.

A point found must be usable like any other: f and its gradient finite (inside f's domain), every
value inside its bounds (`assumptions`, a declared sign), every kink at least the margin away. Only
the values not given with ``at=`` move (distribution targets stay put).

The guarantee is per entry: each entry of each kink argument is seen on both sides at some point,
not every combination of sides of several kinks at once (2ⁿ of them for n kinks) — but for n ≤
`MOST_COMBINED` entries in all (a formula's few kinks) every combination is searched for too
(`_cover_combinations`): a Huber loss's claim wrong only where |x| > 1 and x < 0 at once. A side that no
search reaches — relu(x² + x + 1) is never negative; a value given with ``at=`` cannot move — is
reported in the verdict's method rather than assumed. A side the argument cannot have by
construction (`kink_signs`: the sum of squares inside sg.norm, the outer argument of relu(relu(u)))
is neither searched for nor reported, and its site is not counted.

>>> import sympy as sp, symgrad as sg, numpy as np
>>> from symgrad.checking.sampling import Sampler
>>> from symgrad.core.differentiate import differentiate
>>> w, x, b = sp.symbols('w x b', real=True)
>>> f = sg.relu(w*x + b)
>>> D = differentiate(f, [w])
>>> s = Sampler(f, D, [w], [b, x], {}, None, np.random.default_rng(0), None)
>>> pts, cov = cover(s, s.points(1))
>>> sorted(side for _, _, side in set().union(*(s.sides(p) for p in pts)))
[-1, 1]
>>> cov.unreached
[]
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .kink_signs import never_sides
from .sampling import KINK_MARGIN

STEPS = (0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 4.0, -4.0, 8.0, -8.0, 16.0, -16.0)
LINES = 12          # random lines tried per missing side (each through one of the points)
MOST_COMBINED = 3   # kink entries whose every combination of sides is searched for (2ⁿ combinations)


@dataclass
class Coverage:
    """What the points cover: ``entries`` kink entries (over every site), ``found`` points added
    to reach a side, and ``unreached`` the sides no point reached, in words."""
    entries: int = 0
    found: int = 0
    unreached: list = field(default_factory=list)
    combined: tuple = ()        # (entries, combinations of their sides not reached, points added), when searched

    def describe(self) -> str:
        if not self.entries:
            return ""
        if not self.unreached:
            added = f", {self.found} point(s) added to reach a side" if self.found else ""
            both = ""
            if self.combined:
                n, missing, more = self.combined
                for_them = f" ({more} point(s) added for them)" if more else ""
                both = (f"; every combination of their sides seen{for_them}" if not missing else
                        f"; {2 ** n - missing} of the {2 ** n} combinations of their sides seen{for_them} (the "
                        f"others not reached, or impossible)")
            return f"every kink argument seen on both sides ({self.entries} entr{'y' if self.entries == 1 else 'ies'}{added}){both}"
        shown = "; ".join(self.unreached[:3]) + (f"; and {len(self.unreached) - 3} more"
                                                 if len(self.unreached) > 3 else "")
        return (f"kink sides NOT reached inside f's domain, moving the values not given with at= "
                f"(tested on the other side only): {shown}")


def cover(sampler, pts: list, budget: int = 400):
    """``pts`` plus points that put every kink entry on both sides; and the `Coverage`.
    ``budget`` bounds the candidate points evaluated in all (each costs one evaluation of f's graph).
    The sides seen are kept as one boolean array per site and side (a conv layer's relu has
    thousands of entries: a set of them, rebuilt per point, was a good part of a check's time)."""
    cov = Coverage()
    if not sampler.kinks.sites or not pts:
        return pts, cov
    pts = list(pts)
    seen = None
    for p in pts:
        seen = _seen(sampler, sampler.site_values(p), seen)
    # a side the argument can never be on (‖x‖'s sum of squares < 0, relu(relu(u)) < 0) is neither
    # searched for nor reported: no point has it (`kink_signs`)
    never = never_sides(sampler.D.ir, sampler.kinks.sites)
    cov.entries = sum(pos.size for (pos, _), nv in zip(seen, never) if not nv)
    left, memo = [budget], {}
    for k in range(len(seen)):
        for e in range(seen[k][0].size):
            for j, side in ((0, 1), (1, -1)):
                if seen[k][j][e] or side in never[k]:
                    continue
                found = _search(sampler, pts, k, e, side, left, memo)
                if found is None:
                    cov.unreached.append(_describe_side(sampler, k, e, side))
                    continue
                p, U = found
                pts.append(p)
                cov.found += 1
                seen = _seen(sampler, U, seen)
    live = [(k, e) for k in range(len(seen)) for e in range(seen[k][0].size) if not never[k]]
    if 2 <= len(live) <= MOST_COMBINED and not cov.unreached:
        _cover_combinations(sampler, pts, live, cov, left, memo)
    return pts, cov


def _cover_combinations(sampler, pts, live, cov, left, memo):
    """Every combination of sides of a few kink entries (``live``, at most `MOST_COMBINED`): a claim
    wrong only where x < −1 of a Huber loss (|x| − 1 > 0 and x < 0) is right at points that see each
    kink on both sides but never that pair. A combination no search reaches is left (it may be
    impossible: x > 0 with x < −1), and the method says the combinations were not all seen."""
    from itertools import product

    def signs(U):
        return {tuple(int(np.sign(u[k][e])) for k, e in live) for u in U}
    have = set().union(*(signs(sampler.site_values(p)) for p in pts))
    missing = added = 0
    for combo in product((1, -1), repeat=len(live)):
        if combo in have:
            continue
        def want(U, combo=combo):
            return any(all(u[k][e] * sd >= KINK_MARGIN for (k, e), sd in zip(live, combo)) for u in U)
        found = _search(sampler, pts, live[0][0], live[0][1], combo[0], left, memo, want=want)
        if found is None:
            missing += 1
            continue
        p, U = found
        pts.append(p)
        added += 1                # said apart from cov.found, the points that reached a kink's side
        have |= signs(U)
    cov.combined = (len(live), missing, added)


def _seen(sampler, U, seen):
    """``seen`` (per site, [entries seen above, below]) with the sides of the site values ``U`` added."""
    masks = sampler.side_masks(U)
    if seen is None:
        return [[pos.copy(), neg.copy()] for pos, neg in masks]
    for s, (pos, neg) in zip(seen, masks):
        s[0] |= pos
        s[1] |= neg
    return seen


def _search(sampler, pts, k, e, side, left, memo=None, want=None):
    """A usable point where entry ``e`` of site ``k`` is on ``side`` (sign), with its site values,
    or None. ``memo`` keeps each point's reflection through the origin (the first candidate tried
    from it, the same for every entry) with its kink values and usability, evaluated once: a layer
    of thousands of relu entries searches for many entries, and re-evaluating it for each was most
    of a check's time."""
    if not sampler.pfree and not sampler.ifree:
        return None
    if want is None:
        def want(U):
            return any(u[k][e] * side >= KINK_MARGIN for u in U)
    memo = {} if memo is None else memo
    pool = memo.setdefault("pool", [])        # (point, kink values, usable?) of every line's point
    for r in range(LINES + len(pts)):
        base = pts[r % len(pts)]
        if r < len(pts):
            if id(base) not in memo:
                if left[0] <= 0:
                    return None
                left[0] -= 1
                memo[id(base)] = _candidate(sampler, sampler.shift(base, sampler.towards_origin(base), -2.0))
            c, U, ok = memo[id(base)]
            if c is not None and want(U):
                if ok is None:
                    ok = sampler.usable(c, U=U)
                    memo[id(base)] = (c, U, ok)
                if ok:
                    return c, U
            continue
        if r == len(pts):                  # the lines' points of earlier searches, before new lines
            for i, (c, U, ok) in enumerate(pool):
                if ok is not False and want(U):
                    ok = sampler.usable(c, U=U) if ok is None else ok
                    pool[i] = (c, U, ok)
                    if ok:
                        return c, U
        d, steps = sampler.direction(), STEPS
        for t in steps:
            if left[0] <= 0:
                return None
            left[0] -= 1
            c, U, _ = _candidate(sampler, sampler.shift(base, d, t))
            if c is None:
                continue
            if not want(U):
                pool.append((c, U, None))
                continue
            if sampler.usable(c, U=U):
                return c, U
            pool.append((c, U, False))
    return None


def _candidate(sampler, c):
    """(c, its kink values per example, None: usability not yet asked), or (None, None, False) for a
    point outside f's domain or the intervals."""
    if not sampler.inside(c):
        return None, None, False
    with np.errstate(all="ignore"):
        try:
            return c, sampler.site_values(c), None
        except (ArithmeticError, ValueError):
            return None, None, False


def _describe_side(sampler, k, e, side) -> str:
    """"u < 0" for the kink argument u of site ``k`` (its entry ``e`` for a matrix), in f's terms."""
    _, _, _, what = sampler.kinks.sites[k]
    rel = ">" if side > 0 else "<"
    return f"{site_text(sampler.D, sampler.kinks.sites[k], e)} {rel} 0 ({what})"


def site_text(D, site, e) -> str:
    """The kink argument u of ``site`` (its entry ``e`` for a matrix), in f's terms."""
    from ..core.to_sympy import SympyBuilder
    from ..core import rules as R
    eqn, _, u, what = site
    try:
        build = SympyBuilder(D.ir, getattr(D.lowering, "exprs", None))
        args = [build(v) for v in eqn.inputs]
        shape = tuple(int(d) for d in eqn.out.shape)
        if not shape:
            return str(u.xreplace(dict(zip(R.placeholders(len(args)), args))))
        idx = ", ".join(map(str, np.unravel_index(e, shape)))
        if u in R.placeholders(len(args)):
            return f"entry [{idx}] of {args[R.placeholders(len(args)).index(u)]}"
        return f"entry [{idx}] of the argument of {what} in {build(eqn.out)}"
    except Exception:  # noqa: BLE001 - the words are a courtesy; the side is reported regardless
        return f"the argument of {what}"


# -- a point given with at= that lies on a kink ------------------------------------------------------

ROUNDOFF = 1e-9      # a kink argument this close to 0 (relative to the values it is made of) is on it
REACH = 1e-3         # a kink this close is within the reach of the cross-check's difference quotient
SIDE_LINES = 16      # random lines through a kink point along which the gradient's limits are taken
SIDE_H = 1e-6        # how far along them (relative to the parameters' size): a point inside each piece


def kink_at(D, params, at, pt):
    """The kink entry nearest ``pt`` that the parameters move: (|u|, site, entry), or None when f
    has none. A kink of inputs given with at= alone is left out (the gradient never crosses it)."""
    from .sampling import KinkSites
    pnames = {w.name for w in params}
    fixed = frozenset(n for n in (k if isinstance(k, str) else getattr(k, "name", k) for k in (at or {}))
                      if n not in pnames)
    sites = KinkSites(D.ir, [D.output], fixed)
    best = None
    with np.errstate(all="ignore"):
        for i in range(len(pt.examples)):
            for site, u in zip(sites.sites, sites.values(pt.example(i))):
                a = np.abs(u)
                if a.size and not np.all(np.isnan(a)):
                    e = int(np.nanargmin(a))
                    if best is None or a[e] < best[0]:
                        best = (float(a[e]), site, e)
    return best


def on_kink(D, params, at, pt, reach=ROUNDOFF):
    """`kink_at` when its |u| is within ``reach`` (relative to the parameters' size), else None."""
    found = kink_at(D, params, at, pt)
    return found if found is not None and found[0] <= reach * (1.0 + _size(pt, params)) else None


def _size(pt, params) -> float:
    return max((float(np.max(np.abs(np.asarray(pt.params[w.name], float)), initial=0.0)) for w in params),
               default=0.0)


def limit_gradients(params, pt, truth_of, rng) -> np.ndarray:
    """The gradient's limits at ``pt`` from the pieces of f around it: symgrad's gradient at
    pt ± h·d, h and 2h along `SIDE_LINES` random directions d of the parameters, extrapolated to
    h → 0 (2·g(h) − g(2h)); one row per distinct limit (the parameters flattened in order). Their
    convex hull is f's subdifferential at pt (Clarke's: at a tie of Max the convex combinations of
    the tied arguments' derivatives, at relu's kink [0, 1])."""
    from .sampling import _Point
    h = SIDE_H * (1.0 + _size(pt, params))

    def moved(d, t):
        pv = {k: v for k, v in pt.params.items()}
        for w in params:
            pv[w.name] = np.asarray(pt.params[w.name], float) + t * d[w.name]
            if np.ndim(pt.params[w.name]) == 0:
                pv[w.name] = float(pv[w.name])
        examples = [{**ex, **{k: pv[k] for k in ex if k in pv}} for ex in pt.examples]
        return _Point(pv, examples, pt.batched)

    rows = []
    with np.errstate(all="ignore"):
        for _ in range(SIDE_LINES):
            d = {w.name: rng.standard_normal(np.shape(pt.params[w.name])) for w in params}
            for s in (1.0, -1.0):
                g1 = np.concatenate([np.ravel(g) for g in truth_of(moved(d, s * h))])
                g2 = np.concatenate([np.ravel(g) for g in truth_of(moved(d, 2 * s * h))])
                g = 2 * g1 - g2
                if np.all(np.isfinite(g)):
                    rows.append(g)
    if not rows:
        return np.empty((0, 0))
    scale = 1e-7 * (1.0 + max(float(np.abs(r).max(initial=0.0)) for r in rows))
    distinct = []
    for r in rows:
        if not any(np.abs(r - q).max(initial=0.0) <= scale for q in distinct):
            distinct.append(r)
    return np.array(distinct)


def in_hull(vertices: np.ndarray, c: np.ndarray, tol: float) -> bool:
    """Is ``c`` a convex combination of the rows of ``vertices`` (within ``tol``, max-norm)? Decided
    over the subsets of at most 10 rows (Carathéodory: c lies in the hull of affinely independent
    ones, with weights ≥ 0 from least squares on them and Σ = 1); False when there are more."""
    from itertools import combinations
    k = len(vertices)
    if k == 0 or k > 10:
        return False
    for n in range(1, k + 1):
        for S in combinations(range(k), n):
            V = vertices[list(S)]
            A = np.vstack([V.T, np.ones((1, n))])
            b = np.concatenate([c, [1.0]])
            lam, *_ = np.linalg.lstsq(A, b, rcond=None)
            if lam.min() >= -1e-9 and np.abs(V.T @ lam - c).max(initial=0.0) <= tol and abs(lam.sum() - 1) <= 1e-9:
                return True
    return False
