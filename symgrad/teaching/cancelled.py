"""A scalar gradient whose terms cancel, written without them: logistic regression's
∂L/∂z = (−y/ŷ − (y − 1)/(1 − ŷ))·ŷ·(1 − ŷ) is ŷ − y, as every slide on the cross-entropy of a
sigmoid writes it (the 1/ŷ and 1/(1 − ŷ) of the log's derivative cancel against σ′ = ŷ·(1 − ŷ)),
and forward mode's ŷ·(1 − y) − y·(1 − ŷ) is the same ŷ − y (its ŷ·y terms cancel). Only a result
that is no longer a fraction and is shorter is taken, and a sum only where some of its terms
cancel; a common factor stays outside the sum (x·(ŷ − y), not x·ŷ − x·y); anything else is left
as the chain rule built it.

>>> import sympy as sp
>>> x, y, h = sp.symbols('x y h')
>>> cancelled(x * h * (1 - h) * (-y / h - (y - 1) / (1 - h)))
x*(h - y)
>>> cancelled(x * h * (1 - y) - x * y * (1 - h))
x*(h - y)
>>> cancelled(-y / h), cancelled(2 * (x + y) + x * y)
(-y/h, x*y + 2*x + 2*y)
"""
from __future__ import annotations

import sympy as sp

_MOST_NODES = 150     # larger trees are left alone: expanding them is slow, and rarely shorter


def _small(e) -> bool:
    """Whether the tree of ``e`` has at most `_MOST_NODES` nodes, counted lazily (a deep fan-out's
    tree doubles at each level: counting all of it, as count_ops would, took seconds)."""
    for k, _ in enumerate(sp.preorder_traversal(e)):
        if k > _MOST_NODES:
            return False
    return True


def cancelled(e):
    """``e`` with its fractions cancelled, or its sum's cancelling terms dropped, where that leaves
    no fraction of symbols and fewer operations; otherwise ``e`` itself."""
    if not isinstance(e, sp.Expr) or e.is_Matrix or not e.free_symbols:
        return e
    try:
        if not _small(e):
            return e
        if any(p.exp.is_negative and p.base.free_symbols for p in e.atoms(sp.Pow)):
            c = sp.cancel(e)
            if sp.fraction(c)[1].free_symbols:
                return e                      # still a fraction: the chain rule's form reads better
        elif isinstance(e, sp.Add):
            c = sp.expand(e)
            if len(sp.Add.make_args(c)) >= sum(len(sp.Add.make_args(sp.expand(t))) for t in e.args):
                return e                      # no terms cancel: the sum as built (2·(x + y), factored)
        else:
            return e
        c = sp.factor_terms(c)
    except (sp.PolynomialError, TypeError, ValueError):   # Iverson brackets, Piecewise: as built
        return e
    return c if sp.count_ops(c) < sp.count_ops(e) else e
