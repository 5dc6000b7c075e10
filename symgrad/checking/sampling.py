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
  Every kink argument must also be seen on both sides (`symgrad.checking.sides` adds points for a
  side not yet seen). Kinks are then probed on purpose, separately (`kink_points`), so that a claim
  differing only there is reported as such.

The target of a softmax cross-entropy is drawn as a distribution (`target_symbols`, `draw_target`).
A dropout mask (``sg.dropout``'s M, an input of f) is drawn as a program draws it (`draw_mask`): 0 or
1/(1 − p), never moved; a point where it were a normal random float would test a layer no program
runs.

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
from .conditioned_draw import draw_conditioned, inverted_matrices
from .soft_targets import draw_tensor_target, tensor_targets
from ..errors import SymgradError
from ..core.evaluate import evaluate
from ..frontend.functions import clip as Clip, leaky_relu, relu
from ..frontend.masks import DropoutMask, DropoutMaskScalar, DropoutMaskTensor

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


def _names(lo, hi) -> list:
    return sorted({s.name for s in (lo - hi).free_symbols})


def clip_bounds(f) -> list:
    """[(function of the bounds' symbols by name → (lo, hi), lo, hi)] for every clip of f whose
    bounds are not both numbers (clip(x, -c, c)): `Sampler.crossed_bounds` keeps lo < hi."""
    out = []
    for node in sp.preorder_traversal(f):
        if isinstance(node, Clip):
            _, lo, hi = node.args
            if (lo - hi).is_number or any(not isinstance(s, sp.Symbol) for s in (lo - hi).free_symbols):
                continue
            syms = [sp.Symbol(n) for n in _names(lo, hi)]
            plain = {s: sp.Symbol(s.name) for s in (lo - hi).free_symbols}
            out.append((sp.lambdify(syms, (lo.xreplace(plain), hi.xreplace(plain)), modules="numpy"), lo, hi))
    return out


def kink_arguments(expr) -> list:
    """The kink arguments u of ``expr`` (see `kinks`)."""
    return [u for u, _ in kinks(expr)]


@lru_cache(maxsize=1024)
def _body_kinks(body):
    """Kink arguments of an ewise body, lambdified over its placeholders: a tuple of (function, u,
    what), or None when there are none. Cached per body: kinks are evaluated at every candidate
    point, and the same bodies come back each time."""
    from ..core import rules as R
    found = kinks(body)
    if not found:
        return None
    n = 1 + max((int(s.name[1:]) for s in body.free_symbols if s in R._PH_SET), default=-1)
    return tuple((sp.lambdify(R.placeholders(n), u, modules="numpy"), u, what) for u, what in found)


def _varying(graph, eqns, fixed=frozenset()) -> set:
    """The ids of the variables whose value moves with some parameter or input: a kink of an
    equation made of constants alone (a resize's weight matrix, |i − j| of index grids) is the same
    at every point, never crossed and never to be reached. ``fixed``: the names of the inputs given
    with at=, constants too (an attention's attn_mask in where(attn_mask > 0, …))."""
    from ..core import rules as R
    from ..core.reverse import depends_on
    return depends_on(graph, [e.out for e in eqns if (e.prim is R.param_p or e.prim is R.input_p)
                              and getattr(e.params[0], "name", None) not in fixed])


def _moves(u, e, varying) -> bool:
    """Whether the kink argument u (over the placeholders of e's body) reads an input of e that
    moves: where(attn_mask > 0, scores, …) varies with the scores, its kink attn_mask alone not."""
    from ..core import rules as R
    idx = [int(s.name[1:]) for s in u.free_symbols if s in R._PH_SET]
    return not idx or any(e.inputs[i].id in varying for i in idx if i < len(e.inputs))


class KinkSites:
    """Every kink argument of the graph that ``outs`` depend on, as evaluated there: one site per
    (elementwise equation, kink argument of its body); a site's value at a point is an array with
    one entry per entry of the equation's output (one for a scalar). Nested kinks are separate
    sites: relu(relu(u) − 1) has u and relu(u) − 1."""

    def __init__(self, graph, outs, fixed=frozenset()):
        from ..core import rules as R
        self.graph = graph
        eqns = graph.ancestors(list(outs))
        varying = _varying(graph, eqns, fixed)
        self.sites = [(e, fn, u, what) for e in eqns if e.prim is R.ewise_p and e.out.id in varying
                      for fn, u, what in (_body_kinks(e.params[0]) or ()) if _moves(u, e, varying)]
        # only what the sites read is evaluated: a conv-relu-pool layer's pooling and loss are not
        self.eqns = graph.ancestors(list(dict.fromkeys(v for e, _, _, _ in self.sites for v in e.inputs)))

    def values(self, values: Mapping) -> list:
        """Per site, its entries at ``values`` (a flat float array)."""
        if not self.sites:
            return []
        env = dict(zip((e.out.id for e in self.eqns), evaluate(self.graph, [e.out for e in self.eqns], values)))
        out = []
        for e, fn, _, _ in self.sites:
            with np.errstate(all="ignore"):
                u = np.asarray(fn(*[env[v.id] for v in e.inputs]), dtype=float)
            out.append(np.broadcast_to(u, tuple(int(d) for d in e.out.shape)).reshape(-1))
        return out


def kink_distance(graph, outs, values: Mapping) -> float:
    """The smallest |u| over every kink argument u of every elementwise equation that ``outs``
    depend on, evaluated at ``values`` (inf when there is no kink)."""
    best = np.inf
    for u in KinkSites(graph, outs).values(values):
        if u.size:
            best = min(best, float(np.nanmin(np.abs(u))))
    return best


def interval_of(sym, assumptions: Mapping | None, attempt: int):
    """The sampling interval of ``sym`` (None: standard normal) on the given attempt."""
    a = _assumed(sym, assumptions)
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
        # an array of labels stays integer: a claim (a cs231n backward) indexes with it, x[arange(N), y]
        return float(v) if size is None else np.asarray(v, dtype=np.int64)
    v = rng.standard_normal(size) if interval is None else rng.uniform(*interval, size)
    return float(v) if size is None else np.asarray(v, dtype=float)


def dropout_rate(sym) -> float | None:
    """The drop probability p of a dropout mask (the M of ``sg.dropout(y, p)`` = y ⊙ M), else None."""
    return sym.p if isinstance(sym, (DropoutMask, DropoutMaskScalar, DropoutMaskTensor)) else None


def draw_mask(shape, p: float, rng: np.random.Generator):
    """A dropout mask as a compiled program draws it (inverted dropout): each entry 1/(1 − p) with
    probability 1 − p, else 0. An array of two or more entries is drawn again (up to 20 times) until
    it holds both a kept and a dropped entry, so that the point witnesses both.

    >>> import numpy as np
    >>> m = draw_mask((3, 4), 0.5, np.random.default_rng(0))
    >>> sorted(set(m.ravel().tolist()))
    [0.0, 2.0]
    """
    size = None if shape == () else tuple(int(d) for d in shape)
    for _ in range(20):
        m = (rng.random(size) >= p) / (1.0 - p)
        if size is None or np.prod(size) < 2 or 0 < np.count_nonzero(m) < m.size:
            break
    return float(m) if size is None else np.asarray(m, dtype=float)


def kink_points(f, wrt_syms, base: Mapping, limit: int = 4) -> list:
    """Points on kinks of ``f``: for each scalar kink argument u, a root of u along one of its
    symbols (a wrt symbol first) with the others at ``base`` (`_root_along`); for a matrix one
    (relu(W·x + b)), the entry nearest 0 moved to exactly 0 through a matrix symbol that enters it
    additively (b). Returns [(point, u, what, index)], index None for scalars."""
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
        if not syms or u.has(sp.MatrixSymbol) or any(t.name not in base for t in syms):
            continue
        syms.sort(key=lambda s: (s not in wrt_syms, s.name))
        fn = _numpy_function(u, tuple(syms))
        if fn is None:
            continue
        # Rounding can leave u a few ulps from 0 along one symbol (w·x + b along w); then the next
        # is tried (along b, b = −w·x is exact), and the first near-root is kept if none is exact.
        hit = None
        for s in syms:
            root = _root_along(fn, syms, s, base)
            if root is None:
                continue
            pt = dict(base)
            pt[s.name], exact = root
            if hit is None or exact:
                hit = pt
            if exact:
                break
        if hit is not None:
            out.append((hit, u, what, None))
    return out


@lru_cache(maxsize=256)
def _numpy_function(u, syms):
    """u lambdified over ``syms`` (None when NumPy cannot evaluate it); built once per kink, as the
    same f is checked at many seeds."""
    try:
        return sp.lambdify(syms, u, modules="numpy")
    except Exception:      # noqa: BLE001 - a kink argument NumPy cannot evaluate: no probe
        return None


def _root_along(fn, syms, s, base, steps: int = 60):
    """(v, exact): a value v of ``s`` at which u = ``fn`` crosses 0, the other symbols at ``base``,
    and whether u is exactly 0 there in float64 (so that the kink is hit, not missed by rounding);
    None when no crossing is found. The crossing is bracketed by stepping out from base in both
    directions (doubling the step), then narrowed by secant steps alternating with bisection (a
    secant step lands on the root of a linear u, relu(z) at z = 0 exactly), and the floats next to
    the best point are tried. Numerical, as sympy.solve can take seconds on nested kinks
    (1 − relu(w·x + b)). A bracket around a pole, not a root, is refused (|u| not tiny)."""
    vals = [float(base[t.name]) for t in syms]
    i = syms.index(s)

    def u(v):
        vals[i] = v
        with np.errstate(all="ignore"):
            return float(fn(*vals))
    a = float(vals[i])
    ua = u(a)
    if not np.isfinite(ua):
        return None
    if ua == 0.0:
        return a, True
    b = ub = None
    step = 0.01 * max(abs(a), 1.0)
    for _ in range(steps):
        for v in (a + step, a - step):
            uv = u(v)
            if np.isfinite(uv) and (uv == 0.0 or (uv > 0) != (ua > 0)):
                b, ub = v, uv
                break
        if b is not None:
            break
        step *= 2
    if b is None:
        return None
    scale = max(abs(ua), 1.0)
    for k in range(200):
        if ub == 0.0:
            return b, True
        m = a - ua * (b - a) / (ub - ua) if k % 2 == 0 else a + (b - a) / 2
        if not min(a, b) < m < max(a, b):
            m = a + (b - a) / 2
            if m in (a, b):
                break
        um = u(m)
        if not np.isfinite(um):
            return None
        if um == 0.0:
            return m, True
        if (um > 0) == (ua > 0):
            a, ua = m, um
        else:
            b, ub = m, um
    best = a if abs(ua) <= abs(ub) else b
    lo = hi = best
    for _ in range(4):
        lo, hi = np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)
        for v in (float(hi), float(lo)):
            if u(v) == 0.0:
                return v, True
    return (best, False) if abs(u(best)) <= 1e-12 * scale else None


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


