"""A scalar gradient whose fractions cancel, written without them: logistic regression's
∂L/∂z = (−y/ŷ − (y − 1)/(1 − ŷ))·ŷ·(1 − ŷ) is ŷ − y, as every slide on the cross-entropy of a
sigmoid writes it (the 1/ŷ and 1/(1 − ŷ) of the log's derivative cancel against σ′ = ŷ·(1 − ŷ)).
Only a result that is no longer a fraction and is shorter is taken; a common factor stays outside
the sum (x·(ŷ − y), not x·ŷ − x·y); anything else is left as the chain rule built it.

>>> import sympy as sp
>>> x, y, h = sp.symbols('x y h')
>>> cancelled(x * h * (1 - h) * (-y / h - (y - 1) / (1 - h)))
x*(h - y)
>>> cancelled(-y / h)
-y/h
"""
from __future__ import annotations

import sympy as sp


def cancelled(e):
    """``e`` with its fractions cancelled, where that leaves no fraction of symbols and fewer
    operations; otherwise ``e`` itself."""
    if not isinstance(e, sp.Expr) or e.is_Matrix or not e.free_symbols:
        return e
    try:
        if not any(p.exp.is_negative and p.base.free_symbols for p in e.atoms(sp.Pow)):
            return e                          # no fraction of symbols to cancel
        c = sp.cancel(e)
        if sp.fraction(c)[1].free_symbols:
            return e                          # still a fraction: the chain rule's form reads better
        c = sp.factor_terms(c)
    except (sp.PolynomialError, TypeError, ValueError):   # Iverson brackets, Piecewise: as built
        return e
    return c if sp.count_ops(c) < sp.count_ops(e) else e
