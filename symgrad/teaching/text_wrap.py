"""A Gradient line of the text form wrapped at `TEXT_WIDTH` characters: each = on a line of its own
under the first, a side still too long broken before its outermost + and − (then ⊙, · and @, after
commas, one bracket level deeper at a time), never inside a name, a number or a short group.
"""
from __future__ import annotations

import re

TEXT_WIDTH = 100        # characters a Gradient line of the text form takes before it wraps

_OPERATOR = re.compile(r" (?=[+\-−⊙·=@] )|(?<=,) ")


def wrap_equation(lhs: str, segs: list, width: int = TEXT_WIDTH) -> list:
    """``lhs = seg₁ = seg₂ = ...`` as lines of at most ``width`` characters where it can: each
    segment that does not fit goes on a line of its own under the first =, and a segment longer
    than a line is broken before its outermost + and − (then ⊙, ·, and after commas, one level of
    brackets deeper at a time); a line never breaks inside a name or a number.

    >>> wrap_equation("  ∂f/∂x", ["a + b", "3"], width=40)
    ['  ∂f/∂x = a + b = 3']
    >>> wrap_equation("  ∂f/∂x", ["(a + b)·c + d·e − f", "3"], width=20)
    ['  ∂f/∂x = (a + b)·c', '          + d·e − f', '        = 3']
    """
    one = lhs + " = " + " = ".join(segs)
    if len(one) <= width:
        return [one]
    pad = " " * len(lhs)
    lines = []
    for k, seg in enumerate(segs):
        head = (lhs if k == 0 else pad) + " = "
        pieces = _break(seg, width - len(head))
        lines.append(head + pieces[0])
        lines += [pad + "   " + p for p in pieces[1:]]
    return lines


def _depths(s: str) -> list:
    """The bracket depth at each character of ``s``."""
    out, d = [], 0
    for c in s:
        if c in ")]}":
            d -= 1
        out.append(d)
        if c in "([{":
            d += 1
    return out


SHORT_GROUP = 24        # a bracket group this short with none inside is never broken: (1, 0, 2, 3), (N, 16)


def _short_groups(s: str) -> list:
    """(start, end) of each innermost bracket group of ``s`` of at most SHORT_GROUP characters: an
    axis tuple or a shape (transpose(1, 0, 2, 3), reshape(N, 16)) stays on one line.

    >>> _short_groups("f(a, b) + g(h(1, 2), c)")
    [(1, 6), (13, 18)]
    """
    out, opened = [], []
    for k, c in enumerate(s):
        if c in "([{":
            opened.append(k)
        elif c in ")]}" and opened:
            a = opened.pop()
            if k - a <= SHORT_GROUP and not any(ch in "([{" for ch in s[a + 1:k]):
                out.append((a, k))
    return out


def _break(s: str, width: int, depth: int = 0) -> list:
    """``s`` cut into pieces of at most ``width`` characters, at the spaces around operators (and
    after commas) of bracket depth ``depth``, then deeper; a piece with no such space stays whole."""
    if len(s) <= width or depth > 8:
        return [s]
    d = _depths(s)
    whole = _short_groups(s)
    cuts = [m.start() for m in _OPERATOR.finditer(s) if d[m.start()] == depth
            and not any(a < m.start() < b for a, b in whole)]
    if not cuts:
        return _break(s, width, depth + 1)
    parts, last = [], 0
    for c in cuts:
        parts.append(s[last:c])
        last = c + 1            # the space is dropped: the next piece starts with its operator
    parts.append(s[last:])
    lines = [""]
    for p in parts:
        if lines[-1] and len(lines[-1]) + 1 + len(p) > width:
            lines.append(p)
        else:
            lines[-1] = (lines[-1] + " " + p) if lines[-1] else p
    out = []
    for line in lines:
        out += _break(line, width, depth + 1) if len(line) > width else [line]
    return out
