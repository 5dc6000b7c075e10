"""Which side of a kink can never be reached: the sign a kink argument has by construction.

Why: sg.norm(x) is sqrt of a sum of squares s, written safe at zero as where(s > 0, s, 1)^½ − …
(`symgrad/frontend/tensor_norms.py`): its kink argument is s, which is never negative. The side
search (`sides.py`) then reported "kink sides NOT reached …: (x**2).sum() < 0 (Piecewise)" — a
side no point can have, of a kink the user never wrote. relu(relu(u)) is the same: the outer
relu's argument is never negative.

How: the sign of every variable of f's graph is derived from the equations that make it — a leaf
is any real (or its declared sign), a constant's sign is its entries', an elementwise body is asked
with SymPy's assumptions (its operands replaced by symbols of their signs: a0² ≥ 0, |a0| ≥ 0,
relu(a0) = Max(a0, 0) ≥ 0, exp(a0) > 0), and a sum, broadcast, transpose or gather of entries keeps
their sign. A side whose sign the argument can never have is impossible, not unreached.

>>> import sympy as sp, symgrad as sg
>>> from symgrad.core.differentiate import differentiate
>>> from symgrad.checking.sampling import KinkSites
>>> x = sg.tensor("x", (3,))
>>> D = differentiate(sg.norm(x), [x])
>>> sites = KinkSites(D.ir, [D.output]).sites
>>> [impossible_sides(D.ir, s) for s in sites]
[{-1}, {-1}]
"""
from __future__ import annotations

import numpy as np
import sympy as sp

# the entries of these are entries of their first operand (a view, a pick, a max) or sums of them
_KEEPS_SIGN = {"sum", "rsum", "rmax", "broadcast", "expand", "transpose", "permute", "reshape", "slice",
               "gather", "take", "take_row"}
_SUMS = {"sum", "rsum"}                     # an empty sum is 0: positive entries give a nonnegative sum


def impossible_sides(graph, site, signs=None) -> set:
    """The sides (1: u > 0, −1: u < 0) that the kink argument u of ``site`` can never be on;
    ``signs``: a `_Signs` of ``graph`` shared by its sites (`never_sides`), each variable's sign
    derived once."""
    eqn, _, u, _ = site
    try:
        signs = signs or _Signs(graph)
        body = _as_max(u).xreplace({a: signs.of(v) for a, v in zip(_placeholders(len(eqn.inputs)), eqn.inputs)})
        out = set()
        if body.is_nonnegative:
            out.add(-1)
        if body.is_nonpositive:
            out.add(1)
        return out
    except Exception:  # noqa: BLE001 - a sign not derived is a side still searched for, never lost
        return set()


def never_sides(graph, sites) -> list:
    """`impossible_sides` of each of ``sites`` (all of ``graph``), the signs derived once for all."""
    signs = _Signs(graph)
    return [impossible_sides(graph, site, signs) for site in sites]


def _placeholders(n):
    from ..core import rules as R
    return R.placeholders(n)


def _as_max(expr):
    """relu(a) as Max(a, 0), whose sign SymPy knows."""
    return expr.replace(lambda e: isinstance(e, sp.Function) and type(e).__name__ == "relu" and len(e.args) == 1,
                        lambda e: sp.Max(e.args[0], 0))


class _Signs:
    """A symbol per variable of ``graph`` carrying the sign its equations give it."""

    def __init__(self, graph):
        self.graph = graph
        self.memo = {}

    def of(self, v):
        if v.id not in self.memo:
            self.memo[v.id] = _symbol(self._sign(self.graph.eqn_of(v)))
        return self.memo[v.id]

    def _sign(self, eqn) -> str:
        name = eqn.prim.name
        if name in ("param", "input"):
            sym = eqn.params[0]
            return _sign_of_expr(sym) if isinstance(sym, sp.Basic) else "real"
        if name == "const":
            return _sign_of_value(eqn.params[0])
        if name == "ewise":
            body = _as_max(eqn.params[0])
            return _sign_of_expr(body.xreplace({a: self.of(v) for a, v in
                                                zip(_placeholders(len(eqn.inputs)), eqn.inputs)}))
        if name in _KEEPS_SIGN and len(eqn.inputs) >= 1:
            s = str(self.of(eqn.inputs[0]).name)
            return "nonnegative" if name in _SUMS and s == "positive" else s
        return "real"


def _symbol(sign: str):
    return sp.Dummy(sign, real=True, **({} if sign == "real" else {sign: True}))


def _sign_of_expr(e) -> str:
    for sign in ("positive", "negative", "nonnegative", "nonpositive"):
        if getattr(e, f"is_{sign}", None):
            return sign
    return "real"


def _sign_of_value(value) -> str:
    try:
        a = np.asarray(sp.Matrix(value) if isinstance(value, sp.MatrixBase) else value, dtype=float)
    except (TypeError, ValueError):
        return "real"
    if a.size and np.all(a > 0):
        return "positive"
    if a.size and np.all(a >= 0):
        return "nonnegative"
    if a.size and np.all(a < 0):
        return "negative"
    if a.size and np.all(a <= 0):
        return "nonpositive"
    return "real"
