"""einops' ``rearrange``, ``reduce`` and ``repeat`` on symgrad's tensors, so that a model written
with einops reads as written: ``rearrange(qkv, "b n (three h d) -> three b h n d", three=3, h=H)``,
``reduce(x, "b c h w -> b c", "mean")``, ``repeat(k, "b h n d -> b (h r) n d", r=2)`` (grouped-query
attention's repeated heads). Each is a reshape into the pattern's elementary axes, a permutation,
a reduction or a broadcast, and a reshape into its groups: no rule, printer or kernel of its own.

A pattern is text and is read by a whitelisting tokenizer (names, numbers, ``(``, ``)``, ``...``,
``->``), never evaluated. Supported as einops: groups ``(h d)`` on both sides, ``...``, unit axes
``1`` and ``()``, sizes by keyword (``h=8``; one unknown per group is worked out, a symbolic size N
too), new axes of ``repeat`` by name with their size or as a number (``h w -> h w 3``).

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x = sg.tensor("x", (N, 6, 5))
>>> rearrange(x, "b (h d) n -> b h n d", h=2).shape
(N, 2, 5, 3)
>>> reduce(x, "b c n -> b c", "max").shape, repeat(x, "b c n -> b c n r", r=4).shape
((N, 6), (N, 6, 5, 4))
"""
from __future__ import annotations

import re

import sympy as sp

from ..errors import ArgumentError, ShapeError
from . import tensor as T
from .tensor_products import prod

__all__ = ["rearrange", "reduce", "repeat"]

_TOKEN = re.compile(r"\s*(\.\.\.|\(|\)|[A-Za-z_][A-Za-z0-9_]*|[0-9]+)")
_REDUCTIONS = ("sum", "mean", "max", "min", "prod")
_ELLIPSIS = "…"          # the prefix of the names the axes of ``...`` get (no user name starts so)
_GROUPED = "…()"         # ``...`` inside a group: its axes merged


def _side(text: str, who: str, pattern: str) -> list:
    """One side of a pattern: a list of groups, each a list of axis names (a number: an anonymous
    axis of that size, written as the int; ``...``: the name _ELLIPSIS)."""
    groups, current, pos = [], None, 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip() == "":
                break
            raise ArgumentError(f"{who}: cannot read {text[pos:].strip()!r} in the pattern {pattern!r}; a pattern "
                                f"holds axis names, numbers, ( ), ... and one ->")
        tok, pos = m.group(1), m.end()
        if tok == "(":
            if current is not None:
                raise ArgumentError(f"{who}: a group inside a group in {pattern!r}")
            current = []
        elif tok == ")":
            if current is None:
                raise ArgumentError(f"{who}: a ')' without its '(' in {pattern!r}")
            groups.append(current)
            current = None
        else:
            name = (_ELLIPSIS if current is None else _GROUPED) if tok == "..." else int(tok) if tok.isdigit() else tok
            if current is None:
                groups.append([name] if name != 1 else [])
            elif name != 1:
                current.append(name)
    if current is not None:
        raise ArgumentError(f"{who}: a '(' without its ')' in {pattern!r}")
    names = [n for g in groups for n in g if isinstance(n, str)]
    if len(names) != len(set(names)):
        raise ArgumentError(f"{who}: an axis named twice on one side of {pattern!r}")
    if sum(n in (_ELLIPSIS, _GROUPED) for g in groups for n in g) > 1:
        raise ArgumentError(f"{who}: at most one ... on a side of {pattern!r}")
    return groups


def _expand_ellipsis(groups: list, count: int) -> list:
    """The right side's ``...`` as the ``count`` axes …0, …1, … it stands for: alone, as that many
    groups of one axis; inside a group, all of them merged there."""
    names = [f"{_ELLIPSIS}{i}" for i in range(count)]
    out = []
    for g in groups:
        if g == [_ELLIPSIS]:
            out += [[n] for n in names]
        elif _GROUPED in g:
            i = g.index(_GROUPED)
            out.append(g[:i] + names + g[i + 1:])
        else:
            out.append(g)
    return out


def _parse(x, pattern, who, lengths):
    if not isinstance(pattern, str) or pattern.count("->") != 1:
        raise ArgumentError(f"{who}: the pattern must be text with one '->', as einops', got {pattern!r}")
    left_text, right_text = pattern.split("->")
    left, right = _side(left_text, who, pattern), _side(right_text, who, pattern)
    if any(isinstance(n, int) for g in left for n in g):
        raise ArgumentError(f"{who}: a number on the left of {pattern!r}; name the axis and give its size "
                            f"({who}(x, pattern, h=2))")
    if any(_GROUPED in g for g in left):
        raise ArgumentError(f"{who}: ... inside a group on the left of {pattern!r} is not supported; write the "
                            f"axes out")
    has_dots = [_ELLIPSIS] in left
    if any(n in (_ELLIPSIS, _GROUPED) for g in right for n in g) and not has_dots:
        raise ArgumentError(f"{who}: ... on the right of {pattern!r} but not on the left")
    fixed = len(left) - (1 if has_dots else 0)
    if (x.ndim != len(left)) if not has_dots else x.ndim < fixed:
        raise ShapeError(f"{who}: the pattern's left side {left_text.strip()!r} has {len(left)} axes, but {x} "
                         f"has {x.ndim}, of shape {tuple(x.shape)}")
    count = x.ndim - fixed
    left_groups, right = _expand_ellipsis(left, count), _expand_ellipsis(right, count)
    sizes = {k: T.as_expr(v, f"{who}'s size {k}") for k, v in lengths.items()}
    for g, d in zip(left_groups, x.shape):
        unknown = [n for n in g if n not in sizes]
        known = sp.Mul(*[sizes[n] for n in g if n in sizes])
        if len(unknown) > 1:
            raise ArgumentError(f"{who}: the group ({' '.join(g)}) of {pattern!r} needs the sizes of all but one "
                                f"of {', '.join(unknown)} as keywords ({unknown[0]}=...)")
        if unknown:
            q = sp.simplify(sp.sympify(d) / known)
            if not (q.is_Integer and q > 0) and not (q.free_symbols and q.is_integer):
                raise ShapeError(f"{who}: axis of size {d} of {x} is not ({' '.join(map(str, g))}) with "
                                 f"{', '.join(f'{n}={sizes[n]}' for n in g if n in sizes)}")
            sizes[unknown[0]] = q
        elif sp.simplify(sp.sympify(d) - known) != 0:
            raise ShapeError(f"{who}: axis of size {d} of {x} is not ({' '.join(map(str, g))}) = {known}")
    return left_groups, right, sizes


