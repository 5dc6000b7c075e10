"""How deeply the steps may nest (`checked_nesting`): an expression written n calls deep has n steps
whose closed forms are each up to n deep, so building and writing the steps grows as n³, and the
writing recurses some nine Python frames a level. At 150 levels ``symgrad derive`` worked for
25 seconds to fail on Python's recursion limit; the steps now refuse such an expression at once
(the gradient itself, `symgrad.grad`, is not limited)."""
from __future__ import annotations

import sympy as sp

from ..errors import UnsupportedError

STEPS_MAX_NESTING = 100      # levels of calls and operations the steps are written for


def nesting(e) -> int:
    """The number of levels of operations in ``e`` (a symbol or a number: 0; sin(x): 1), found
    without recursion and visiting a shared subexpression once."""
    if not isinstance(e, sp.Basic):
        return 0
    depth: dict = {}
    stack = [(e, False)]
    while stack:
        a, done = stack.pop()
        if a in depth:
            continue
        kids = [k for k in a.args if isinstance(k, sp.Basic)]
        if done or not kids:
            depth[a] = 1 + max(depth[k] for k in kids) if kids else 0
            continue
        stack.append((a, True))
        stack.extend((k, False) for k in kids if k not in depth)
    return depth[e]


def checked_nesting(f) -> None:
    """Raise `UnsupportedError` when ``f`` nests more than `STEPS_MAX_NESTING` levels deep."""
    n = nesting(f)
    if n > STEPS_MAX_NESTING:
        raise UnsupportedError(
            f"the expression is nested {n} levels deep; the steps are written for at most "
            f"{STEPS_MAX_NESTING} (the gradient itself, symgrad.grad, has no such limit)")
