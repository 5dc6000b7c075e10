"""Numerical-stability rewrites: a table of patterns, applied to the IR before differentiation.

Each row turns a formula that overflows or cancels in floating point into an equal one that does
not. They are applied before reverse mode, so the gradients are derived from the stable forms too
(the gradient of −softplus(−z) is σ(−z), finite everywhere; the gradient of log σ(z) through 1/σ(z)
is ∞·0 once σ(z) underflows).

    1/(1 + exp(−x)) →  σ(x)                 a sigmoid written out (exp(x)/(1 + exp(x)) too): exp(1000)
                                            overflows, and log of the 0 it gives is −∞; as σ, the
                                            rows below apply to it
    log(1 + exp(x)) →  softplus(x)          softplus written out: exp(1000) overflows
    log(σ(x))       →  −softplus(−x)        log σ(−1000) is −1000, not log(0) = −∞
    log(1 − σ(x))   →  −softplus(x)         the same on the other side
    log(1 + x)      →  log1p(x)             no cancellation for |x| ≪ 1
    log(exp(x))     →  x                    (SymPy does this one itself: placeholders are real)

Two more stable forms live elsewhere: log-sum-exp is a primitive computed max-shifted (so softmax
cross-entropy never forms exp of a large logit), and the printer prints σ and softplus stably.

`stabilize` applies the table to every elementwise equation the outputs depend on, looking through
the small elementwise equations feeding it (``log`` of ``1 + a0`` of ``−a0`` of ``σ(a0)`` is one
pattern, spread over four equations after lowering). A rewritten body is lowered back into the same
hash-consed graph, so the parts it keeps are shared with the original.

>>> import sympy as sp
>>> from symgrad.frontend.functions import sigmoid, softplus
>>> x = sp.Symbol('x', real=True)
>>> rewrite(sp.log(1 - sigmoid(x)))
-softplus(x)
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import sympy as sp
from sympy.codegen.cfunctions import log1p

from ..core import rules as R
from ..frontend.functions import sigmoid, softplus
from ..core.ewise_rewrites import rewrite_ewise
from ..core.ir import Graph, Var


class Row(NamedTuple):
    name: str
    match: Callable          # expr -> x when expr is naive(x), else None
    naive: Callable          # x -> the unstable formula (for the mpmath tests)
    stable: Callable         # x -> the stable formula, what the row rewrites naive(x) to


def _log_of(e):
    return e.args[0] if isinstance(e, sp.log) else None


def _log_sigmoid(e):
    """x when e is log σ(x)."""
    a = _log_of(e)
    return a.args[0] if isinstance(a, sigmoid) else None


def _one_minus_sigmoid_arg(a):
    """x when a is 1 − σ(x)."""
    if not a.is_Add or len(a.args) != 2 or sp.S.One not in a.args:
        return None
    rest = a.args[0] if a.args[1] == 1 else a.args[1]
    if rest.is_Mul and len(rest.args) == 2 and rest.args[0] == -1 and isinstance(rest.args[1], sigmoid):
        return rest.args[1].args[0]
    return None


def _log_one_minus_sigmoid(e):
    """x when e is log(1 − σ(x))."""
    a = _log_of(e)
    return None if a is None else _one_minus_sigmoid_arg(a)


def _log_one_plus(e):
    """x when e is log(1 + x), x not a number."""
    a = _log_of(e)
    if a is None or not a.is_Add or sp.S.One not in a.args:
        return None
    rest = a - 1
    return rest if not rest.is_number else None


def _hand_sigmoid(e):
    """x when e is σ(x) written out: 1/(1 + exp(−x)). (exp(x)/(1 + exp(x)) is met as exp(x)·σ(−x),
    its denominator rewritten first: `_merged_sigmoid` makes that σ(x).)"""
    if e.is_Pow and e.exp == -1 and e.base.is_Add and len(e.base.args) == 2 and sp.S.One in e.base.args:
        rest = e.base - 1
        return -rest.args[0] if isinstance(rest, sp.exp) else None
    return None


def _merged_sigmoid(e):
    """A product holding exp(x)·σ(−x), which is σ(x) (and overflows to ∞·0 where σ(x) is 1), with
    that pair as σ(x); other products as they are."""
    if not e.is_Mul:
        return e
    for a in e.args:
        if isinstance(a, sp.exp):
            pair = sigmoid(-a.args[0])
            if pair in e.args:
                rest = [b for b in e.args if b is not a and b != pair]
                return sp.Mul(*rest, sigmoid(a.args[0]))
    return e


def _log_one_plus_exp(e):
    """x when e is log(1 + exp(x)): softplus written out."""
    x = _log_one_plus(e)
    return x.args[0] if isinstance(x, sp.exp) else None


TABLE: list[Row] = [
    Row("1/(1 + exp(-x)) -> sigmoid(x)", _hand_sigmoid,
        lambda x: 1 / (1 + sp.exp(-x)), lambda x: sigmoid(x)),
    Row("log(1 + exp(x)) -> softplus(x)", _log_one_plus_exp,
        lambda x: sp.log(1 + sp.exp(x)), lambda x: softplus(x)),
    Row("log(sigmoid(x)) -> -softplus(-x)", _log_sigmoid,
        lambda x: sp.log(sigmoid(x)), lambda x: -softplus(-x)),
    Row("log(1 - sigmoid(x)) -> -softplus(x)", _log_one_minus_sigmoid,
        lambda x: sp.log(1 - sigmoid(x)), lambda x: -softplus(x)),
    Row("log(1 + x) -> log1p(x)", _log_one_plus,
        lambda x: sp.log(1 + x), lambda x: log1p(x)),
]


def rewrite(expr: sp.Expr) -> sp.Expr:
    """Apply the table bottom-up until nothing changes."""
    def visit(e):
        if not e.args:
            return e
        e = e.func(*[visit(a) for a in e.args]) if any(a.args for a in e.args) else e
        e = _merged_sigmoid(e)
        for row in TABLE:
            x = row.match(e)
            if x is not None:
                return visit(row.stable(x))
        return e
    return visit(expr)


_DEPTH = 4   # how many elementwise equations deep a pattern may reach


def stabilize(graph: Graph, outs: Sequence[Var]) -> list[Var]:
    """Rewrite the elementwise equations that ``outs`` depend on by the table; returns the outputs
    of the rewritten graph (the same vars where nothing matched)."""
    return rewrite_ewise(graph, outs, lambda eqn, ins: _rewrite_ewise(graph, eqn.params[0], ins))


def _rewrite_ewise(graph: Graph, body, ins) -> Var | None:
    leaves: dict[int, sp.Dummy] = {}
    known: dict[sp.Basic, Var] = {}          # composed sub-expression -> the var that holds it

    def compose(v: Var, depth: int):
        e = graph.producer[v.id]
        if depth > 0 and e.prim is R.ewise_p and e.params[1] == v.shape:
            sub = e.params[0].xreplace({R.ph(i): compose(u, depth - 1) for i, u in enumerate(e.inputs)})
        else:
            if v.id not in leaves:
                leaves[v.id] = sp.Dummy(f"v{v.id}", real=True)
            sub = leaves[v.id]
        known.setdefault(sub, v)
        return sub

    expr = body.xreplace({R.ph(i): compose(u, _DEPTH - 1) for i, u in enumerate(ins)})
    fixed = rewrite(expr)
    if fixed == expr:
        return None
    from ..core.lower import Lowering
    low = Lowering(graph)
    low.memo.update(known)
    return low(fixed)
