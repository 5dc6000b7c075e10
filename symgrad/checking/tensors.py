"""`sg.check` of a tensor expression: symbolic sizes made concrete, integer labels drawn in range.

A tensor declaration may use symbolic sizes (N); the check fixes each to a small number: given in
``at={N: 5}``, or read off an array given in ``at=`` (a mask of shape (4, 3) for an (N, 3) one), else
4, 5, 6, ... in the order of the sizes' names, skipping the fixed dimensions of f's tensors —
distinct, so that a transposed or wrongly summed claim cannot pass, or lose its hint, by a
coincidence of sizes (dgamma summed over axis 1 of an (N, 4) x is no gradient of a (4,) gamma). It
substitutes them in f, wrt and the claims. An integer tensor (labels, indices) is drawn uniformly
from the range its uses allow: the n of ``one_hot(y, n)``, the size of the axis ``take`` /
``take_along_axis`` index.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> s, y = sg.tensor("s", (N, 3)), sg.tensor("y", (N,), integer=True)
>>> f, wrt, claimed, at, ranges = concretize(sg.cross_entropy(s, y), s, None, {})
>>> wrt.shape, ranges
((4, 3), {'y': 3})
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import sympy as sp

from ..core.values import key_name
from ..errors import ArgumentError, SymgradError
from ..errors import show_value          # a NumPy scalar in a message as its number
from ..frontend import tensor as T
from ..frontend.parse import MAX_DIM, as_expr


def sizes_of(*exprs) -> list:
    """The symbolic sizes of the tensors in ``exprs``, sorted by name."""
    out = set()
    for e in exprs:
        for t in as_expr(e).atoms(T.Tensor):
            for d in t.shape:
                out |= as_expr(d).free_symbols
    return sorted(out, key=lambda s: s.name)


def fixed_dims(*exprs) -> set:
    """The integer dimensions of the tensors in ``exprs`` (a symbolic size is drawn apart from them).

    >>> import sympy as sp, symgrad as sg
    >>> N = sp.Symbol("N", integer=True, positive=True)
    >>> sorted(fixed_dims(sg.tensor("x", (N, 4)) @ sg.tensor("w", (4, 5))))
    [4, 5]
    """
    out = set()
    for e in exprs:
        for t in as_expr(e).atoms(T.Tensor):
            out |= {int(d) for d in t.shape if as_expr(d).is_Integer}
    return out


def label_ranges(f) -> dict:
    """{name of an integer tensor: n}: labels are drawn from 0 … n − 1 (the smallest n its uses allow)."""
    out: dict = {}

    def note(idx, n):
        for t in as_expr(idx).atoms(T.Tensor):
            if t.is_integer_tensor and as_expr(n).is_Integer:
                out[t.name] = min(out.get(t.name, int(n)), int(n))

    for node in sp.preorder_traversal(f):
        if isinstance(node, T.OneHot):
            note(node.args[0], node.n)
        elif isinstance(node, T.Take):
            note(node.args[1], node.args[0].shape[node.axis])
        elif isinstance(node, T.TakeAlong):
            note(node.args[1], node.args[0].shape[int(node.args[2])])
    return out


def concretize(f, wrt, claimed, at: Mapping):
    """(f, wrt, claimed, at, label ranges) with every symbolic size replaced by its number."""
    wrts = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    sizes = sizes_of(f, *wrts)
    given = {key_name(k): v for k, v in (at or {}).items()}
    fixed = choose_sizes(sizes, given, fixed_dims(f, *wrts), sizes_from_values(sizes, given, f, *wrts))
    # Text (a claim "2*X") is read by the parser, its names meaning f's tensors and symbols; never
    # by sympify, which would evaluate it.
    declared = {}
    for e in (f, *wrts):
        if isinstance(e, sp.Basic):
            for a in e.atoms(sp.Symbol, sp.MatrixSymbol, T.Tensor):
                if not isinstance(a, sp.Dummy):
                    declared.setdefault(a.name, a)

    def sub(e):
        return as_expr(e, symbols=declared).xreplace(fixed)
    at = {kk: v for kk, v in (at or {}).items() if key_name(kk) not in {s.name for s in sizes}}

    def over(c):
        if isinstance(c, (list, tuple)):
            return type(c)(over(x) for x in c)
        if isinstance(c, Mapping):
            return {kk: over(v) for kk, v in c.items()}
        if callable(c) and not isinstance(c, sp.Basic):
            return c
        return c if c is None else sub(c)

    f = sub(f)
    return f, over(wrt), over(claimed), at, label_ranges(f)


def second_sizes(f, wrt, at: Mapping, first: Mapping) -> dict:
    """{name: n} for the symbolic sizes the check chose itself (not given in ``at=``, nor read off an
    array there), at new values: the fixed dimensions of f's tensors and the ``first`` values
    skipped, distinct as in `concretize`. The check decides a claim again at them, so that a claim
    written with a literal (``/ 5`` where ``/ N`` belongs) cannot pass at the one N = 5 it chose.
    Empty when every size was given.

    >>> import sympy as sp, symgrad as sg
    >>> N = sp.Symbol("N", integer=True, positive=True)
    >>> second_sizes(sg.sum(sg.tensor("x", (N, 4))), sg.tensor("x", (N, 4)), {}, {"N": 5})
    {'N': 6}
    """
    wrts = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    sizes = sizes_of(f, *wrts)
    given = {key_name(k): v for k, v in (at or {}).items()}
    from_values = sizes_from_values(sizes, given, f, *wrts)
    free = [s for s in sizes if s.name not in given and s not in from_values]
    taken = fixed_dims(f, *wrts) | {int(v) for v in first.values()}
    out, k = {}, max([4, *(int(first[s.name]) for s in free if s.name in first)]) + 1
    for s in free:
        while k in taken:
            k += 1
        out[s.name] = k
        k += 1
    return out


def has_literal(f, wrt, claimed, n: int) -> bool:
    """Does the claim (an expression, text, or a list / dict of them) hold the number n or 1/n
    written out (``/ 4``, ``* 0.25``)? Text is parsed with f's names, never evaluated."""
    wrts = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    declared = {a.name: a for e in (f, *wrts) if isinstance(e, sp.Basic)
                for a in e.atoms(sp.Symbol, sp.MatrixSymbol, T.Tensor) if not isinstance(a, sp.Dummy)}
    parts = list(claimed.values()) if isinstance(claimed, Mapping) else (
        list(claimed) if isinstance(claimed, (list, tuple)) else [claimed])
    for c in parts:
        try:
            e = as_expr(c, symbols=declared)
        except SymgradError:                    # the check itself has read it: only the hint's words change
            continue
        for a in e.atoms(sp.Number):
            if a != 0 and (abs(a - n) < 1e-12 or abs(1 / a - n) < 1e-9):
                return True
    return False


