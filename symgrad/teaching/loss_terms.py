"""A loss of the cs231n form, data loss plus a penalty, as the slides write it: L = L_data + L_reg.

``sg.cross_entropy(x @ W + b, y) + 0.5·reg·sg.sum(W ⊙ W)`` lowers its last step to one
elementwise equation, L = u₁/N + 0.05·u₃: the cross-entropy's mean (its ×1/N) merged into the sum
with the penalty, so the cross-entropy was a sum over the batch and the slides' δ = (softmax(z) −
one_hot(y))/N a δ of the sum times 1/N. Likewise a MatrixSymbol network's
``sg.cross_entropy(net.output, t) + lam·sg.sum(W1 ∘ W1)`` ends in L = u₃ − u₄, u₄ the negated
cross-entropy. The teaching views read a copy of the derivation whose last equation is split: the
cross-entropy's own factor (1/N, −1) is an equation of its own, which the cross-entropy fold takes
in, and the loss is the plain sum, L = u₁ + 0.05·u₃ with u₁ = cross_entropy(z, y). The numbers are
reverse mode's, on the split graph (the same function, the same gradients).

>>> import symgrad as sg
>>> x, W = sg.tensor("x", (4, 5)), sg.tensor("W", (5, 3))
>>> y = sg.tensor("y", (4,), integer=True)
>>> d = sg.derive(sg.cross_entropy(x @ W, y) + 0.05 * sg.sum(W * W), [W])
>>> print(d.ir.producer[d.output.id].params[0], "->", split_penalties(d).ir.producer[split_penalties(d).output.id].params[0])
a0/4 + 0.05*a1 -> a0 + 0.05*a1
"""
from __future__ import annotations

import copy
import dataclasses
import sympy as sp

from ..core import rules as R
from ..core.ir import Eqn, Var
from ..core.reverse import backward
from .split_flag import is_split, mark_split


def _named_terms(d, names) -> set:
    """(var id, k) for each part ``names`` names that is k times a node of ``d`` the lowering
    fused into another equation: the data loss, the cross-entropy's mean u₁/4, and the penalty
    0.05·Σ W² of L = u₁/4 + 0.05·u₃. Looked up in the lowering's memo, never lowered into ``d``."""
    from ..frontend.tensor_expr import Ewise
    from .node_naming import parsed_names
    memo, out = d.lowering.memo, set()
    for _, ex in parsed_names(d, names):
        var = memo.get(ex)
        eq = d.ir.producer.get(var.id) if var is not None else None
        if eq is not None and eq.prim is R.ewise_p and len(eq.inputs) == 1:     # the mean's k·aᵢ
            k = sp.expand(eq.params[0]).coeff(R.ph(0))
            if k.is_number and sp.expand(eq.params[0]) == k * R.ph(0):
                out.add((eq.inputs[0].id, k))
        inner = ex.expr if isinstance(ex, Ewise) else ex
        k, rest = inner.as_coeff_Mul() if isinstance(inner, sp.Expr) else (1, inner)
        if k != 1 and rest in memo:                                            # 0.05·Σ W²
            out.add((memo[rest].id, k))
    return out


def _factors(d, names=None) -> tuple[dict, list]:
    """({input index: k}, data) for the inputs of the output's equation that end a cross-entropy
    and enter it as k·aᵢ with a constant k ≠ 1 (the mean's 1/N, a negated column's −1), or that
    ``names`` names as k·aᵢ (the penalty of L = L_data + L_reg); data: the indices of the inputs
    that end a cross-entropy."""
    from .cross_entropy_fold import cross_entropy_groups
    from .graph_folds import _users
    from .softmax_steps import softmax_groups
    g = d.ir
    e = g.producer[d.output.id]
    if e.prim is not R.ewise_p or len(e.inputs) < 2 or e.out.shape != ():
        return {}, []
    fwd = g.ancestors([d.output])
    consumers = _users(fwd)
    softmaxes = softmax_groups(g, consumers, fwd)
    groups = cross_entropy_groups(g, consumers, fwd, softmaxes)
    body = sp.expand(e.params[0])
    phs = R.placeholders(len(e.inputs))
    named = _named_terms(d, names)
    out = {}
    for i, v in enumerate(e.inputs):
        if [w.id for w in e.inputs].count(v.id) != 1:
            continue
        k = body.coeff(phs[i])
        if k == 0 or (body - k * phs[i]).has(phs[i]):
            continue
        if not k.is_number and v.id in groups:       # −u₁·u₂ with u₂ = 1/N: the column's −1 alone
            k = k.as_coeff_Mul()[0]
        if k == 1 or not k.is_number:
            continue
        if v.id in groups or any(n == v.id and sp.nsimplify(c - k) == 0 for n, c in named):
            out[i] = k
    return out, [i for i, v in enumerate(e.inputs) if v.id in groups]


