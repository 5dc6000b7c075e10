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
from ..errors import ShapeError
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


def _joins(exprs) -> list:
    """(a, b, where): the sizes a product or a sum joins, which must be equal (X*w joins X's columns
    with w's rows), with the words that say where."""
    out = []
    for e in exprs:
        if not isinstance(e, sp.Basic):
            continue
        for node in sp.preorder_traversal(e):
            if isinstance(node, sp.MatMul):
                ms = [a for a in node.args if isinstance(a, sp.MatrixExpr)]
                for l, r in zip(ms, ms[1:]):
                    out.append((l.shape[1], r.shape[0], f"{l}*{r} (the columns of {l}, the rows of {r})"))
            elif isinstance(node, (sp.MatAdd, sp.HadamardProduct)):
                ms = [a for a in node.args if isinstance(a, sp.MatrixExpr)]
                for a in ms[1:]:
                    for i in (0, 1):
                        out.append((ms[0].shape[i], a.shape[i], f"{node} (the {('rows', 'columns')[i]} "
                                    f"of {ms[0]} and {a})"))
    return [(sp.sympify(a), sp.sympify(b), w) for a, b, w in out if sp.sympify(a) != sp.sympify(b)]


def _agreeing(fixed: dict, joins: list, given: Mapping, needed: dict) -> dict:
    """``fixed`` with each size a product or a sum joins to a number (X: n×3 times w: m×1 makes
    m = 3) or to another size set to agree; sizes that cannot agree (two numbers, or a number and
    a size given in at=) are an error naming them and where they meet."""
    value = {}                                  # size symbol -> (number, why)
    changed = True
    while changed:
        changed = False
        for a, b, where in joins:
            for s, o in ((a, b), (b, a)):
                if s.is_Symbol and s in fixed:
                    n = int(o) if o.is_Integer else (value[o][0] if o in value else None)
                    if n is None:
                        continue
                    if s in value and value[s][0] != n or s.name in given and int(fixed[s]) != n:
                        had = value[s][0] if s in value else int(fixed[s])
                        raise ShapeError(f"the sizes do not fit: {where} needs {s} = {n}, but {s} = {had} "
                                         f"{'as at= gives it' if s.name in given else 'elsewhere'}; "
                                         f"declare the matrices with sizes that agree")
                    if s not in value:
                        value[s] = (n, where)
                        changed = True
    # sizes joined only to each other: the first one's draw for all
    for a, b, _ in joins:
        if a.is_Symbol and b.is_Symbol and a in fixed and b in fixed and a not in value and b not in value:
            keep, move = (a, b) if b.name not in given else (b, a)
            if move.name in given and keep.name in given and int(fixed[a]) != int(fixed[b]):
                raise ShapeError(f"the sizes {a} and {b} must be equal (a product or a sum joins them), "
                                 f"but at= gives {a} = {fixed[a]}, {b} = {fixed[b]}")
            fixed[move] = fixed[keep]
    for s, (n, where) in value.items():
        fixed[s] = sp.Integer(n)
        needed[s.name] = where.split(" (")[0]
    for a, b, where in joins:
        va = fixed.get(a, a) if a.is_Symbol else a
        vb = fixed.get(b, b) if b.is_Symbol else b
        if va.is_Integer and vb.is_Integer and va != vb:
            raise ShapeError(f"the sizes do not fit: {where} needs {a} = {b}; declare the matrices with "
                             f"sizes that agree")
    return fixed


def fix_matrix_sizes(f, wrt, claimed, at: Mapping | None):
    """(f, wrt, claimed, at, {size name: n}) with the symbolic sizes of f's, wrt's and the claims'
    matrices replaced by numbers; unchanged (and ``{}``) where every size is a number."""
    wrts = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    exprs = [f, *wrts, *_parts(claimed)]
    mats = _matrices(exprs)
    sizes = sorted({s for m in mats for d in m.shape for s in sp.sympify(d).free_symbols},
                   key=lambda s: s.name)
    if not sizes:
        return f, wrt, claimed, at, {}
    given = {key_name(k): v for k, v in (at or {}).items()}
    taken = {int(d) for m in mats for d in m.shape if sp.sympify(d).is_Integer}
    needed = {}                                 # {m: "X*w"}: the sizes a product makes numbers
    fixed = _agreeing(choose_sizes(sizes, given, taken), _joins(exprs), given, needed)
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
    out = Sizes({s.name: int(n) for s, n in fixed.items()})
    out.needed = {k: w for k, w in needed.items() if k not in given}
    return over(f), over(wrt), over(claimed), at, out


class Sizes(dict):
    """{size name: n}, with ``.needed``: {name: the product that makes it that number} ("X*w")."""
    needed: dict = {}


__all__ = ["fix_matrix_sizes"]
