"""Where to test a gradient numerically: points inside f's domain and away from its kinks, and
points on the kinks on purpose. A point (`_Point`) is the parameters' values and one example of the
inputs, or B examples when a callable claim takes a batch.

A claim about ∂f/∂w is compared with symgrad's derivative at a few random points. Two things make a
random point a bad witness:

- it lies outside f's domain (log of a negative number, sqrt of one): f is NaN there, so nothing can
  be compared. Points are drawn from N(0, 1) first; when f or its gradient is not finite the draw is
  repeated from intervals that keep logs and square roots real: (0.2, 1.5), then (0.1, 0.9) (which
  also keeps log(1 − p) real for probabilities). A symbol declared ``positive=True`` in SymPy, or
  given an interval in ``assumptions``, is always drawn from it.
- it lies on or near a kink of relu, |·|, max, min, sign or a step: there f has no derivative, and
  a convention (symgrad's subgradient policy) decides. The argument u of every such function is
  evaluated at the point (over every entry, for matrices) and the point is rejected when |u| < 0.05.
  Kinks are then probed on purpose, separately (`kink_points`), so that a claim differing only there
  is reported as such.

>>> import sympy as sp, symgrad as sg, numpy as np
>>> z = sp.Symbol('z')
>>> sorted(str(u) for u in kink_arguments(sg.relu(z) + sp.Abs(z - 1)))
['z', 'z - 1']
"""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping

import numpy as np
import sympy as sp

from .claims import _shape
from ..errors import SymgradError
from ..core.evaluate import evaluate
from ..frontend.functions import leaky_relu, relu

KINK_MARGIN = 0.05
# Interval sets tried in turn when a point falls outside f's domain.
_FALLBACK_INTERVALS = [None, (0.2, 1.5), (0.1, 0.9)]


def kinks(expr) -> list:
    """[(u, what)]: the expressions u whose zero is a kink of ``expr`` and the function that has it
    (see `_kinks`); kinks stated in a map's own variable appear through the map's argument."""
    return [(u, w) for u, w in _kinks(expr).items()
            if not any(isinstance(v, sp.Dummy) for v in u.free_symbols)]


def _kinks(expr) -> dict:
    """{u: what}: the expressions u whose zero is a kink of ``expr`` and the function that has it:
    relu(u), leaky_relu(u), |u|, sign(u), Heaviside(u), the differences of the arguments of Max/Min,
    lhs − rhs of Piecewise conditions. Searched through elementwise maps too (in terms of the map's
    own variable)."""
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
    out: dict = {}
    for node in sp.preorder_traversal(sp.sympify(expr)):
        if isinstance(node, ElementwiseApplyFunction):
            # relu(M) is Map(t ↦ relu(t), M): its kinks are where an entry of M is 0.
            t = node.function.variables[0]
            for u, what in _kinks(node.function.expr).items():
                if u == t:
                    out.setdefault(node.expr, what)
            continue
        if isinstance(node, (relu, leaky_relu, sp.Abs, sp.sign, sp.Heaviside)):
            out.setdefault(node.args[0], type(node).__name__)
        elif isinstance(node, (sp.Max, sp.Min)):
            a = node.args
            for i in range(len(a)):
                for j in range(i + 1, len(a)):
                    out.setdefault(a[i] - a[j], type(node).__name__)
        elif isinstance(node, sp.Piecewise):
            for _, cond in node.args:
                if isinstance(cond, sp.core.relational.Relational):
                    out.setdefault(cond.lhs - cond.rhs, "Piecewise")
    return out


def kink_arguments(expr) -> list:
    """The kink arguments u of ``expr`` (see `kinks`)."""
    return [u for u, _ in kinks(expr)]


@lru_cache(maxsize=1024)
def _body_kinks(body):
    """Kink arguments of an ewise body, lambdified over its placeholders (a tuple, or None when
    there are none). Cached per body: `kink_distance` runs at every candidate point, and the same
    bodies come back each time."""
    from ..core import rules as R
    args = kink_arguments(body)
    if not args:
        return None
    n = 1 + max((int(s.name[1:]) for s in body.free_symbols if s in R._PH_SET), default=-1)
    return tuple(sp.lambdify(R.placeholders(n), u, modules="numpy") for u in args)