TARGET_MODES = ("distribution", "one-hot", "free")


def target_symbols(f, params) -> list:
    """The targets of a softmax cross-entropy in ``f``: column inputs t (n ≥ 2 rows, not in wrt)
    that multiply the log of a softmax — −Σ t ⊙ log_softmax(z) as `sg.cross_entropy` builds it, or
    written out (tᵀ·log_softmax(z), t ⊙ log(softmax(z))). A target is a distribution (entries ≥ 0
    summing to 1), and softmax(z) − t is the gradient only for one.

    >>> import sympy as sp, symgrad as sg
    >>> z, t = sp.MatrixSymbol('z', 3, 1), sp.MatrixSymbol('t', 3, 1)
    >>> [s.name for s in target_symbols(sg.cross_entropy(z, t), [z])]
    ['t']
    >>> target_symbols(sg.mse(sg.softmax(z), t), [z])
    []
    """
    from ..frontend.functions import LogSoftmax, Softmax
    pnames = {w.name for w in params}

    def column(a):
        a = a.arg if isinstance(a, sp.Transpose) else a
        if not isinstance(a, sp.MatrixSymbol) or a.name in pnames:
            return None
        rows, cols = a.shape
        return a if rows.is_Integer and cols == 1 and rows >= 2 else None

    def log_of_softmax(a):
        return a.has(LogSoftmax) or (a.has(Softmax) and a.has(sp.log))

    found = {}
    for node in sp.preorder_traversal(sp.sympify(f)):
        if isinstance(node, (sp.HadamardProduct, sp.MatMul, sp.Mul)):
            for i, a in enumerate(node.args):
                t = column(a)
                if t is not None and any(log_of_softmax(b) for j, b in enumerate(node.args) if j != i):
                    found[t.name] = t
    return sorted(found.values(), key=lambda t: t.name)


