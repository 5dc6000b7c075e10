"""``names=``: naming a part of f as the slide writes it, even where SymPy has flattened it away.

SymPy flattens sums and products and absorbs signs and numeric coefficients: the slide's
z₂ = W₂·y₁ + b₂ inside mse(z₂, t) is gone from f, which holds one sum W₂·y₁ + b₂ − t; the slide's
q = x + y inside −2(x + y)·z is gone too (−2x·z − 2y·z is not made, but 2·(x + y) is 2x + 2y).
`regroup` writes f again with each named part as a node of its own (an unevaluated sum or product
inside the flattened one, with the coefficient it absorbed outside), so that every view of the
derivation finds it. The value of f is unchanged: only its tree is.

>>> import sympy as sp
>>> x, y, t, q = sp.symbols('x y t q')
>>> f = (2 * (x + y) - t) ** 2          # SymPy: (-t + 2*x + 2*y)**2
>>> g = regroup(f, {q: x + y})
>>> any(n == x + y for n in sp.preorder_traversal(g)), sp.expand(g - f)
(True, 0)
"""
from __future__ import annotations

import sympy as sp


def occurs(f, e) -> bool:
    """Whether ``e`` is a node of ``f``'s tree, exactly (not a sub-sum: SymPy's ``has`` says yes to
    x + y in x + y + z)."""
    return any(n == e for n in sp.preorder_traversal(f))


def regroup(f, names: dict):
    """``f`` with each expression of ``names`` (name -> expression) as a node of its own, where it
    is a part of f up to flattening, sign and numeric coefficient; ``f`` itself (the same object)
    when nothing needed regrouping. A name that is no part of f is left for the caller to report."""
    for sym, e in names.items():
        if not isinstance(e, sp.Basic) or occurs(f, e):
            continue
        g = _rebuild(f, lambda node: _absorb(node, e))
        if g is not None and occurs(g, e):
            f = g
    return f


def _rebuild(node, fn):
    """``node`` with the first nodes (top down) that ``fn`` rewrites rewritten; None if none is."""
    new = fn(node)
    if new is not None:
        return new
    if not node.args or isinstance(node, (sp.Symbol, sp.MatrixSymbol)):
        return None
    args, changed = [], False
    for a in node.args:
        b = _rebuild(a, fn) if isinstance(a, sp.Basic) else None
        changed |= b is not None
        args.append(a if b is None else b)
    if not changed:
        return None
    # a sum or product around the regrouped part is rebuilt as it is: evaluating it would flatten
    # the part back in (−t + 2·(w·yⱼ·yₗ) evaluates to −t + 2·w·yⱼ·yₗ)
    if isinstance(node, (sp.Add, sp.Mul, sp.Pow, sp.MatAdd, sp.MatMul)):
        return node.func(*args, evaluate=False)
    return node.func(*args)


def _split(a):
    """(numeric coefficient, the rest) of a term: −2·x·y -> (−2, x·y); −t -> (−1, t)."""
    if isinstance(a, sp.MatrixExpr):
        if isinstance(a, sp.MatMul) and a.args and a.args[0].is_number:
            rest = a.args[1:]
            return a.args[0], rest[0] if len(rest) == 1 else sp.MatMul(*rest)
        return sp.S.One, a
    return a.as_coeff_Mul()


def _scaled(c, e):
    """c·e kept as written (an unevaluated product): the named node stays a node."""
    if c == 1:
        return e
    if isinstance(e, sp.MatrixExpr):
        return sp.MatMul(c, e, evaluate=False)
    return sp.Mul(c, e, evaluate=False)


