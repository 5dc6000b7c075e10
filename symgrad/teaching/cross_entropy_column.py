"""The cross-entropy of a MatrixSymbol network (one example, a column), as one operation.

``sg.cross_entropy(z, t)`` of a column of logits z (n, 1) and a one-hot or probability column t
lowers to −Σ t ⊙ (z − logsumexp(z)): logsumexp, ① − ②, ⊙, Σ, ×(−1). The slide draws one node,
"cross-entropy", and writes one step, δ = ∂L/∂z = softmax(z) − t given Σt = 1 (the ``given``
``{sg.sum(t): 1}``), else Σt·softmax(z) − t; the numbers stay reverse mode's own. A scaled one,
2·sg.cross_entropy(z, t) (its −1 and the 2 lowered into one ×(−2)), is "2·cross-entropy" and
δ = 2·(softmax(z) − t); one of a scalar class label k, logsumexp(z) − z[k], is "cross-entropy"
with δ = softmax(z) − one_hot(k). Where the user names the softmax (``names={f: sg.softmax(z)}``,
a lecture deriving δ = f − f*), it is written as it lowers.

>>> import sympy as sp, symgrad as sg
>>> net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
>>> print(sg.derive(sg.cross_entropy(net.output, t), net.params).render("unicode").split("Backward")[0].strip())
L = −sum(t ⊙ log_softmax(W₂·relu(W₁·x + b₁) + b₂))
Forward pass:
  z⁽¹⁾ = W₁·x + b₁
  y⁽¹⁾ = relu(z⁽¹⁾)
  z⁽²⁾ = W₂·y⁽¹⁾ + b₂
  L = cross_entropy(z⁽²⁾, t)
"""
from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from ..core import rules as R
from .graph_folds import _once


def column_core(graph, consumers, e):
    """c·t ⊙ (z − logsumexp(z)) (c = ±1) of columns: (z, t, the ids inside, c), else None."""
    if e.prim is not R.ewise_p or len(e.inputs) != 2:
        return None

    for i, j in ((0, 1), (1, 0)):
        ls, t = e.inputs[i], e.inputs[j]
        p = graph.producer[ls.id]
        if p.prim is not R.ewise_p or len(p.inputs) != 2 or not _once(consumers, ls) or t.shape != ls.shape:
            continue
        for a, b in ((0, 1), (1, 0)):
            z, lse = p.inputs[a], p.inputs[b]
            q = graph.producer[lse.id]
            if (p.params[0] != R.ph(a) - R.ph(b) or q.prim is not R.logsumexp_p or q.inputs[0].id != z.id
                    or not _once(consumers, lse) or t.id == z.id):
                continue
            c = sp.simplify(e.params[0] / (R.ph(0) * R.ph(1)))
            if c in (1, -1):
                return z, t, {ls.id, lse.id}, int(c)
    return None


def softmax_named(names) -> bool:
    """Whether ``names`` (the user's names=) names a softmax of a column, f = softmax(z): then the
    lecture derives δ = f − f* (log-sum-exp, whose gradient is softmax(z), and the fan-out's sum),
    and the cross-entropy stays as it lowers."""
    from ..frontend.matrix_functions import Softmax
    return any(isinstance(v, Softmax) for v in (names or {}).values())


def column_delta(z, t, given, labels=False, scale=1):
    """δ = Σt·softmax(z) − t, with Σt replaced by its value where ``given`` has it; softmax(z) −
    one_hot(k) for a class label k (``labels``); times ``scale`` where the loss is scaled
    (2·cross_entropy(z, t): δ = 2·(softmax(z) − t), the scale outside as the slides write it)."""
    from ..frontend.matrix_functions import softmax, sum as total
    if labels:
        e = softmax(z) - OneHot(t, z.shape[0])
    else:
        s = total(t)
        s = given.get(s, s)
        e = s * softmax(z) - t if s != 1 else softmax(z) - t
    return e if scale == 1 else sp.MatMul(scale, e, evaluate=False)


def column_note(ce, graph, disp, given) -> str:
    """The rule of a column's δ step, saying what its δ line says: softmax(z) − t where Σt = 1 is
    given, softmax(z)·Σt − t where it is not, softmax(z) − one_hot(k) for a class label k; the
    scale of a scaled cross-entropy after it."""
    from ..frontend.matrix_functions import sum as total
    if ce.labels:
        what = "softmax(z) − one_hot(k), the one-hot column of its class label"
    elif given.get(total(disp[ce.target])) == 1:
        what = "softmax(z) − t, its target t summing to 1 (given)"
    else:
        what = "softmax(z)·Σt − t; with Σt = 1 (a probability target: given={sg.sum(t): 1}), softmax(z) − t"
    scaled = "" if ce.scale == 1 else f", times the loss's scale {_number(ce.scale)}"
    return f"softmax cross-entropy: δ is {what}{scaled}"


def _number(c) -> str:
    """A scale as the slide writes it: 2, 1/2, 0.5, −1 (not SymPy's 0.500000000000000)."""
    return (f"{float(c):g}" if isinstance(c, sp.Float) else str(c)).replace("-", "−")


def label_core(graph, consumers, e):
    """c·(logsumexp(z) − z[k]) of a column z and a scalar class label k (`sg.cross_entropy(z, k)`;
    a scale c lowers into the subtraction): (z, k, the ids inside, c), else None."""
    if e.prim is not R.ewise_p or len(e.inputs) != 2:
        return None
    for i, j in ((0, 1), (1, 0)):
        lse, picked = graph.producer[e.inputs[i].id], graph.producer[e.inputs[j].id]
        c = sp.simplify(e.params[0] / (R.ph(i) - R.ph(j)))
        if (not c.is_number or c == 0 or lse.prim is not R.logsumexp_p
                or picked.prim is not R.gather_p or lse.inputs[0].id != picked.inputs[0].id
                or not all(_once(consumers, v) for v in e.inputs)):
            continue
        return picked.inputs[0], picked.inputs[1], {lse.out.id, picked.out.id}, c
    return None


class OneHot(MatrixExpr):
    """one_hot(k): the column e_k of n entries (a display node of δ = softmax(z) − one_hot(k):
    printed, never evaluated)."""

    def __new__(cls, k, n):
        return MatrixExpr.__new__(cls, sp.sympify(k), sp.sympify(n))

    @property
    def shape(self):
        return (self.args[1], sp.S.One)

    def _sympystr(self, printer):
        return "one_hot(%s)" % printer._print(self.args[0])

    def _latex(self, printer):
        return r"\operatorname{one\_hot}\left(%s\right)" % printer._print(self.args[0])
