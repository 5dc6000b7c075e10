"""How a square matrix that is inverted, or whose determinant is taken, is drawn for a check.

A matrix X under ``X.inv()`` (``X**-n``), ``det(X)`` or ``log(det(X))`` is drawn with N(0, 1)
entries like any other, but a draw whose condition number exceeds `COND_PER_SIZE`·n is drawn again:
near a singular X the inverse is huge and its differences amplify round-off, so a float64 comparison
there says little about the claim. About 1 draw in 8 is refused (for n from 2 to 8). A matrix whose
determinant is logged is also given det X > 0 (its first row negated where det X < 0, which keeps
its condition number): log det X is NaN elsewhere, and such a point would only be drawn again.

>>> import sympy as sp
>>> X, Y = sp.MatrixSymbol('X', 3, 3), sp.MatrixSymbol('Y', 2, 2)
>>> sorted(inverted_matrices([sp.log(sp.det(X)) + sp.Trace(Y.T.inv())]).items())
[('X', True), ('Y', False)]
>>> import numpy as np
>>> m = draw_conditioned(3, np.random.default_rng(0), True)
>>> bool(np.linalg.cond(m) <= COND_PER_SIZE * 3 and np.linalg.det(m) > 0)
True
"""
from __future__ import annotations

import numpy as np
import sympy as sp

COND_PER_SIZE = 10      # a drawn n×n matrix has condition number at most 10·n
_TRIES = 50


def _square(m) -> bool:
    return (isinstance(m, sp.MatrixSymbol) and m.shape[0] == m.shape[1]
            and getattr(m.shape[0], "is_Integer", False) and int(m.shape[0]) >= 2)


def _base(m):
    """The MatrixSymbol under transposes (X of Xᵀ⁻¹), else m."""
    while isinstance(m, sp.Transpose):
        m = m.arg
    return m


def inverted_matrices(exprs) -> dict:
    """{name: logged}: the square MatrixSymbols that appear inverted or under a determinant in any
    of ``exprs`` (SymPy expressions; anything else is skipped), ``logged`` True where one appears
    under log(det(·))."""
    out: dict = {}
    for e in exprs:
        if not isinstance(e, sp.Basic):
            continue
        for node in sp.preorder_traversal(e):
            arg = None
            if isinstance(node, (sp.Inverse, sp.Determinant)):
                arg = _base(node.args[0])
            elif isinstance(node, sp.MatPow) and node.args[1].is_negative:
                arg = _base(node.args[0])
            if arg is not None and _square(arg):
                out.setdefault(arg.name, False)
            if isinstance(node, sp.log) and isinstance(node.args[0], sp.Determinant) \
                    and _square(_base(node.args[0].args[0])):
                out[_base(node.args[0].args[0]).name] = True
    return out


def draw_conditioned(n: int, rng: np.random.Generator, positive_det: bool) -> np.ndarray:
    """An n×n matrix of N(0, 1) entries with condition number ≤ COND_PER_SIZE·n (the best of
    `_TRIES` draws should none be), with det > 0 when ``positive_det``."""
    best, best_cond = None, np.inf
    for _ in range(_TRIES):
        m = rng.standard_normal((n, n))
        c = np.linalg.cond(m)
        if c < best_cond:
            best, best_cond = m, c
        if c <= COND_PER_SIZE * n:
            break
    if positive_det and np.linalg.det(best) < 0:
        best = best.copy()
        best[0] = -best[0]
    return best


def conditioned_words(drawn: dict, sizes: dict) -> str:
    """The method text's part saying how the matrices of ``drawn`` ({name: logged}) were drawn ('' for
    none); ``sizes``: {name: n} for an n×n matrix.

    >>> conditioned_words({'X': True, 'Y': False}, {'X': 3, 'Y': 2})
    'X, Y drawn well conditioned (inverted or under det: N(0, 1) entries, drawn again while the condition number exceeds 30 for X, 20 for Y; det X > 0 for its log)'
    """
    if not drawn:
        return ""
    names = sorted(drawn)
    logged = [k for k in names if drawn[k]]
    bounds = ", ".join(f"{COND_PER_SIZE * sizes[k]} for {k}" for k in names)
    return (f"{', '.join(names)} drawn well conditioned (inverted or under det: N(0, 1) entries, drawn again "
            f"while the condition number exceeds {bounds if len(names) > 1 else COND_PER_SIZE * sizes[names[0]]}"
            + (f"; det {', '.join(logged)} > 0 for its log" if logged else "") + ")")


__all__ = ["COND_PER_SIZE", "conditioned_words", "draw_conditioned", "inverted_matrices"]