def kink_distance(graph, outs, values: Mapping) -> float:
    """The smallest |u| over every kink argument u of every elementwise equation that ``outs``
    depend on, evaluated at ``values`` (inf when there is no kink)."""
    from ..core import rules as R
    eqns = graph.ancestors(list(outs))
    env = dict(zip((e.out.id for e in eqns), evaluate(graph, [e.out for e in eqns], values)))
    best = np.inf
    for e in eqns:
        if e.prim is not R.ewise_p:
            continue
        fns = _body_kinks(e.params[0])
        for fn in fns or ():
            with np.errstate(all="ignore"):
                u = np.asarray(fn(*[env[v.id] for v in e.inputs]), dtype=float)
            if u.size:
                best = min(best, float(np.nanmin(np.abs(u))))
    return best


def interval_of(sym, assumptions: Mapping | None, attempt: int):
    """The sampling interval of ``sym`` (None: standard normal) on the given attempt."""
    if assumptions:
        a = assumptions.get(sym, assumptions.get(getattr(sym, "name", None)))
        if a is not None:
            return {"positive": (0.2, 2.0), "negative": (-2.0, -0.2), "unit": (0.1, 0.9)}.get(a, a) \
                if isinstance(a, str) else tuple(a)
    if getattr(sym, "is_positive", False):
        return (0.2, 2.0)
    if getattr(sym, "is_negative", False):
        return (-2.0, -0.2)
    return _FALLBACK_INTERVALS[min(attempt, len(_FALLBACK_INTERVALS) - 1)]


def draw(sym, shape, rng: np.random.Generator, interval):
    """One random value of ``sym``: a float for a scalar, an array of ``shape`` for a matrix."""
    size = None if shape == () else tuple(int(d) for d in shape)
    if interval is not None and interval[0] == "integers":       # labels: 0 … n − 1
        v = rng.integers(0, interval[1], size)
        return float(v) if size is None else np.asarray(v, dtype=float)
    v = rng.standard_normal(size) if interval is None else rng.uniform(*interval, size)
    return float(v) if size is None else np.asarray(v, dtype=float)


def kink_points(f, wrt_syms, base: Mapping, limit: int = 4) -> list:
    """Points on kinks of ``f``: for each scalar kink argument u, solve u = 0 for one of its symbols
    (a wrt symbol first) with the others at ``base``; for a matrix one (relu(W·x + b)), move the
    entry nearest 0 to exactly 0 through a matrix symbol that enters it additively (b).
    Returns [(point, u, what, index)], index None for scalars."""
    out = []
    for u, what in kinks(f):
        if len(out) >= limit:
            break
        if isinstance(u, sp.MatrixExpr):
            hit = _matrix_kink(u, base)
            if hit is not None:
                out.append((hit[0], u, what, hit[1]))
            continue
        syms = [s for s in u.free_symbols if isinstance(s, sp.Symbol) and not isinstance(s, sp.Dummy)]
        if not syms or u.has(sp.MatrixSymbol):
            continue
        syms.sort(key=lambda s: (s not in wrt_syms, s.name))
        s = syms[0]
        if any(t.name not in base for t in syms[1:]):
            continue
        rest = {t: sp.Float(base[t.name], 30) for t in syms[1:]}   # exact binary value, 30 digits
        try:
            sols = [r for r in sp.solve(u.xreplace(rest), s) if r.is_real]
        except Exception:      # noqa: BLE001 - sympy's solver fails in many ways; then no probe
            continue
        if sols:
            pt = dict(base)
            pt[s.name] = _exact_zero(u, s, float(sols[0]), pt)
            out.append((pt, u, what, None))
    return out


def _exact_zero(u, s, v: float, pt) -> float:
    """v, or a neighbouring float within 4 ulps at which u evaluates to exactly 0 in float64 (so
    that the kink is hit, not missed by rounding)."""
    syms = sorted(u.free_symbols, key=lambda t: t.name)
    fn = sp.lambdify(syms, u, modules="numpy")
    cand = [v]
    lo = hi = v
    for _ in range(4):
        lo, hi = np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)
        cand += [hi, lo]
    for c in cand:
        vals = {**pt, s.name: c}
        if float(fn(*[vals[t.name] for t in syms])) == 0.0:
            return float(c)
    return v


