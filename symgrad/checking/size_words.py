"""Sizes and shapes in the hints' words: "N = 5, a size of the problem", "4, the size of axis 1 of
x (5, 4)", "a scalar" — the size a constant factor is, named as the user declared it (factor_hints.py,
fanout_hint.py, shape_hints.py)."""
from __future__ import annotations

from .claims import shape_text, _shape, _symbols


def _shape_txt(s) -> str:
    return "a scalar" if tuple(s) == () else shape_text(s)


def _size_name(case, n: int) -> str:
    """The name of the size n (N), or n itself when n is no size's alone (`_same_value_sizes`)."""
    named = [k for k, v in sorted((case.sizes or {}).items()) if v == n]
    return named[0] if len(named) == 1 and not _literal_axes(case, n) else str(n)


def _literal_axes(case, n: int) -> str | None:
    """Where n is a declared integer dimension: "the size of axis 1 of x (N, 4, 3)" (wrt first);
    None when no declared shape has n written as a number (or the check has no declared shapes)."""
    shapes = case.shapes or {}
    for name in dict.fromkeys([p.name for p in case.params] + sorted(shapes)):
        shape = shapes.get(name, ())
        axes = [i for i, d in enumerate(shape) if isinstance(d, int) and d == n]
        if axes:
            txt = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
            return f"the size of {_axes_words(axes)} of {name} {txt}"
    return None


def _axes_words(axes) -> str:
    return f"axis {axes[0]}" if len(axes) == 1 else "axes " + ", ".join(map(str, axes[:-1])) + f" and {axes[-1]}"


def _same_value_sizes(case, n: int, named) -> str | None:
    """The words for n when several sizes have that value (N = T = 4 given in ``dims=``, or N = 4
    and a declared 4): every one of them, since the check cannot tell which the factor is of."""
    literal = _literal_axes(case, n)
    if len(named) + (literal is not None) < 2:
        return None
    which = [f"the size {k}" for k in named] + ([literal] if literal else [])
    return (f"{n}, which is {' and '.join(which)} (equal here, as dims= or at= fixed "
            f"{' and '.join(named)}: the check cannot tell which one the factor is; give "
            f"{named[0]} a value no other size has to have it named)")


def _size_words(case, n: int) -> str:
    """The size n as the user knows it: "N = 5" for a declared symbolic size, else "4, the size of
    axis 1 of x (5, 4)" (the first tensor of f with an axis of that size, wrt first); every size
    of that value when there are several (`_same_value_sizes`)."""
    named = [k for k, v in sorted((case.sizes or {}).items()) if v == n]
    both = _same_value_sizes(case, n, named)
    if both:
        return both
    if named:
        return f"{named[0]} = {n}, a size of the problem"
    for s in list(case.params) + sorted(_symbols(case.f), key=lambda s: s.name):
        shape = _shape(s)
        axes = [i for i, d in enumerate(shape) if d == n]
        if n in shape and len(shape) == 2 and 1 in shape:          # a column (or row) vector
            return f"{n}, the length of {s.name} {_shape_txt(shape)}"
        if n in shape and len(shape) > 1:
            return f"{n}, the size of {_axes_words(axes)} of {s.name} {_shape_txt(shape)}"
        if n in shape:
            return f"{n}, the size of {s.name} {_shape_txt(shape)}"
    return f"{n}, a dimension of the problem"


def _dims(case) -> set:
    out = set()
    for s in _symbols(case.f):
        out.update(d for d in _shape(s) if d > 1)
    return out
