"""Forward mode's closed forms as the slides write them (`symgrad.teaching.forward_steps`).

The tangents forward mode pushes are expanded by SymPy, which spreads a number over a sum and a
minus over a function's argument: ∂f/∂b of (w·x + b − y)² read 2·b + 2·w·x − 2·y, a tangent of the
sigmoid neuron x₀·exp(−w₀·x₀ − w₁·x₁ − w₂)/(1 + exp(−(w₀·x₀ + w₁·x₁ + w₂)))² — the header's
exp(−(…)) spelt two ways in one line, where reverse mode's Gradient says x₀·σ(s)·(1 − σ(s)). Here
each is written as the slide does: a number common to a sum's terms outside it, 2·(w·x + b − y)
(never a bare −1: −sin(x) − 2·x·y stays), a named sum by its name once the number is out
(2·q for q = x − y), σ where the logistic function is spelt out (as reverse mode,
`symgrad.teaching.logistic`), and a function's all-negative argument as −(the sum)
(`symgrad.teaching.negated_sum`). The value is unchanged. Reverse mode writes its scalar steps'
results and its Gradient section by the same rule (`numbers_outside_in_steps`): ∂f/∂b of
(w·x + b − y)² is 2·(w·x + b − y) in both modes.

>>> import sympy as sp
>>> b, w, x, y = sp.symbols('b w x y')
>>> numbers_outside(2 * b + 2 * w * x - 2 * y).args
(2, b + w*x - y)
>>> numbers_outside(-sp.sin(x) - 2 * x * y) == -sp.sin(x) - 2 * x * y
True
"""
from __future__ import annotations

import sympy as sp

from .binary_gates import products_flat
from .notation import Chain
from .logistic import sigma_form
from .names import _fold_products
from .negated_sum import minus_outside


def subtrees(e):
    """Each distinct subexpression of ``e`` once, outermost first (``sp.preorder_traversal`` visits
    a shared one each time it occurs: the derivative of sin nested n deep holds cos(sin(…)) of each
    depth, n²/2 nodes as a tree, n distinct ones)."""
    from sympy.utilities.iterables import iterable
    seen, stack = set(), [e]
    while stack:
        a = stack.pop()
        if isinstance(a, sp.Basic):
            if a in seen:
                continue
            seen.add(a)
            yield a
            stack.extend(reversed(a.args))
        elif iterable(a):
            stack.extend(reversed(list(a)))


def numbers_outside(e, memo: dict | None = None):
    """``e`` with each scalar sum whose terms share a number other than ±1 written c·(the sum):
    2·b + 2·w·x − 2·y is 2·(b + w·x − y), x/2 − y/2 is (x − y)/2; ``e`` itself when there is none.
    ``memo``: {sum: its form} kept between calls on expressions that share sums (the steps)."""
    if not isinstance(e, sp.Basic) or isinstance(e, sp.MatrixExpr):
        return e
    memo = {} if memo is None else memo

    def out(a):
        if a not in memo:
            memo[a] = _number_outside(a)
        return memo[a]
    found = {a: b for a in subtrees(e) if isinstance(a, sp.Add) and (b := out(a)) is not None}
    return e.xreplace(found) if found else e


def _number_outside(a):
    """c·(the sum) for a sum ``a`` whose terms share a number c other than ±1, else None."""
    if a.is_Matrix:
        return None
    f = sp.factor_terms(a, sign=False)
    if not isinstance(f, sp.Mul):
        return None
    c, rest = f.as_coeff_Mul()
    if not c.is_number or abs(c) == 1 or not isinstance(rest, sp.Add):
        return None
    return sp.Mul(c, rest, evaluate=False)


def scalar_numbers_outside(e, memo: dict | None = None):
    """`numbers_outside` of a scalar SymPy expression; any other (a matrix, a tensor expression,
    whose sums are entries' sums; a Value; None) as it is."""
    from ..frontend.tensor import TensorExpr
    if not isinstance(e, sp.Basic) or any(isinstance(a, (sp.MatrixExpr, sp.MatrixBase, TensorExpr))
                                          for a in subtrees(e)):
        return e
    return numbers_outside(e, memo)


def numbers_outside_in_steps(steps, named_grads: dict):
    """Reverse mode's scalar steps and Gradient written as forward mode's (`numbers_outside`): each
    result, each upstream gradient its chain rule substitutes and each closed form with a number
    common to a sum outside it. ``steps``: the NodeSteps, changed in place; returns ``named_grads``
    so changed too. Done once every step is built: SymPy spreads the number again over any
    expression built from one (2·(…)·1 is 2·… + 2·…), so the steps compute with the spread form.
    The steps share their sums (each step's result is in the next), so each is factored once."""
    memo: dict = {}

    def out(e):
        return scalar_numbers_outside(e, memo)
    for s in steps:
        s.rhs = [Chain([[out(t) for t in term] for term in r.terms]) if isinstance(r, Chain) else out(r)
                 for r in s.rhs]
        s.expr, s.result = out(s.expr), out(s.result)
    return {k: out(v) for k, v in named_grads.items()}


def slide_form(e, user_exprs: dict, f_has_exp: bool):
    """A tangent (or a gradient) of forward mode as the slide writes it (see the module):
    ``user_exprs`` {the user's expression of a named node: its name}; ``f_has_exp``: f has an exp,
    so σ is looked for (`sigma_form` writes it where ``e`` spells out 1/(1 + exp(−s)))."""
    if not isinstance(e, sp.Basic) or isinstance(e, sp.MatrixExpr):
        return e
    e = numbers_outside(products_flat(e))
    if user_exprs:
        e = _fold_products(e.xreplace(user_exprs), user_exprs)
    if f_has_exp:
        e = sigma_form(e, {v: k for k, v in user_exprs.items()}, derivative_only=True)
    return minus_outside(e)
