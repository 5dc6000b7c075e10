"""The cross-entropy of a MatrixSymbol network (one example, a column), as one operation.

``sg.cross_entropy(z, t)`` of a column of logits z (n, 1) and a one-hot or probability column t
lowers to −Σ t ⊙ (z − logsumexp(z)): logsumexp, ① − ②, ⊙, Σ, ×(−1). The slide draws one node,
"cross-entropy", and writes one step, δ = ∂L/∂z = softmax(z) − t given Σt = 1 (the ``given``
``{sg.sum(t): 1}``), else Σt·softmax(z) − t; the numbers stay reverse mode's own. Where the user names the softmax (``names={f: sg.softmax(z)}``,
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

from ..core import rules as R


def column_core(graph, consumers, e):
    """c·t ⊙ (z − logsumexp(z)) (c = ±1) of columns: (z, t, the ids inside, c), else None."""
    if e.prim is not R.ewise_p or len(e.inputs) != 2:
        return None

    def once(v):
        return len(consumers.get(v.id, ())) == 1

    for i, j in ((0, 1), (1, 0)):
        ls, t = e.inputs[i], e.inputs[j]
        p = graph.producer[ls.id]
        if p.prim is not R.ewise_p or len(p.inputs) != 2 or not once(ls) or t.shape != ls.shape:
            continue
        for a, b in ((0, 1), (1, 0)):
            z, lse = p.inputs[a], p.inputs[b]
            q = graph.producer[lse.id]
            if (p.params[0] != R.ph(a) - R.ph(b) or q.prim is not R.logsumexp_p or q.inputs[0].id != z.id
                    or not once(lse) or t.id == z.id):
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


def column_delta(z, t, given):
    """δ = Σt·softmax(z) − t, with Σt replaced by its value where ``given`` has it."""
    from ..frontend.matrix_functions import softmax, sum as total
    s = total(t)
    s = given.get(s, s)
    return s * softmax(z) - t if s != 1 else softmax(z) - t