def _data_then_penalties(d, data: list):
    """The indices of the output sum's terms other than ``data`` (the cross-entropies), the
    penalties (`penalty_terms.is_penalty`) after the data terms; None where there is no sum, or no
    penalty beside a data term. (Split even where the lowering made the terms in that order: the
    steps then read the loss's sum in that order, not SymPy's, which sorts λ·(W²).sum() first.)"""
    from .penalty_terms import is_penalty, leaf_symbols, penalties_last
    g = d.ir
    e = g.producer[d.output.id]
    if e.prim is not R.ewise_p or len(e.inputs) < 2 or e.out.shape != () or not isinstance(
            sp.expand(e.params[0]), sp.Add):
        return None
    params = param_symbols(d)
    rest = [i for i in range(len(e.inputs)) if i not in data]
    symbols = {i: leaf_symbols(g, e.inputs[i]) for i in rest}     # one walk of the graph per term
    flags = [is_penalty(symbols[i], params) for i in rest]
    if not any(flags) or (all(flags) and not data):     # cs231n's L = cross_entropy + 0.5·reg·(Σ W₁² + Σ W₂²):
        return None                                     # every other term a penalty, after the data loss
    return penalties_last(rest, symbols.__getitem__, params)


def split_penalties(d, names=None):
    """``d`` itself, or a copy whose output's equation has each cross-entropy's factor split out,
    and each term ``names`` names (L_reg = 0.05·Σ W²), the data loss first (the copy's graph and
    lowering are copies: ``d`` is not changed). A copy is split already:
    the picture of the steps' derivation does not look for its factors again."""
    if is_split(d):
        return d
    ks, data = _factors(d, names) if d.mode == "reverse" else ({}, [])
    rest = _data_then_penalties(d, data) if d.mode == "reverse" else None
    if not ks and rest is None:
        return d
    g = copy.copy(d.ir)
    g.eqns, g.producer, g._memo = list(d.ir.eqns), dict(d.ir.producer), dict(d.ir._memo)
    e = g.producer[d.output.id]
    phs = R.placeholders(len(e.inputs))
    inputs, body = list(e.inputs), e.params[0]
    moved = {}                         # the lowering's own node of k·aᵢ -> its part
    for i in sorted(ks, key=lambda i: i in data):       # the data loss's part last: its step first
        k = ks[i]
        params = (k * R.ph(0), ())
        key = (R.ewise_p.name, (inputs[i].id,), params)
        part = Var(len(g.eqns), ())
        eq = Eqn(R.ewise_p, (inputs[i],), params, part)
        g.eqns.append(eq)
        g.producer[part.id] = eq
        if key in g._memo:
            # the lowering made k·aᵢ (the cross-entropy's mean) before fusing it into the sum: a
            # name the user gives it, names={L_data: ...}, finds the part
            moved[g._memo[key].id] = part
        g._memo[key] = part
        body = sp.expand(body.xreplace({phs[i]: phs[i] / k}))
        # 0.05·(a₁/0.05) is 1.0·a₁: written L_data + L_reg, not 1.0·L_reg
        body = body.xreplace({f: sp.S.One for f in body.atoms(sp.Float) if abs(f - 1) < 1e-12})
        inputs[i] = part
    # the data loss read first, L = L_data + L_reg, as the slides write it: the forward pass
    # computes the network, then the penalty (`node_naming.as_read` takes the operands in order)
    # and a penalty after the data terms, wherever SymPy sorted it (λ·(W²).sum() + ‖W @ x − y‖²)
    perm = data + (rest if rest is not None else [i for i in range(len(inputs)) if i not in data])
    body = sp.expand(body).xreplace({phs[old]: phs[new] for new, old in enumerate(perm)})
    inputs = [inputs[i] for i in perm]
    out = Var(len(g.eqns), ())
    eq = Eqn(R.ewise_p, tuple(inputs), (body,) + tuple(e.params[1:]), out)
    g.eqns.append(eq)
    g.producer[out.id] = eq
    low = copy.copy(d.lowering)        # its memos too: a name lowered later goes into the copy alone
    for k, v in vars(d.lowering).items():
        if isinstance(v, (dict, set, list)):
            setattr(low, k, copy.copy(v))
    low.graph = g
    for ex, v in list(low.memo.items()):
        if v.id in moved:
            low.memo[ex] = moved[v.id]
            low.exprs[moved[v.id].id] = low.exprs.get(v.id, ex)
    if d.output.id in low.exprs:
        low.exprs[out.id] = low.exprs[d.output.id]
    steps = []
    from ..core.differentiate import Step
    grads = backward(g, out, d.wrt_vars, on_step=lambda e, gr, cts: steps.append(Step(e, gr, list(cts))))
    split = dataclasses.replace(d, ir=g, output=out, gradient_vars=grads, lowering=low, raw_steps=steps)
    return mark_split(split)