def _absorb(node, e):
    """``node`` written with ``e`` as a node of its own, when e is a part of it up to flattening
    and a numeric coefficient (None otherwise). A tensor expression (`sg.tensor`'s elementwise
    `Ewise`) is matched by the scalar expression inside it, and put back whole."""
    from ..frontend.tensor import Ewise
    if isinstance(e, Ewise) and not isinstance(node, Ewise):
        got = _absorb(node, e.expr)
        return None if got is None else got.xreplace({e.expr: e})
    if node == e or type(node) is not type(e):
        return None
    if isinstance(e, (sp.Add, sp.MatAdd)):
        return _absorb_sum(node, e)
    if isinstance(e, sp.Mul):
        return _absorb_product(node, e)
    if isinstance(e, sp.MatMul):
        return _absorb_matrix_product(node, e)
    return None


def _absorb_sum(node, e):
    """a + c·(e₁ + e₂) flattened into a + c·e₁ + c·e₂: find c and the terms, group them."""
    terms = [_split(a) for a in node.args]
    want = [_split(a) for a in e.args]
    for ct, core in terms:
        if core != want[0][1]:
            continue
        c = ct / want[0][0]
        rest = list(node.args)
        for cw, cw_core in want:
            term = next((a for a in rest if _split(a) == (c * cw, cw_core)), None)
            if term is None:
                break
            rest.remove(term)
        else:
            group = _scaled(c, e)
            return type(node)(group, *rest, evaluate=False) if rest else group
    return None


def _absorb_product(node, e):
    """c·a·e₁·e₂ (scalars, flattened): e₁·e₂ a sub-multiset of the factors, up to the coefficient."""
    cn, core_n = node.as_coeff_Mul()
    ce, core_e = e.as_coeff_Mul()
    have = list(sp.Mul.make_args(core_n))
    for f in sp.Mul.make_args(core_e):
        if f not in have:
            return None
        have.remove(f)
    c = cn / ce
    return sp.Mul(*([c] if c != 1 else []), e, *have, evaluate=False)


def _absorb_matrix_product(node, e):
    """c·A·(e₁·e₂)·B flattened into c·A·e₁·e₂·B: the matrices of e, in a row."""
    cn, core_n = _split(node)
    ce, core_e = _split(e)
    have = list(core_n.args) if isinstance(core_n, sp.MatMul) else [core_n]
    pat = list(core_e.args) if isinstance(core_e, sp.MatMul) else [core_e]
    for i in range(len(have) - len(pat) + 1):
        if have[i:i + len(pat)] == pat:
            c = cn / ce
            return sp.MatMul(*([c] if c != 1 else []), *have[:i], e, *have[i + len(pat):], evaluate=False)
    return None


def _fold_products(e, user_exprs):
    """Write a named matrix product back by its name inside longer products: 2·W·x·xᵀ -> 2·q·xᵀ;
    and a named scalar sum inside a longer sum, which SymPy flattens into it: x₁·(w₁·x₁ + w₂·x₂ − y)
    -> x₁·(ŷ − y), as the slides write ∇w₁ = −(y − ŷ)·x₁."""
    if not isinstance(e, sp.Basic):
        return e
    sums = [(set(k.args), v) for k, v in user_exprs.items() if isinstance(k, sp.Add) and not k.is_Matrix]
    if sums:
        def fold_sum(a):
            args = list(a.args)
            for pat, name in sums:
                for sign in (1, -1):
                    want = {sign * t for t in pat}
                    if want < set(args):
                        return sp.Add(sign * name, *[t for t in args if t not in want])
            return a
        e = e.replace(lambda x: isinstance(x, sp.Add) and not x.is_Matrix, fold_sum)
    prods = [(k.args, v) for k, v in user_exprs.items() if isinstance(k, sp.MatMul)]
    if not prods:
        return e

    def fold(m):
        args = list(m.args)
        for pat, name in prods:
            n = len(pat)
            for i in range(len(args) - n + 1):
                if tuple(args[i:i + n]) == tuple(pat):
                    args[i:i + n] = [name]
                    break
        return sp.MatMul(*args)

    return e.replace(lambda x: isinstance(x, sp.MatMul), fold)
