"""A claim that differentiates one branch of a Piecewise everywhere: the Huber loss's derivative
written r for both branches (½r² differentiated, its other branch |r| − ½ ignored), or sign(r) for
both. f is derived again with the Piecewise replaced by each branch's expression alone, and the
claim compared with that gradient. `hints.find_hint` asks it after the branch-slope hints, which
name a claim right on one side of a kink and wrong by a constant on the other; here the claim is
the other branch's derivative carried over, which is no constant.

>>> import sympy as sp, symgrad as sg
>>> r = sp.Symbol("r", real=True)
>>> huber = sp.Piecewise((r**2 / 2, sp.Abs(r) <= 1), (sp.Abs(r) - sp.Rational(1, 2), True))
>>> sg.check(huber, r, r).hint.kind
'one branch everywhere'
"""
from __future__ import annotations

import sympy as sp

from .hint_case import Case, _claim_is_gradient_of, _fitted, differs, short_text
from .hint_kind import Hint

MOST_PIECES = 4


def one_branch_hint(case: Case):
    pieces = list(dict.fromkeys(n for n in sp.preorder_traversal(case.f) if isinstance(n, sp.Piecewise)))
    if not pieces or len(pieces) > MOST_PIECES or not differs(*_fitted(case)):
        return None
    for pw in pieces:
        for i, (e, cond) in enumerate(pw.args):
            if _claim_is_gradient_of(case, case.f.xreplace({pw: e})):
                others = [f"{short_text(o, 40)} where {_condition(c, pw, j)}"
                          for j, (o, c) in enumerate(pw.args) if j != i]
                return Hint("one branch everywhere",
                            f"the claim is the derivative of the branch {short_text(e, 40)} (where "
                            f"{_condition(cond, pw, i)}) used everywhere: the Piecewise's other branch "
                            f"{'; '.join(others)} has its own derivative there. Differentiate each branch on its "
                            f"own side and keep the conditions.")
    return None


def _condition(c, pw, i) -> str:
    """A branch's condition as a student reads it: "otherwise" for the last True."""
    return "otherwise" if c is sp.true and i == len(pw.args) - 1 else str(c)


__all__ = ["one_branch_hint"]