def sizes_said(f, wrt, at: Mapping) -> str:
    """The symbolic sizes of a tensor check as its method says them: those ``at=`` gave, those read
    off an array given there, and those the check drew itself (with how to choose them); "" where f
    has none. A report that says "x is (5, 3)" of an x declared (N, 3) should say where the 5 came from.

    >>> import sympy as sp, symgrad as sg
    >>> N = sp.Symbol("N", integer=True, positive=True)
    >>> x = sg.tensor("x", (N, 4))
    >>> sizes_said(sg.sum(x), x, {})
    "the symbolic sizes drawn at N = 5 (choose them with at={'N': 3})"
    """
    wrts = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    sizes = sizes_of(f, *wrts)
    if not sizes:
        return ""
    given = {key_name(k): v for k, v in (at or {}).items()}
    read = {s.name for s in sizes_from_values(sizes, given, f, *wrts)}
    now = fixed_sizes(f, concretize(f, wrt, None, at or {})[0])
    groups = (("given", [k for k in now if k in given]),
              ("read", [k for k in now if k in read and k not in given]),
              ("drawn", [k for k in now if k not in given and k not in read]))
    parts = []
    for how, names in groups:
        if not names:
            continue
        words = ", ".join(f"{k} = {now[k]}" for k in names)
        if how == "drawn":
            choose = ", ".join(f"{k!r}: 3" for k in names)
            parts.append(f"the symbolic sizes drawn at {words} (choose them with at={{{choose}}})")
        else:
            parts.append(f"the symbolic sizes at {words}, " + ("as given" if how == "given" else "read off the arrays given"))
    return "; ".join(parts)


