"""A softmax over an axis as one step, as the slides write it (attention's A = softmax(QKᵀ/√d)).

A tensor declaration's ``sg.softmax(s, axis=1)`` lowers to u = logsumexp(s, axis=1, keepdims=True)
then exp(s − u). Reverse mode walks both; the slide has one node, A = softmax(s, axis=1), and one
backward step,

    ∂L/∂s = A ⊙ (∂L/∂A − (∂L/∂A ⊙ A).sum(axis=1, keepdims=True))

(the Jacobian diag(a) − a·aᵀ of each row, applied to ∂L/∂A). Its numbers are reverse mode's (the
sum of the two paths through exp and logsumexp). `symgrad.teaching.steps` shows the group this way;
the logsumexp inside takes no number.

>>> import symgrad as sg
>>> s = sg.tensor("s", (2, 3))
>>> d = sg.derive(sg.sum(sg.softmax(s, axis=1) ** 2), [s])
>>> eqns = d.ir.ancestors([d.output])
>>> from symgrad.teaching.graph_folds import _users
>>> [(g.axis, len(g.inner)) for g in softmax_groups(d.ir, _users(eqns), eqns).values()]
[(1, 2)]
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..core import array_rules as A
from ..core import rules as R

RULE = "softmax over axis {axis}: the Jacobian of each row a is diag(a) − a·aᵀ"


@dataclass
class SoftmaxGroup:
    """exp(s − logsumexp(s, axis)) of the lowering: the input s (var id), the axis, the ids inside
    (the logsumexp and the broadcast of it), and the id of the exp that carries the softmax."""
    z: int
    axis: int
    inner: set
    end: int

    def display(self, z):
        from ..frontend.tensor_softmax import softmax
        return softmax(z, axis=self.axis)

    def backward(self, a, g):
        """A ⊙ (∂L/∂A − (∂L/∂A ⊙ A).sum(axis, keepdims=True)) of the display symbols ``a`` (the
        softmax) and ``g`` (its gradient)."""
        return a * (g - (g * a).sum(axis=self.axis, keepdims=True))


def softmax_groups(g, consumers, fwd) -> dict:
    """{the exp's id: SoftmaxGroup} for each softmax over an axis whose logsumexp serves it alone."""
    once = lambda v: len(consumers.get(v, ())) == 1      # noqa: E731 - used by this search only
    out = {}
    for e in fwd:
        if e.prim is not R.ewise_p or len(e.inputs) != 2:
            continue
        for i, j in ((0, 1), (1, 0)):
            if e.params[0] != sp.exp(R.ph(i) - R.ph(j)):
                continue
            v, inner = e.inputs[j], set()
            while g.producer[v.id].prim in (A.reshape_p, A.expand_p, R.broadcast_p) and once(v.id):
                inner.add(v.id)
                v = g.producer[v.id].inputs[0]
            lse = g.producer[v.id]
            if lse.prim is A.lse_p and once(v.id) and lse.inputs[0].id == e.inputs[i].id:
                out[e.out.id] = SoftmaxGroup(e.inputs[i].id, int(lse.params[0]), inner | {v.id}, e.out.id)
    return out