def param_symbols(d) -> set:
    """The symbols of the parameters ``d`` is derived for (W of sg.derive(L, [W]))."""
    from .penalty_terms import leaf_symbols
    return set().union(*(leaf_symbols(d.ir, w) for w in d.wrt_vars))


def data_terms(d) -> list:
    """The ids of the loss's sum's terms that are no penalty (`penalty_terms.is_penalty`): the data
    loss of L = L_data + L_reg, in the sum's order."""
    from .penalty_terms import is_penalty, leaf_symbols
    g, params = d.ir, param_symbols(d)
    return [v.id for v in g.producer[d.output.id].inputs if not is_penalty(leaf_symbols(g, v), params)]


def terms_in_turn(d, order: list) -> list:
    """The backward steps' ``order`` (the output first, then reverse mode's) with each term of a
    split loss's sum done in turn, in the sum's order, as cs231n's backward goes: the data loss's
    δ = (softmax(z) − one_hot(y))/N, ∇W and ∇b first, then the penalty's steps — not the penalty's
    first because the lowering made its nodes last. A node several terms use goes with the last of
    them (after every node that feeds it a gradient); ``order`` itself where ``d`` is not split."""
    if not is_split(d) or len(order) < 2:
        return order
    term = _term_of(d)
    return order[:1] + sorted(order[1:], key=lambda v: term.get(v, len(term)))      # stable: reverse mode's within a term


def uses_in_turn(d, terms: list) -> list:
    """A node's uses (``terms``: (consumer equation, index, contribution)) in the order of the split
    loss's sum, as cs231n's code adds them: W's data path first, x.T @ δ + reg·W — not the penalty's
    first, which reverse mode met first because the lowering made its nodes last. ``terms`` itself
    where ``d`` is not split."""
    if not is_split(d) or len(terms) < 2:
        return terms
    term = _term_of(d)
    return sorted(terms, key=lambda t: term.get(t[0].out.id, len(term)))         # stable


def _term_of(d) -> dict:
    """var id -> the index of the loss's last sum's term that uses it (the last such term)."""
    cached = getattr(d, "_term_of", None)
    if cached is not None:
        return cached
    g, term = d.ir, {}
    for k, t in enumerate(d.ir.producer[d.output.id].inputs):
        stack = [t.id]
        while stack:
            v = stack.pop()
            if term.get(v) == k:
                continue
            term[v] = k
            stack.extend(u.id for u in g.producer[v].inputs)
    d._term_of = term
    return term


def penalty_last(e, w):
    """∂L/∂W with the penalty's share after the data term's, as cs231n's code adds them (dW = x.T @
    dscores, then dW += reg·W) and the slides write ∇W = xᵀ·δ + λ·W: the share that is a function
    of W alone (the penalty's: reg·W, 2λ·W) goes last; SymPy's order had put it first. ``e`` itself
    where it is no sum or nothing moves."""
    from ..frontend.tensor_expr import Ewise
    from .penalty_terms import is_penalty
    if isinstance(e, Ewise):
        body = penalty_last(e.expr, w)
        return e if body is e.expr else Ewise(body, e.shape)
    if not isinstance(e, (sp.Add, sp.MatAdd)):
        return e
    # W alone, or W with scalar hyperparameters (2·λ·W): a share that reads no other array
    own = lambda a: w in a.free_symbols and is_penalty(a.free_symbols, {w})      # noqa: E731
    args = sorted(e.args, key=own)                                          # stable
    if args == list(e.args):
        return e
    return sp.MatAdd(*args, evaluate=False) if isinstance(e, sp.MatAdd) else sp.Add(*args, evaluate=False)
