"""The entries of `sg.jacobian` and `sg.hessian` for scalars and matrices, written out from the IR.

One sweep per output entry (reverse) or per entry of wrt (forward) makes a graph variable per row
or column; its entries are then written out by running the IR on arrays of SymPy scalars
(`symgrad.core.explicit`), sharing one memo, so a value used by every entry (σ(Xw)) is written once.
A Hessian is reverse over reverse in one graph: the gradient's variables are differentiated again
where they are, never converted to SymPy and lowered a second time.

The entries are exact and left as the sweeps make them, not simplified: ``sp.simplify`` of each
entry took seconds (13 s for the Hessian of a 4×3 logistic regression, 34 s at 8×3; now
hundredths of a second). Only a graph whose entries `explicit` cannot write out (a matrix
inverse, a max over entries) goes the old way: each variable converted to a SymPy matrix
expression, its matrix symbols written out, each entry simplified. A matrix of symbolic size inside
(X of (N, 3)) is written out on neither way: a `ShapeError` naming it.
(Examples: the docstrings of `sg.jacobian` and `sg.hessian`, symgrad/core/differentiate.py.)
"""
from __future__ import annotations

import sympy as sp

from . import rules as R
from ..errors import ShapeError, UnsupportedError
from .explicit import explicit
from .forward import forward
from .ir import Graph, format_shape
from .reverse import backward
from .to_sympy import SympyBuilder


def entries(shape) -> list:
    """The scalar slots of a variable: [None] for a scalar, (i, j) row by row for a matrix."""
    if shape == ():
        return [None]
    if len(shape) != 2:
        raise ShapeError(f"jacobian takes scalars and matrices; a tensor of shape {format_shape(shape)} "
                         f"is not supported yet: take sg.grad of a reduction (sg.sum(out * dout)) instead")
    m, n = shape
    if not (isinstance(m, int) and isinstance(n, int)):
        raise ShapeError(f"jacobian needs numeric shapes, got {format_shape(shape)}")
    return [(i, j) for i in range(m) for j in range(n)]


def _onehot(shape, ij):
    if shape == ():
        return 1
    return sp.ImmutableMatrix(shape[0], shape[1], lambda i, j: 1 if (i, j) == ij else 0)


def _sweeps(graph: Graph, outs, wrt_vars, mode: str) -> dict:
    """{(row, column): the variable whose entry kl is J[row, column] (None: zero)} with the entry
    index kl, for rows = the outputs' scalar slots and columns = wrt's."""
    out_slots = [(o, ij) for o in outs for ij in entries(o.shape if o is not None else ())]
    in_slots = [(w, kl) for w in wrt_vars for kl in entries(w.shape)]
    cells = {}
    if mode == "reverse":                     # one sweep per output entry
        for r, (o, ij) in enumerate(out_slots):
            if o is None:                     # a gradient that is zero (f does not use that wrt)
                continue
            adj = dict(zip([w.id for w in wrt_vars],
                           backward(graph, o, wrt_vars, seed=R.const(graph, _onehot(o.shape, ij), o.shape))))
            for c, (w, kl) in enumerate(in_slots):
                cells[r, c] = (adj[w.id], kl)
    else:                                     # one sweep per entry of wrt
        live = [o for o in outs if o is not None]
        for c, (w, kl) in enumerate(in_slots):
            tan = dict(zip([o.id for o in live],
                           forward(graph, live, {w.id: R.const(graph, _onehot(w.shape, kl), w.shape)})))
            for r, (o, ij) in enumerate(out_slots):
                if o is not None:
                    cells[r, c] = (tan[o.id], ij)
    return {"rows": len(out_slots), "cols": len(in_slots), "cells": cells}


def _written_out(graph: Graph, cells: dict) -> dict:
    """Each cell's entry from `explicit`, one call for all the cells' variables (a call per cell
    walked the variable's ancestors again for each of its entries); raises UnsupportedError or
    ShapeError when a variable's entries cannot be written out."""
    live = {v.id: v for v, _ in cells.values() if v is not None}
    value = dict(zip(live, explicit(graph, list(live.values()))))
    return {rc: value[v.id] if kl is None else value[v.id][kl]
            for rc, (v, kl) in cells.items() if v is not None}


def _simplified(graph: Graph, known: dict, cells: dict) -> dict:
    """The old way, for graphs `explicit` refuses: each variable as a SymPy matrix expression, its
    matrix symbols written out, each entry simplified."""
    build = SympyBuilder(graph, known)
    memo: dict = {}
    out = {}
    for rc, (v, kl) in cells.items():
        if v is None:
            continue
        if v.id not in memo:
            e = build(v)
            if kl is not None and isinstance(e, (sp.MatrixExpr, sp.MatrixBase)):
                # every matrix symbol written out entry by entry, so that softmax(W·x) and the sums
                # over it are explicit too (as_explicit alone leaves them, and simplify then raises)
                sym = {m: _entries_of(m) for m in e.atoms(sp.MatrixSymbol)}
                e = sp.ImmutableMatrix(e.xreplace(sym).doit()).applyfunc(_simplify_entry)
            memo[v.id] = e
        e = memo[v.id]
        out[rc] = e if kl is None else e[kl]
    return out


def _entries_of(m: sp.MatrixSymbol) -> sp.ImmutableMatrix:
    """m written out entry by entry; a ShapeError for a symbolic size (SymPy's ValueError named nothing)."""
    if not all(isinstance(d, (int, sp.Integer)) for d in m.shape):
        raise ShapeError(f"{m} has the symbolic shape {format_shape(m.shape)}: sg.jacobian and sg.hessian of "
                         f"matrices write their entries out, which needs concrete sizes; declare {m} with "
                         f"numbers, or take sg.grad, which keeps the sizes symbolic")
    return m.as_explicit()


def _simplify_entry(a):
    """One entry simplified, its matrix entries x[i, j] held as plain symbols meanwhile (simplify
    would raise x, the MatrixSymbol inside x[0, 0], to a power)."""
    a = a.doit()
    from sympy.matrices.expressions.matexpr import MatrixElement
    held = {m: sp.Dummy() for m in a.atoms(MatrixElement)}
    return sp.simplify(a.xreplace(held)).xreplace({d: m for m, d in held.items()})


def jacobian_matrix(graph: Graph, known: dict, outs, wrt_vars, mode: str = "reverse") -> sp.ImmutableMatrix:
    """J[r, c] = ∂(scalar r of outs)/∂(scalar c of wrt_vars), as a SymPy matrix. ``outs`` may hold
    None (an output that does not depend on wrt: a zero row block); ``known`` is the lowering's
    {var id: the user's SymPy form}, used only on the old way."""
    sweep = _sweeps(graph, outs, wrt_vars, mode)
    try:
        vals = _written_out(graph, sweep["cells"])
    except (UnsupportedError, ShapeError):
        vals = _simplified(graph, known, sweep["cells"])
    rows = [[sp.S.Zero] * sweep["cols"] for _ in range(sweep["rows"])]
    for (r, c), e in vals.items():
        rows[r][c] = sp.sympify(e)
    return sp.ImmutableMatrix(rows)


__all__ = ["jacobian_matrix", "entries"]