def draw_target(shape, rng: np.random.Generator, kind: str) -> np.ndarray:
    """A random distribution column: uniform on the simplex (Dirichlet(1, …, 1): every entry > 0,
    summing to 1) or, for ``kind="one-hot"``, a random one-hot column."""
    n = int(shape[0])
    if kind == "one-hot":
        v = np.zeros(n)
        v[rng.integers(n)] = 1.0
    else:
        v = rng.dirichlet(np.ones(n))
    return v.reshape(tuple(int(d) for d in shape))


def _assumed(sym, assumptions: Mapping | None):
    """What ``assumptions`` says of ``sym`` (keyed by the symbol or its name), or None."""
    if not assumptions:
        return None
    return assumptions.get(sym, assumptions.get(getattr(sym, "name", None)))


def _is_labels(a) -> bool:
    """An ``("integers", n)`` range: integer class labels, drawn by `draw` in 0 … n − 1."""
    return isinstance(a, tuple) and len(a) == 2 and a[0] == "integers"


def not_finite_part(exprs, values) -> str | None:
    """The innermost part of ``exprs`` that is not finite at ``values`` while its arguments are, in
    words: "sqrt(x) is nan (outside its real domain)", "1/x is inf (a pole)"; None when none is found.

    >>> import sympy as sp
    >>> x, y = sp.symbols('x y', real=True)
    >>> not_finite_part([y + sp.log(x)], {'x': -1.0, 'y': 2.0})
    'log(x) is nan (outside its real domain)'
    >>> print(not_finite_part([x**sp.Rational(1, 3)], {'x': -8.0}))
    x**(1/3) is nan (outside its real domain: a fractional power of a negative number is complex — x**(1/3) is SymPy's principal root; the real root is sign(x)*Abs(x)**(1/3))
    """
    from ..core.evaluate import numeric
    for expr in exprs:
        for node in sp.postorder_traversal(expr):
            if not isinstance(node, (sp.Expr, sp.MatrixExpr)) or not node.args or node.is_number:
                continue
            try:
                with np.errstate(all="ignore"):
                    v = np.asarray(numeric(node, values), dtype=float)
            except Exception:  # noqa: BLE001 - only an explanation is looked for: skip what fails
                continue
            if np.all(np.isfinite(v)):
                continue
            text = sp.sstr(node)
            text = text if len(text) <= 60 else text[:57] + "..."
            if np.any(np.isnan(v)):
                why = "outside its real domain"
                if isinstance(node, sp.Pow) and node.exp.is_Rational and not node.exp.is_Integer:
                    n = node.exp.q
                    b = sp.sstr(node.base)
                    why += (f": a fractional power of a negative number is complex — "
                            f"{sp.sstr(node)} is SymPy's principal root; the real root is "
                            f"sign({b})*Abs({b})**({sp.sstr(node.exp)})" if n % 2 else "")
                return f"{text} is nan ({why})"
            return f"{text} is infinite (a pole, or an overflow)"
    return None