def _decomposed(x, left_groups, sizes):
    flat = [n for g in left_groups for n in g]
    shape = tuple(sizes[n] for n in flat)
    return (x if shape == tuple(x.shape) else T.reshape(x, shape)), flat


def _permuted(x, flat, order):
    perm = [flat.index(n) for n in order]
    return x if perm == sorted(perm) else x.permute(*perm)


def _composed(x, right, sizes):
    shape = tuple(sp.Mul(*[sizes[n] if isinstance(n, str) else n for n in g]) for g in right)
    return x if shape == tuple(x.shape) else T.reshape(x, shape)


def rearrange(tensor, pattern: str, **axes_lengths):
    """einops' ``rearrange(x, "b (h d) n -> b h n d", h=8)``: x's axes split, permuted and merged as
    the pattern says (every axis on both sides)."""
    x = T._tensor_arg(tensor, "rearrange")
    left, right, sizes = _parse(x, pattern, "rearrange", axes_lengths)
    x, flat = _decomposed(x, left, sizes)
    order = [n for g in right for n in g]
    if sorted(map(str, order)) != sorted(flat):
        missing = sorted(set(flat) - set(map(str, order)))
        extra = sorted(set(map(str, order)) - set(flat))
        raise ArgumentError(f"rearrange: {pattern!r} " + (f"drops {', '.join(missing)} (einops' reduce sums or "
                            f"averages an axis away)" if missing else f"adds {', '.join(extra)} (einops' repeat "
                            f"adds an axis)"))
    return _composed(_permuted(x, flat, order), right, sizes)


def reduce(tensor, pattern: str, reduction: str, **axes_lengths):
    """einops' ``reduce(x, "b c (h h2) (w w2) -> b c h w", "max", h2=2, w2=2)``: the axes missing on
    the right reduced by ``reduction`` — "sum", "mean", "max", "min" or "prod" (max and min route the
    gradient to the first arg-max, as ``x.max(axis=)``)."""
    x = T._tensor_arg(tensor, "reduce")
    if reduction not in _REDUCTIONS:
        raise ArgumentError(f"reduce: reduction={reduction!r}; it takes {', '.join(map(repr, _REDUCTIONS))}")
    left, right, sizes = _parse(x, pattern, "reduce", axes_lengths)
    x, flat = _decomposed(x, left, sizes)
    order = [n for g in right for n in g]
    extra = sorted(set(map(str, order)) - set(flat))
    if extra:
        raise ArgumentError(f"reduce: {pattern!r} adds {', '.join(extra)} (einops' repeat adds an axis)")
    gone = tuple(i for i, n in enumerate(flat) if n not in order)
    if gone:
        x = T.sum(x, axis=gone) if reduction == "sum" else T.mean(x, axis=gone) if reduction == "mean" else \
            T.max(x, axis=gone) if reduction == "max" else T.min(x, axis=gone) if reduction == "min" else \
            prod(x, axis=gone)
        flat = [n for n in flat if n in order]
    return _composed(_permuted(x, flat, order), right, sizes)


def repeat(tensor, pattern: str, **axes_lengths):
    """einops' ``repeat(k, "b h n d -> b (h r) n d", r=2)``: the axes new on the right (a name with its
    size, or a number) added by broadcasting; the gradient sums over them."""
    x = T._tensor_arg(tensor, "repeat")
    left, right, sizes = _parse(x, pattern, "repeat", axes_lengths)
    x, flat = _decomposed(x, left, sizes)
    order = [n for g in right for n in g]
    missing = sorted(set(flat) - set(map(str, order)))
    if missing:
        raise ArgumentError(f"repeat: {pattern!r} drops {', '.join(missing)} (einops' reduce takes an axis away)")
    new = [n for n in order if isinstance(n, str) and n not in flat]
    unsized = [n for n in new if n not in sizes]
    if unsized:
        raise ArgumentError(f"repeat: the new axis {unsized[0]} of {pattern!r} needs its size ({unsized[0]}=...)")
    x = _permuted(x, flat, [n for n in order if n in flat])
    full = tuple(sizes[n] if isinstance(n, str) else sp.Integer(n) for n in order)
    ones = tuple(1 if (isinstance(n, int) or n in new) else d for n, d in zip(order, full))
    if ones != tuple(x.shape):
        x = T.reshape(x, ones)
    if full != ones:
        x = T.broadcast(x, full)
    return _composed(x, right, sizes)