def _matrix_kink(M, base):
    """(point, (i, j)) with entry (i, j) of M exactly 0, or None. The entry nearest 0 is moved by a
    MatrixSymbol S of M's shape that is M itself or one of its added terms: S[i, j] −= M[i, j],
    repeated until float64 rounding gives exactly 0 (a Newton step of slope 1)."""
    from ..core.evaluate import numeric
    terms = [M] if isinstance(M, sp.MatrixSymbol) else list(M.args) if isinstance(M, sp.MatAdd) else []
    S = next((t for t in terms if isinstance(t, sp.MatrixSymbol) and t.shape == M.shape
              and t.name in base), None)
    if S is None:
        return None
    pt = {k: (np.array(v, dtype=float) if np.ndim(v) else v) for k, v in base.items()}
    pt[S.name] = pt[S.name].reshape(tuple(int(d) for d in S.shape)).copy()
    val = np.asarray(numeric(M, pt), dtype=float)
    i, j = (int(k) for k in np.unravel_index(int(np.argmin(np.abs(val))), val.shape))
    for _ in range(8):
        if val[i, j] == 0.0:
            return pt, (i, j)
        pt[S.name][i, j] -= val[i, j]
        val = np.asarray(numeric(M, pt), dtype=float)
    return (pt, (i, j)) if val[i, j] == 0.0 else None


# ---------------------------------------------------------------------------------------------------
# Points: parameter values and examples, drawn inside the domain and away from kinks


class _Point:
    """Parameter values and one or more examples (input values)."""

    def __init__(self, params: dict, examples: list, batched: dict | None):
        self.params, self.examples, self.batched = params, examples, batched

    def example(self, i=0) -> dict:
        return {**self.params, **self.examples[i]}

    def mean(self, fn) -> list:
        """The mean over the point's examples of ``fn(values)``, a list of arrays or floats (summed
        entry by entry in example order, then divided by the number of examples)."""
        acc = None
        for i in range(len(self.examples)):
            row = fn(self.example(i))
            acc = row if acc is None else [a + r for a, r in zip(acc, row)]
        return [a / len(self.examples) for a in acc]

    def shown(self) -> dict:
        return {**self.params, **(self.batched if self.batched is not None else self.examples[0])}


def _given(at, sym):
    for k in (sym, sym.name):
        if k in at:
            return at[k]
    return None


def _points(D, params, inputs, at, assumptions, rng, n, B):
    outs = [D.output] + [g for g in D.gradient_vars if g is not None]
    syms = list(params) + list(inputs)
    every_given = all(_given(at, s) is not None for s in syms)
    if every_given:
        n = 1
    pts, tries = [], 0
    while len(pts) < n:
        attempt = tries // 8
        if tries >= 40:
            if pts:
                break
            raise SymgradError("could not find a point inside f's domain away from its kinks "
                               "(f or its gradient was not finite, or a kink was always near); give "
                               "sampling intervals with assumptions={symbol: (lo, hi)} or values with at=")
        tries += 1
        pv = {}
        for w in params:
            g = _given(at, w)
            pv[w.name] = g if g is not None else draw(
                w, _shape(w), rng, interval_of(w, assumptions, attempt))
        examples, batched = [], None
        for b in range(B or 1):
            ex = {}
            for s in inputs:
                g = _given(at, s)
                if g is not None:
                    ex[s.name] = _unstack(g, s, b) if B else g
                else:
                    ex[s.name] = draw(s, _shape(s), rng, interval_of(s, assumptions, attempt))
            examples.append(ex)
        if B:
            batched = {s.name: _stack([ex[s.name] for ex in examples], s) for s in inputs}
        pt = _Point(pv, examples, batched)
        if _usable(D, outs, pt, given_all=n == 1 and tries == 1 and every_given):
            pts.append(pt)
    return pts


def _usable(D, outs, pt, given_all=False):
    with np.errstate(all="ignore"):
        for i in range(len(pt.examples)):
            vals = evaluate(D.ir, outs, pt.example(i))
            if not all(np.all(np.isfinite(v)) for v in vals):
                if given_all:
                    raise SymgradError("f or its gradient is not finite at the given point (at=)")
                return False
            if not given_all and kink_distance(D.ir, [D.output], pt.example(i)) < KINK_MARGIN:
                return False
    return True


def _stack(vals, s):
    """Per-example values -> one batched array: (n, 1) -> (B, n); scalars -> (B,)."""
    shape = _shape(s)
    a = np.stack([np.asarray(v, dtype=float) for v in vals])
    if shape and shape[1] == 1:
        a = a.reshape(len(vals), shape[0])
    return a


def _unstack(v, s, b):
    shape = _shape(s)
    a = np.asarray(v, dtype=float)[b]
    return float(a) if shape == () else a.reshape(shape)
