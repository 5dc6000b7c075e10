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


def _factors(d) -> dict:
    """{input index: k} for the inputs of the output's equation that end a cross-entropy and
    enter it as k·aᵢ with a constant k ≠ 1 (the mean's 1/N, a negated column's −1)."""
    from .cross_entropy_fold import cross_entropy_groups
    from .graph_folds import _users
    from .softmax_steps import softmax_groups
    g = d.ir
    e = g.producer[d.output.id]
    if e.prim is not R.ewise_p or len(e.inputs) < 2 or e.out.shape != ():
        return {}
    fwd = g.ancestors([d.output])
    consumers = _users(fwd)
    softmaxes = softmax_groups(g, consumers, fwd)
    groups = cross_entropy_groups(g, consumers, fwd, softmaxes)
    body = sp.expand(e.params[0])
    phs = R.placeholders(len(e.inputs))
    out = {}
    for i, v in enumerate(e.inputs):
        if v.id not in groups or [w.id for w in e.inputs].count(v.id) != 1:
            continue
        k = body.coeff(phs[i])
        if k == 0 or k == 1 or not k.is_number or (body - k * phs[i]).has(phs[i]):
            continue
        out[i] = k
    return out


def split_penalties(d):
    """``d`` itself, or a copy whose output's equation has each cross-entropy's factor split out
    (the copy's graph and lowering are copies: ``d`` is not changed). A copy is split already:
    the picture of the steps' derivation does not look for its factors again."""
    if getattr(d, "_penalties_split", False):
        return d
    ks = _factors(d) if d.mode == "reverse" else {}
    if not ks:
        return d
    g = copy.copy(d.ir)
    g.eqns, g.producer, g._memo = list(d.ir.eqns), dict(d.ir.producer), dict(d.ir._memo)
    e = g.producer[d.output.id]
    phs = R.placeholders(len(e.inputs))
    inputs, body = list(e.inputs), e.params[0]
    for i, k in ks.items():
        part = Var(len(g.eqns), ())
        eq = Eqn(R.ewise_p, (inputs[i],), (k * R.ph(0), ()), part)
        g.eqns.append(eq)
        g.producer[part.id] = eq
        body = body.xreplace({phs[i]: phs[i] / k})
        inputs[i] = part
    out = Var(len(g.eqns), ())
    eq = Eqn(R.ewise_p, tuple(inputs), (sp.expand(body),) + tuple(e.params[1:]), out)
    g.eqns.append(eq)
    g.producer[out.id] = eq
    low = copy.copy(d.lowering)        # its memos too: a name lowered later goes into the copy alone
    for k, v in vars(d.lowering).items():
        if isinstance(v, (dict, set, list)):
            setattr(low, k, copy.copy(v))
    low.graph = g
    if d.output.id in low.exprs:
        low.exprs[out.id] = low.exprs[d.output.id]
    steps = []
    from ..core.differentiate import Step
    grads = backward(g, out, d.wrt_vars, on_step=lambda e, gr, cts: steps.append(Step(e, gr, list(cts))))
    split = dataclasses.replace(d, ir=g, output=out, gradient_vars=grads, lowering=low, raw_steps=steps)
    split._penalties_split = True
    return split