def _show_values(values) -> str:
    def one(v):
        a = np.asarray(v, dtype=float)
        if a.ndim == 0:
            return f"{float(a):.4g}"
        return np.array2string(a.reshape(-1) if 1 in a.shape else a, precision=3, separator=", ",
                               suppress_small=True).replace("\n", "") if a.size <= 6 else f"<{a.shape} array>"
    return ", ".join(f"{k} = {one(v)}" for k, v in values.items())


def gather_labels(f) -> dict:
    """{name: ("integers", n)} for each scalar symbol k that indexes a column z of n rows in ``f``
    (``gather(z, k)``, and ``cross_entropy(z, k)`` with a class label k): a label is an integer in
    0 … n − 1, so it is drawn there — a real-valued k is no class, and z[k] no function of z's
    entries that a claim could be compared with.

    >>> import sympy as sp, symgrad as sg
    >>> z, k = sp.MatrixSymbol('z', 4, 1), sp.Symbol('k', integer=True)
    >>> gather_labels(sg.cross_entropy(z, k))
    {'k': ('integers', 4)}
    """
    from ..frontend.functions import Gather
    out = {}
    for node in sp.preorder_traversal(sp.sympify(f)):
        if isinstance(node, Gather):
            z, k = node.args
            rows = z.shape[0]
            if isinstance(k, sp.Symbol) and rows.is_Integer:
                n = int(rows)
                out[k.name] = ("integers", min(n, out[k.name][1]) if k.name in out else n)
    return out


