"""A scale by 1/√n as the slides write it: attention's S = QKᵀ/√d is printed u/√2, and its
gradient ∂L/∂S/√2 — not SymPy's canonical u·√2/2, which no slide writes (SymPy stores 1/√2 as
√2·½). Only a product whose numeric part is k·√n/n (k an integer) is rewritten; 3·√3/2 stays.

>>> import sympy as sp
>>> u = sp.Symbol("u")
>>> over_root(u / sp.sqrt(2)), over_root(3 * u * sp.sqrt(3) / 2)
((u, 2), None)
"""
from __future__ import annotations

import sympy as sp


def over_root(expr):
    """(the numerator, n) when ``expr`` = numerator/√n with an integer n > 1, else None."""
    if not isinstance(expr, sp.Mul):
        return None
    roots = [a for a in expr.args if a.is_Pow and a.base.is_Integer and a.base > 1 and a.exp == sp.S.Half]
    c = sp.Mul(*[a for a in expr.args if a.is_Rational])
    if len(roots) != 1 or c.q == 1:
        return None
    n = roots[0].base
    k = c * n
    if not k.is_Integer:
        return None
    rest = [a for a in expr.args if a is not roots[0] and not a.is_Rational]
    return sp.Mul(k, *rest), int(n)


def print_over_root(printer, expr, slash: str, root: str):
    """``expr`` printed as num/√n by ``printer`` (``slash`` the "/" of the format, ``root`` the
    template of √n), or None when it is no such product."""
    split = over_root(expr)
    if split is None:
        return None
    num, n = split
    text = printer.parenthesize(num, 50)
    if "/" in text and not text.startswith("("):      # (∂L/∂S)/√2, not ∂L/∂S/√2
        text = f"({text})"
    return text + slash + root % n
