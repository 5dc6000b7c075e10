"""A negated sum as the slide writes it: −(w₀x₀ + w₁x₁ + w₂), one sum and then a ×(−1) gate.

SymPy distributes a minus sign over the sum it negates: the sigmoid neuron typed as on cs231n's
slide, ``1/(1 + exp(-(w0*x0 + w1*x1 + w2)))``, reaches symgrad as exp(−w₀·x₀ − w₁·x₁ − w₂), whose
lowering folds the sign into each product (u₁ = −w₁·x₁, u₂ = −w₀·x₀, u₃ = u₁ + u₂ − w₂). The slide
computes the sum first and negates it after, and so does every view of a derivation once the sign
is taken back out here: the function's argument −w₀·x₀ − w₁·x₁ − w₂ becomes the unevaluated
product −1·(w₀·x₀ + w₁·x₁ + w₂). Only the argument of a function (exp, sin, σ, ...) whose every
term is negative is rewritten — a sum with a positive term (w₂ − w₀·x₀) is written as it is, and so
is a sum that is f itself or a factor of a product. The value of f is unchanged.

>>> import sympy as sp
>>> w0, x0, w1, x1, w2 = sp.symbols('w0 x0 w1 x1 w2')
>>> minus_outside(sp.exp(-(w0 * x0 + w1 * x1 + w2))).args[0].args
(-1, w0*x0 + w1*x1 + w2)
"""
from __future__ import annotations

import sympy as sp


def _all_negative(node) -> bool:
    """Whether ``node`` is a scalar sum of two or more terms, each with a negative coefficient."""
    if not isinstance(node, sp.Add) or node.is_Matrix or len(node.args) < 2:
        return False
    return all(t.as_coeff_Mul()[0].is_negative for t in node.args)


def minus_outside(f):
    """``f`` with every function argument that is a sum of negative terms written −(the sum), the
    sum's terms in SymPy's order (the printers then put them as written); ``f`` itself (the same
    object) when there is none."""
    if not isinstance(f, sp.Basic):
        return f

    def walk(node):
        if not node.args or isinstance(node, (sp.Symbol, sp.MatrixSymbol)):
            return None
        args = [walk(a) if isinstance(a, sp.Basic) else None for a in node.args]
        if isinstance(node, sp.Function):
            args = [sp.Mul(-1, sp.Add(*[-t for t in a.args]), evaluate=False)
                    if b is None and _all_negative(a) else b for a, b in zip(node.args, args)]
        if all(b is None for b in args):
            return None
        new = [a if b is None else b for a, b in zip(node.args, args)]
        # a sum or a product around the rewritten part is rebuilt as it is: evaluating it would
        # distribute the sign again (as `symgrad.teaching.names` keeps a regrouped part)
        if isinstance(node, (sp.Add, sp.Mul, sp.Pow)):
            return node.func(*new, evaluate=False)
        return node.func(*new)

    out = walk(f)
    return f if out is None else out


def sign_inside(e):
    """``e`` with each −(sum) `minus_outside` wrote distributed again, for counting its operations:
    SymPy's count_ops does not count the terms of a sum under an unevaluated −1·(…), so
    −1/(1 + exp(−(w₀·x₀ + w₁·x₁ + w₂)))² counted as short as −1/(1 + exp(−s))²."""
    if not isinstance(e, sp.Basic):
        return e
    kept = {n: sp.Add(*[-t for t in n.args[1].args]) for n in sp.preorder_traversal(e)
            if isinstance(n, sp.Mul) and len(n.args) == 2 and n.args[0] == -1 and isinstance(n.args[1], sp.Add)
            and not n.is_Matrix}
    return e.xreplace(kept) if kept else e