def bounds(sym, assumptions: Mapping | None):
    """The interval a moved value must stay in (None: anywhere): an interval given in
    ``assumptions``, or the sign a symbol is declared with. (The intervals tried for f's domain,
    (0.2, 1.5) …, are not bounds: f's finiteness is checked at every point instead.)"""
    a = _assumed(sym, assumptions)
    if _is_labels(a):
        return None                             # labels are never moved (see Sampler)
    if isinstance(a, str):
        return {"positive": (0.0, np.inf), "negative": (-np.inf, 0.0), "unit": (0.0, 1.0)}.get(a)
    if a is not None:
        return tuple(float(v) for v in a)
    if getattr(sym, "is_positive", False):
        return (0.0, np.inf)
    if getattr(sym, "is_negative", False):
        return (-np.inf, 0.0)
    return None


class Sampler:
    """The test points of one check: how values are drawn (intervals, distribution targets), which
    values may move (not given with ``at=``, not targets) and within which bounds, and f's kink
    sites with the sides of them a point lies on. `symgrad.checking.sides` moves points with it."""

    def __init__(self, f, D, params, inputs, at, assumptions, rng, B, targets="distribution"):
        if targets not in TARGET_MODES:
            raise SymgradError(f"targets={targets!r} is not a target mode; use one of "
                               f"{', '.join(map(repr, TARGET_MODES))}")
        self.f, self.D, self.params, self.inputs, self.at = f, D, list(params), list(inputs), at or {}
        self.assumptions, self.rng, self.B = assumptions, rng, B
        self.outs = [D.output] + [g for g in D.gradient_vars if g is not None]
        # a kink of values given with at= alone never moves: not a side to reach (attn_mask > 0)
        self.kinks = KinkSites(D.ir, [D.output], frozenset(k if isinstance(k, str) else getattr(k, "name", k)
                                                           for k in self.at))
        given = lambda s: _given(self.at, s) is not None   # noqa: E731
        # a tensor target's slices along its softmax's axis are distributions (`soft_targets`)
        tensor_axes = tensor_targets(f, params)
        self.target_axes = {t.name: axis for t, axis in tensor_axes.items()}
        self.targets = {} if targets == "free" else {
            t.name: targets for t in [*target_symbols(f, params), *tensor_axes]
            if t in self.inputs and not given(t) and bounds(t, assumptions) is None}
        self.pfree = [w for w in self.params if not given(w)]
        # integer labels (tensor checks: drawn in 0 … n − 1) stay where they were drawn: a side search
        # moves values along lines, and a label is no point on a line
        labels = {s.name for s in self.inputs if _is_labels(_assumed(s, assumptions))}
        # dropout masks: drawn as a program draws them (0 or 1/(1 − p)), and never moved either
        self.masks = {s.name: dropout_rate(s) for s in self.inputs
                      if dropout_rate(s) is not None and not given(s) and _assumed(s, assumptions) is None}
        self.ifree = [s for s in self.inputs if not given(s) and s.name not in self.targets
                      and s.name not in labels and s.name not in self.masks]
        self.bounds = {s.name: bounds(s, assumptions) for s in self.pfree + self.ifree}
        self.clip_bounds = clip_bounds(f)
        self.margin = KINK_MARGIN       # how far a test point keeps from every kink (`usable`)
        self.conditioned = {}           # {name: logged}: square matrices drawn well conditioned
        self.condition([f])

    def condition(self, exprs) -> None:
        """Draw the square matrices that ``exprs`` invert or take the determinant of well conditioned
        (`conditioned_draw`), those drawn freely: not given with at=, no sampling interval."""
        free = {s.name for s in self.pfree + self.ifree if _assumed(s, self.assumptions) is None
                and not getattr(s, "is_positive", False) and not getattr(s, "is_negative", False)}
        for name, logged in inverted_matrices(exprs).items():
            if name in free:
                self.conditioned[name] = self.conditioned.get(name, False) or logged

    def conditioned_sizes(self) -> dict:
        """{name: n} of the n×n matrices drawn well conditioned."""
        return {s.name: int(_shape(s)[0]) for s in self.pfree + self.ifree if s.name in self.conditioned}

    # --- drawing -------------------------------------------------------------------------------

    def draw_value(self, s, attempt):
        kind = self.targets.get(s.name)
        if kind is not None and s.name in self.target_axes:
            return draw_tensor_target(_shape(s), self.target_axes[s.name], self.rng, kind)
        if kind is not None:
            return draw_target(_shape(s), self.rng, kind)
        if s.name in self.masks:
            return draw_mask(_shape(s), self.masks[s.name], self.rng)
        if s.name in self.conditioned:
            return draw_conditioned(int(_shape(s)[0]), self.rng, self.conditioned[s.name])
        return draw(s, _shape(s), self.rng, interval_of(s, self.assumptions, attempt))

    def points(self, n) -> list:
        """``n`` points inside f's domain (f and its gradient finite) and at least `KINK_MARGIN`
        from every kink; one when every value is given."""
        at, B = self.at, self.B
        syms = self.params + self.inputs
        every_given = all(_given(at, s) is not None for s in syms)
        if every_given:
            n = 1
        pts, tries = [], 0
        while len(pts) < n:
            attempt = tries // 8
            if tries >= 40:
                if pts:
                    break
                last = self.why_unusable(pt)
                raise SymgradError("could not find a point inside f's domain away from its kinks "
                                   "(f or its gradient was not finite, or a kink was always near)"
                                   + (f" — at the last point tried, {last}" if last else "")
                                   + "; give sampling intervals with assumptions={symbol: (lo, hi)} "
                                   "or values with at=")
            tries += 1
            pv = {}
            for w in self.params:
                g = _given(at, w)
                pv[w.name] = g if g is not None else self.draw_value(w, attempt)
            examples, batched = [], None
            for b in range(B or 1):
                ex = {}
                for s in self.inputs:
                    g = _given(at, s)
                    if g is not None:
                        ex[s.name] = _unstack(g, s, b) if B else g
                    else:
                        ex[s.name] = self.draw_value(s, attempt)
                examples.append(ex)
            if B:
                batched = {s.name: _stack([ex[s.name] for ex in examples], s) for s in self.inputs}
            pt = _Point(pv, examples, batched)
            if self.usable(pt, given_all=n == 1 and tries == 1 and every_given):
                pts.append(pt)
        return pts

    def usable(self, pt, given_all=False, U=None) -> bool:
        """f and its gradient are finite at every example of ``pt``, and (unless every value was
        given) every kink argument is at least `KINK_MARGIN` from 0. ``U``: ``pt``'s site values,
        when the caller has them. The kinks are asked first: a point beside one of thousands of
        relu entries is the usual reason to refuse, and needs no evaluation of the gradient."""
        if not given_all and self.gap(pt, U) < self.margin:
            return False
        crossed = self.crossed_bounds(pt)
        if crossed:
            if given_all:
                raise SymgradError(f"the given point (at=) is outside f's domain: {crossed}")
            return False
        with np.errstate(all="ignore"):
            for i in range(len(pt.examples)):
                try:
                    vals = evaluate(self.D.ir, self.outs, pt.example(i))
                except OverflowError:       # Python's float ** raises where NumPy's gives inf
                    vals = [np.inf]
                if not all(np.all(np.isfinite(v)) for v in vals):
                    if given_all:
                        raise SymgradError(f"the given point (at=) is outside f's domain: "
                                           f"{self.why_unusable(pt)}")
                    return False
        return True

    def crossed_bounds(self, pt) -> str | None:
        """A clip whose bounds are symbols (clip(x, -c, c)) at a point where lo ≥ hi, in words; None
        when every such clip has lo < hi at every example of ``pt``. Outside that, clip is hi for
        every x (NumPy's answer; `sg.clip` refuses number bounds lo > hi), its gradient in x 0 on
        the whole line: no point to test a claim at, and a drawn c < 0 would be one."""
        for fn, lo, hi in self.clip_bounds:
            for i in range(len(pt.examples)):
                vals = pt.example(i)
                with np.errstate(all="ignore"):
                    try:
                        a, b = fn(*[vals[n] for n in _names(lo, hi)])
                    except (KeyError, TypeError, ValueError, ArithmeticError):
                        continue
                if not float(a) < float(b):
                    return (f"the bounds of clip cross there: {lo} = {float(a):.4g} is not below "
                            f"{hi} = {float(b):.4g} (give the bounds' symbols an interval with "
                            f"assumptions=, or values with at=, where lo < hi)")
        return None

    def why_unusable(self, pt) -> str | None:
        """Why ``pt`` is no test point, in words: the innermost part of f (or of its gradient) that
        is not finite there, at which values; or the kink it is near. None when it is usable."""
        crossed = self.crossed_bounds(pt)
        if crossed:
            return crossed
        for i in range(len(pt.examples)):
            values = pt.example(i)
            with np.errstate(all="ignore"):
                try:
                    vals = evaluate(self.D.ir, self.outs, values)
                except OverflowError as e:
                    return (f"f or its gradient overflows float64 at {_show_values(values)} "
                            f"(OverflowError: {e}): it is larger than 1.8e308 there")
            if np.all(np.isfinite(vals[0])):
                if all(np.all(np.isfinite(v)) for v in vals[1:]):
                    continue
                grads = self.D.gradients
                part = not_finite_part(grads if isinstance(grads, (list, tuple)) else [grads], values)
                return (f"f is finite at {_show_values(values)} but its gradient is not"
                        + (f" — {part}" if part else "") + ": f has no derivative there")
            part = not_finite_part([self.f], values)
            return f"f is not finite at {_show_values(values)}" + (f": {part}" if part else "")
        gap = self.gap(pt)
        if gap < KINK_MARGIN:
            return f"a kink argument is {gap:.2g} from 0 (closer than {KINK_MARGIN})"
        return None

    # --- kinks at a point ----------------------------------------------------------------------

    def site_values(self, pt) -> list:
        """Per example of ``pt``, per kink site, the site's entries."""
        return [self.kinks.values(pt.example(i)) for i in range(len(pt.examples))]

    def _live(self, pt, U) -> list:
        """Per example and site, a mask of the entries that are kinks to keep away from: all but
        those exactly 0 that stay exactly 0 when the free values move a little — a kink argument
        constant near the point (the outer relu of relu(relu(u)) while u < 0): f is flat in it
        there, and its derivative 0 whatever the convention."""
        if not any(np.any(u == 0.0) for ex in U for u in ex):
            return [[np.ones(u.shape, bool) for u in ex] for ex in U]
        moved = self.site_values(self.shift(pt, self.direction(), 1e-6))
        return [[~((u == 0.0) & (m == 0.0)) for u, m in zip(ex, mex)] for ex, mex in zip(U, moved)]

    def gap(self, pt, U=None) -> float:
        """The smallest |u| over every live kink entry at ``pt`` (inf when there is none); ``U``:
        ``pt``'s site values, when known."""
        U = self.site_values(pt) if U is None else U
        best = np.inf
        for ex, live in zip(U, self._live(pt, U)):
            for u, m in zip(ex, live):
                with np.errstate(all="ignore"):
                    a = np.abs(u[m])
                if a.size and not np.all(np.isnan(a)):
                    best = min(best, float(np.nanmin(a)))
        return best

    def sides(self, pt) -> set:
        """{(site, entry, ±1)}: the sides of the kinks that ``pt`` (any of its examples) lies on,
        at least `KINK_MARGIN` away."""
        out = set()
        for k, (pos, neg) in enumerate(self.side_masks(self.site_values(pt))):
            out.update((k, int(e), 1) for e in np.flatnonzero(pos))
            out.update((k, int(e), -1) for e in np.flatnonzero(neg))
        return out

    def side_masks(self, U) -> list:
        """Per site, (entries at least `KINK_MARGIN` above 0, entries as far below) at any example
        of the site values ``U`` (`site_values` of a point): `sides` as boolean arrays."""
        out = []
        for k in range(len(self.kinks.sites)):
            with np.errstate(invalid="ignore"):
                out.append((np.logical_or.reduce([ex[k] >= KINK_MARGIN for ex in U]),
                            np.logical_or.reduce([ex[k] <= -KINK_MARGIN for ex in U])))
        return out

    # --- moving a point ------------------------------------------------------------------------

    def direction(self):
        """A random direction in the free values: ({param: step}, [{input: step} per example])."""
        rng = self.rng
        dp = {w.name: draw(w, _shape(w), rng, None) for w in self.pfree}
        de = [{s.name: draw(s, _shape(s), rng, None) for s in self.ifree} for _ in range(self.B or 1)]
        return dp, de

    def towards_origin(self, pt):
        """The direction of the free values themselves: ``shift(pt, d, −2)`` negates them."""
        dp = {w.name: pt.params[w.name] for w in self.pfree}
        de = [{s.name: ex[s.name] for s in self.ifree} for ex in pt.examples]
        return dp, de

    def shift(self, pt, d, t: float):
        """``pt`` moved by ``t·d`` in its free values."""
        dp, de = d
        pv = dict(pt.params)
        for name, step in dp.items():
            pv[name] = _plus(pv[name], t, step)
        examples = []
        for ex, dex in zip(pt.examples, de):
            ex = dict(ex)
            for name, step in dex.items():
                ex[name] = _plus(ex[name], t, step)
            examples.append(ex)
        batched = None
        if pt.batched is not None:
            batched = {s.name: _stack([ex[s.name] for ex in examples], s) for s in self.inputs}
        return _Point(pv, examples, batched)

    def inside(self, pt) -> bool:
        """Every moved value is inside its bounds."""
        for name, b in self.bounds.items():
            if b is None:
                continue
            vals = [pt.params[name]] if name in pt.params else [ex[name] for ex in pt.examples]
            if any(np.any(np.asarray(v) < b[0]) or np.any(np.asarray(v) > b[1]) for v in vals):
                return False
        return True


def _plus(v, t, step):
    if np.ndim(v) == 0:
        return float(v) + t * float(step)
    return np.asarray(v, dtype=float) + t * np.asarray(step, dtype=float).reshape(np.shape(v))


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
