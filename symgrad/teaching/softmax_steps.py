"""A softmax over an axis as one step, as the slides write it (attention's A = softmax(QKᵀ/√d)).

A tensor declaration's ``sg.softmax(s, axis=1)`` lowers to u = logsumexp(s, axis=1, keepdims=True)
then exp(s − u). Reverse mode walks both; the slide has one node, A = softmax(s, axis=1), and one
backward step,

    ∂L/∂s = A ⊙ (∂L/∂A − (∂L/∂A ⊙ A).sum(axis=1, keepdims=True))

(the Jacobian diag(a) − a·aᵀ of each row, applied to ∂L/∂A). Its numbers are reverse mode's (the
sum of the two paths through exp and logsumexp). `symgrad.teaching.steps` shows the group this way;
the logsumexp inside takes no number.

``sg.log_softmax(s, axis=1)`` lowers to s − logsumexp(s, axis=1, keepdims=True): one step and one
node too, u = log_softmax(s, axis=1), whose backward step is the slide's

    ∂L/∂s = ∂L/∂u − softmax(s) ⊙ ∂L/∂u.sum(axis=1, keepdims=True)

(the Jacobian I − 𝟙·softmax(s)ᵀ of each row, applied to ∂L/∂u), not a subtraction ① − ② fed by a
logsumexp node.

>>> import symgrad as sg
>>> s = sg.tensor("s", (2, 3))
>>> d = sg.derive(sg.sum(sg.softmax(s, axis=1) ** 2), [s])
>>> eqns = d.ir.ancestors([d.output])
>>> from symgrad.teaching.graph_folds import _users
>>> [(g.axis, len(g.inner)) for g in softmax_groups(d.ir, _users(eqns), eqns).values()]
[(1, 2)]
>>> d = sg.derive(sg.sum(sg.log_softmax(s, axis=1) ** 2), [s])
>>> eqns = d.ir.ancestors([d.output])
>>> [g.label for g in softmax_groups(d.ir, _users(eqns), eqns).values()]
['log_softmax (axis 1)']
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..core import array_rules as A
from ..core import rules as R

RULE = "softmax over axis {axis}: the Jacobian of each row a is diag(a) − a·aᵀ"
LOG_RULE = ("log_softmax over axis {axis}: the Jacobian of each row is I − 𝟙·softmax(z)ᵀ, so each row's "
            "gradient loses softmax(z) times the sum of its entries")


@dataclass
class SoftmaxGroup:
    """exp(s − logsumexp(s, axis)) of the lowering: the input s (var id), the axis, the ids inside
    (the logsumexp and the broadcast of it), and the id of the exp that carries the softmax."""
    z: int
    axis: int
    inner: set
    end: int

    @property
    def label(self) -> str:
        """The picture's node: "softmax (axis 1)"."""
        return f"softmax (axis {self.axis})"

    def rule(self) -> str:
        return RULE.format(axis=self.axis)

    def display(self, z):
        from ..frontend.tensor_softmax import softmax
        return softmax(z, axis=self.axis)

    def backward(self, a, g, z=None):
        """A ⊙ (∂L/∂A − (∂L/∂A ⊙ A).sum(axis, keepdims=True)) of the display symbols ``a`` (the
        softmax) and ``g`` (its gradient); ``z``, the input's, is not needed."""
        return a * (g - (g * a).sum(axis=self.axis, keepdims=True))


@dataclass
class LogSoftmaxGroup(SoftmaxGroup):
    """z − logsumexp(z, axis) of the lowering (the ids as `SoftmaxGroup`'s; ``end`` is the
    subtraction that carries the log_softmax)."""

    @property
    def label(self) -> str:
        return f"log_softmax (axis {self.axis})"

    def rule(self) -> str:
        return LOG_RULE.format(axis=self.axis)

    def display(self, z):
        from ..frontend.tensor_softmax import log_softmax
        return log_softmax(z, axis=self.axis)

    def backward(self, a, g, z=None):
        """∂L/∂u − softmax(z) ⊙ ∂L/∂u.sum(axis, keepdims=True), with ``g`` = ∂L/∂u and ``z`` the
        input's display symbol (``a``, the log_softmax's, is not needed)."""
        from ..frontend.tensor_softmax import softmax
        return g - softmax(z, axis=self.axis) * g.sum(axis=self.axis, keepdims=True)


def softmax_groups(g, consumers, fwd) -> dict:
    """{the exp's id: SoftmaxGroup} for each softmax over an axis whose logsumexp serves it alone,
    and {the subtraction's id: LogSoftmaxGroup} for each log_softmax."""
    once = lambda v: len(consumers.get(v, ())) == 1      # noqa: E731 - used by this search only
    out = {}
    for e in fwd:
        if e.prim is not R.ewise_p or len(e.inputs) != 2:
            continue
        for i, j in ((0, 1), (1, 0)):
            body = R.ph(i) - R.ph(j)
            if e.params[0] not in (sp.exp(body), body):
                continue
            kind = SoftmaxGroup if e.params[0] != body else LogSoftmaxGroup
            v, inner = e.inputs[j], set()
            while g.producer[v.id].prim in (A.reshape_p, A.expand_p, R.broadcast_p) and once(v.id):
                inner.add(v.id)
                v = g.producer[v.id].inputs[0]
            lse = g.producer[v.id]
            if lse.prim is A.lse_p and once(v.id) and lse.inputs[0].id == e.inputs[i].id:
                out[e.out.id] = kind(e.inputs[i].id, int(lse.params[0]), inner | {v.id}, e.out.id)
    return out
