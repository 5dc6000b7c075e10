"""The logistic function a slide spells out, written σ: 1/(1 + exp(−s)) is σ(s), and its
derivative exp(−s)/(1 + exp(−s))² is σ(s)·(1 − σ(s)), as the slides write σ′.

The sigmoid neuron declared as its circuit, 1/(1 + exp(−(w₀·x₀ + w₁·x₁ + w₂))), derives through
exp; SymPy distributes the minus over the sum, so the gradient reads
x₀·exp(−w₂ − w₀·x₀ − w₁·x₁)/(1 + exp(−s))², two spellings of one exp. `sigma_form` writes each
exp(t) whose t is −a for a denominator 1 + exp(−a) as (1 − σ)/σ (exp(−a) = 1/σ(a) − 1), cancels,
and keeps the result when every such exp is gone and it is no longer than before:
x₀·σ(s)·(1 − σ(s)). The value is unchanged (it is an identity of σ).

>>> import sympy as sp
>>> x, s = sp.symbols('x s')
>>> sigma_form(x * sp.exp(-s) / (1 + sp.exp(-s)) ** 2)
x*(1 - sigmoid(s))*sigmoid(s)
"""
from __future__ import annotations

import sympy as sp

from ..frontend.functions import sigmoid


def _arguments(e) -> list:
    """The a of every 1 + exp(−a) in e, each once, in the order met."""
    out = []
    for n in sp.preorder_traversal(e):
        if isinstance(n, sp.Add) and len(n.args) == 2 and sp.S.One in n.args:
            ex = n.args[0] if n.args[1] == 1 else n.args[1]
            if isinstance(ex, sp.exp) and -ex.args[0] not in out:
                out.append(-ex.args[0])
    return out


def _flat(a):
    """(w₀·x₀ + w₁·x₁) + w₂, a circuit's sum kept in its order, as one sum: w₀·x₀ + w₁·x₁ + w₂."""
    if not isinstance(a, sp.Add):
        return a
    terms = [t for b in a.args for t in (_flat(b).args if isinstance(b, sp.Add) else (b,))]
    return sp.Add(*terms, evaluate=False)


def sigma_form(e, definitions: dict | None = None, derivative_only: bool = False):
    """``e`` with the logistic function written σ (see the module); ``e`` itself when there is no
    1 + exp(−a) in it or the σ form is not shorter. ``definitions`` ({name: expression}) lets an
    exp of the expression and an exp of its name count as one: exp(−w₂ − w₀·x₀ − w₁·x₁) and
    exp(−s) for s = w₀·x₀ + w₁·x₁ + w₂ (σ is then written of the name, σ(s)).
    ``derivative_only``: rewrite only a multiple of σ′ = σ·(1 − σ) (the steps of the circuit's
    inner gates stay −1/u² without a −σ(s)² the slide does not write)."""
    if not isinstance(e, sp.Expr) or isinstance(e, sp.MatrixExpr) or not e.has(sp.exp):
        return e
    defs = definitions or {}
    expand = lambda t: sp.expand(t.xreplace(defs))         # noqa: E731 - names written out
    out = e
    for a in _arguments(e):
        full = expand(a)
        S = sp.Dummy("sigma")
        hit = {n: (1 - S) / S for n in out.atoms(sp.exp) if expand(n.args[0] + a) == 0}
        if not hit:
            continue
        r = sp.cancel(out.xreplace(hit))
        if any(expand(n.args[0]) == -full for n in r.atoms(sp.exp)):
            continue
        q = sp.cancel(r / (S * (1 - S)))              # σ′ = σ·(1 − σ) a factor of it?
        if not sp.fraction(sp.together(q))[1].has(S):
            r = sp.factor(q) * S * (1 - S)
        elif derivative_only:
            continue
        else:
            r = sp.factor(r)
        sig = sigmoid(_flat(a.xreplace({v: k for k, v in defs.items()}) if defs else a))
        cand = r.xreplace({S: sig})
        if sp.count_ops(cand) <= sp.count_ops(out):
            out = cand
    return out


def sigma_first(expr):
    """A product with σ(a) and 1 − σ(a) among its factors, with σ(a) right before 1 − σ(a), as
    the slides write σ′: x·σ(z)·(1 − σ(z)) (SymPy orders them (1 − σ(z))·σ(z)); the same
    product otherwise. For the printers: the result is an unevaluated Mul."""
    if not isinstance(expr, sp.Mul):
        return expr
    args, moved = list(expr.args), False
    for s in [a for a in expr.args if isinstance(a, sigmoid)]:
        comp = next((a for a in args if a == 1 - s), None)
        if comp is None:
            continue
        args.remove(s)
        args.insert(args.index(comp), s)
        moved = True
    return sp.Mul(*args, evaluate=False) if moved else expr