def fixed_sizes(before, after) -> dict:
    """{name of a symbolic size of ``before``: the number ``concretize`` made it in ``after``}, read
    off the tensors of the same name (so a hint can say "N = 5" of the N the user declared)."""
    shapes = {t.name: t.shape for t in as_expr(after).atoms(T.Tensor)}
    out: dict = {}
    for t in as_expr(before).atoms(T.Tensor):
        for d, n in zip(t.shape, shapes.get(t.name, ())):
            d = as_expr(d)
            if isinstance(d, sp.Symbol) and as_expr(n).is_Integer:
                out.setdefault(d.name, int(n))
    return out


def declared_shapes(f) -> dict:
    """{tensor name: its shape as declared}: an integer dimension as an int, a symbolic one as its
    text, so that a hint can tell a literal 4 from an N that ``at=`` or ``dims=`` made 4.

    >>> import sympy as sp, symgrad as sg
    >>> N = sp.Symbol("N", integer=True, positive=True)
    >>> declared_shapes(sg.sum(sg.tensor("x", (N, 4))))
    {'x': ('N', 4)}
    """
    return {t.name: tuple(int(d) if as_expr(d).is_Integer else str(d) for d in t.shape)
            for t in sorted(as_expr(f).atoms(T.Tensor), key=lambda t: t.name)}


def sizes_from_values(sizes, given: Mapping, *exprs) -> dict:
    """{size symbol: n} read off the arrays given in ``at=`` for tensors whose shape has that size
    as a dimension of its own (x of shape (N, 3) given as a (4, 3) array: N = 4)."""
    out: dict = {}
    for e in exprs:
        for t in as_expr(e).atoms(T.Tensor):
            v = given.get(t.name)
            if v is None or np.ndim(v) != len(t.shape):
                continue
            for d, n in zip(t.shape, np.shape(v)):
                if d in sizes and d not in out:
                    out[d] = int(n)
    return out


def choose_sizes(sizes, given: Mapping, taken: set, from_values: Mapping | None = None) -> dict:
    """{size symbol: the Integer it is drawn at}: the value given in at= (by name), else the one a
    value fixed in at= implies (a mask of shape (4, 3) says N = 4), else 4, 5, ... skipping ``taken``
    (the fixed dimensions of f's arrays, so that a literal 3 cannot stand for N unnoticed)."""
    fixed, k = {}, 4
    for s in sizes:
        if s.name in given:
            fixed[s] = sp.Integer(_size_given(s.name, given[s.name]))
        elif from_values and s in from_values:
            fixed[s] = sp.Integer(from_values[s])
        else:
            while k in taken:
                k += 1
            fixed[s] = sp.Integer(k)
            k += 1
    return fixed


def _size_given(name, v) -> int:
    """A size fixed in ``at=``: an integer from 1 to MAX_DIM (the check draws arrays of it)."""
    if isinstance(v, sp.Basic) and v.is_Integer:
        v = int(v)
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or not 1 <= v <= MAX_DIM:
        raise ArgumentError(f"at[{name!r}] fixes the size {name}: it takes an integer from 1 to "
                            f"{MAX_DIM}, got {show_value(v)}")
    return int(v)


def is_tensor_check(f) -> bool:
    return T.is_tensor_expr(as_expr(f))


__all__ = ["concretize", "declared_shapes", "fixed_sizes", "second_sizes", "has_literal", "label_ranges",
           "sizes_of", "is_tensor_check"]
