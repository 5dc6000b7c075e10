"""`sg.check` of matrices whose size is a symbol (``sp.MatrixSymbol('Y', n, n)``): drawn at numbers.

The check draws arrays, so each symbolic size of a matrix is fixed to a number first: given in
``at={n: 3}`` (or ``at={'n': 3}``), else 4, 5, 6, ... in the order of the sizes' names, skipping the
integer dimensions of f's matrices (distinct, so that a transposed claim cannot pass by a
coincidence of sizes). The sizes are substituted in f, wrt and the claims, and the result's method
says which numbers were drawn. (Tensors, `sg.tensor`, have their own: `symgrad.checking.tensors`.)

>>> import sympy as sp
>>> n = sp.Symbol("n", integer=True, positive=True)
>>> Y = sp.MatrixSymbol("Y", n, n)
>>> f, wrt, claimed, at, fixed = fix_matrix_sizes(sp.Trace(Y * Y), Y, 2 * Y.T, None)
>>> wrt.shape, fixed
((4, 4), {'n': 4})
"""
from __future__ import annotations

from typing import Mapping

import sympy as sp

from ..core.values import key_name
from ..frontend import tensor as T
from ..frontend.parse import as_expr
from .tensors import choose_sizes


def _matrices(exprs) -> set:
    out = set()
    for e in exprs:
        if isinstance(e, sp.Basic):
            out |= {m for m in e.atoms(sp.MatrixSymbol) if not isinstance(m, T.Tensor)}
    return out


def _parts(c) -> list:
    """The SymPy expressions of a claim (a list or dict of them too)."""
    if isinstance(c, (list, tuple)):
        return [p for x in c for p in _parts(x)]
    if isinstance(c, Mapping):
        return [p for x in c.values() for p in _parts(x)]
    return [c] if isinstance(c, sp.Basic) else []


def fix_matrix_sizes(f, wrt, claimed, at: Mapping | None):
    """(f, wrt, claimed, at, {size name: n}) with the symbolic sizes of f's, wrt's and the claims'
    matrices replaced by numbers; unchanged (and ``{}``) where every size is a number."""
    wrts = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    mats = _matrices([f, *wrts, *_parts(claimed)])
    sizes = sorted({s for m in mats for d in m.shape for s in sp.sympify(d).free_symbols},
                   key=lambda s: s.name)
    if not sizes:
        return f, wrt, claimed, at, {}
    given = {key_name(k): v for k, v in (at or {}).items()}
    taken = {int(d) for m in mats for d in m.shape if sp.sympify(d).is_Integer}
    fixed = choose_sizes(sizes, given, taken)
    declared = {}
    for e in (f, *wrts):
        if isinstance(e, sp.Basic):
            for a in e.atoms(sp.Symbol, sp.MatrixSymbol):
                if not isinstance(a, sp.Dummy):
                    declared.setdefault(a.name, a)

    def over(c):
        if isinstance(c, (list, tuple)):
            return type(c)(over(x) for x in c)
        if isinstance(c, Mapping):
            return {over(kk) if isinstance(kk, sp.Basic) else kk: over(v) for kk, v in c.items()}
        if c is None or (callable(c) and not isinstance(c, sp.Basic)):
            return c
        return as_expr(c, symbols=declared).xreplace(fixed)
    names = {s.name for s in sizes}
    at = None if at is None else {over(kk) if isinstance(kk, sp.MatrixSymbol) else kk: v
                                  for kk, v in at.items() if key_name(kk) not in names}
    return over(f), over(wrt), over(claimed), at, {s.name: int(n) for s, n in fixed.items()}


__all__ = ["fix_matrix_sizes"]
