"""log(softmax(z)) read as log_softmax(z) = z − logsumexp(z): one rewrite of the IR, before
differentiation, for the values and gradients that `sg.grad`, `sg.jacobian`, `sg.hessian` and
`sg.numeric` compute.

The IR's softmax is exp(z − lse(z)) (`rules.softmax`, `array_rules.softmax`): where a logit is far
below the largest (800 in float64), it underflows to 0, and log of it is −∞ — and the gradient of
log p through 1/p is ∞·0 = NaN. torch's ``torch.log(F.softmax(z))`` does the same; its
``F.log_softmax(z)`` is finite. Written as ``sg.log(sg.softmax(z, axis=1))``, ``-(t *
sp.log(sg.softmax(z))).sum()`` or a per-example ``sp.log(sg.softmax(z))``, the log of a softmax is
now the log-softmax wherever a ``log`` of a softmax's value appears in an elementwise body:

    ewise[… log(a_k) …](…, softmax(z), …)   →   ewise[… (a_z − a_l) …](…, z, lse(z))

and the equations after it are rebuilt on the new value (hash-consing shares the rest). A softmax
used elsewhere too (its value printed, or multiplied) is kept for those uses.

`sg.derive` keeps the softmax and its log as the user wrote them (the derivation and the picture
teach softmax → cross-entropy, p's edge carrying −t/(N·p)); the compiled programs' `stabilize` pass
is `symgrad.compiling.rewrite`'s.

>>> import numpy as np, sympy as sp, symgrad as sg
>>> z = sg.tensor("z", (1, 2))
>>> float(sg.numeric(-sg.log(sg.softmax(z, axis=1))[0, 1], {"z": np.array([[0.0, -1000.0]])}))
1000.0
"""
from __future__ import annotations

from typing import Sequence

import sympy as sp

from . import array_rules as A
from . import rules as R
from .ewise_rewrites import rewrite_ewise
from .ir import Graph, Var

__all__ = ["softmax_parts", "log_softmax_rewrite"]


def softmax_parts(graph: Graph, v: Var):
    """(z, l) when ``v`` is the IR's softmax exp(z − l), l the logsumexp of z (a matrix's scalar
    ``logsumexp``, or a tensor's ``lse`` over an axis broadcast back to z's shape); else None."""
    eqn = graph.producer[v.id]
    if eqn.prim is not R.ewise_p or len(eqn.inputs) != 2:
        return None
    for i, j in ((0, 1), (1, 0)):
        if eqn.params[0] != sp.exp(R.ph(i) - R.ph(j)):
            continue
        z, l = eqn.inputs[i], eqn.inputs[j]
        pe = graph.producer[l.id]
        if pe.prim is R.logsumexp_p and pe.inputs[0].id == z.id:
            return z, l
        inner = pe.inputs[0] if pe.prim is A.expand_p else None
        if inner is not None and graph.producer[inner.id].prim is A.lse_p and \
                graph.producer[inner.id].inputs[0].id == z.id:
            return z, l
    return None


def _rewritten_body(graph: Graph, eqn, ins: list):
    """The body and inputs of ``eqn`` (its inputs already ``ins``) with each log(a_k) of a softmax
    input a_k replaced by a_z − a_l; None when it has no such log."""
    body = eqn.params[0]
    inputs = list(ins)
    swap = {}
    for k, v in enumerate(ins):
        parts = softmax_parts(graph, v)
        if parts is None or not body.has(sp.log(R.ph(k))):
            continue
        for u in parts:
            if all(u.id != w.id for w in inputs):
                inputs.append(u)
        z, l = (next(i for i, w in enumerate(inputs) if w.id == u.id) for u in parts)
        swap[sp.log(R.ph(k))] = R.ph(z) - R.ph(l)
    if not swap:
        return None
    return body.xreplace(swap), inputs


def log_softmax_rewrite(graph: Graph, outs: Sequence[Var]) -> list[Var]:
    """The outputs of ``graph`` with every log of a softmax read as the log-softmax (the module
    docstring); the same vars where there is none."""
    def rewrite(eqn, ins):
        r = _rewritten_body(graph, eqn, ins)
        return None if r is None else R.ewise(graph, r[0], *r[1], shape=eqn.params[1])
    return rewrite_ewise(graph, outs, rewrite)
