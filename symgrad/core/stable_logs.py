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

__all__ = ["softmax_parts", "softmax_by_hand", "log_softmax_rewrite"]


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
        if not body.has(sp.log(R.ph(k))):
            continue
        lse = _sum_of_exp(graph, v)
        if lse is not None:                          # log Σ exp(z) typed by hand: logsumexp(z)
            if all(lse.id != w.id for w in inputs):
                inputs.append(lse)
            swap[sp.log(R.ph(k))] = R.ph(next(i for i, w in enumerate(inputs) if w.id == lse.id))
            continue
        parts = softmax_parts(graph, v)
        if parts is None:
            continue
        for u in parts:
            if all(u.id != w.id for w in inputs):
                inputs.append(u)
        z, l = (next(i for i, w in enumerate(inputs) if w.id == u.id) for u in parts)
        swap[sp.log(R.ph(k))] = R.ph(z) - R.ph(l)
    if not swap:
        return None
    return body.xreplace(swap), inputs


def _producer(graph: Graph, v: Var, prim):
    """The equation that made ``v`` when it is of ``prim``, else None."""
    eqn = graph.producer.get(v.id)
    return eqn if eqn is not None and eqn.prim is prim else None


def _exp_argument(graph: Graph, e: Var):
    """z when ``e`` is the elementwise exp(z), else None."""
    ex = _producer(graph, e, R.ewise_p)
    return ex.inputs[0] if ex is not None and len(ex.inputs) == 1 and ex.params[0] == sp.exp(R.ph(0)) else None


def _sum_of_exp(graph: Graph, s: Var):
    """logsumexp(z), of ``s``'s shape, when ``s`` is Σ exp(z) over one axis of a tensor (kept), or over
    every entry of a vector (C,) or a column (n, 1); else None. ``sp.log(sp.exp(z).sum(axis=1))``
    typed by hand overflowed to inf above a logit of ~710 (float64), where torch.logsumexp is finite.
    A Σ without keepdims is the kept one reshaped: so is its logsumexp."""
    if (shaped := _producer(graph, s, A.reshape_p)) is not None:
        inner = _sum_of_exp(graph, shaped.inputs[0])
        return None if inner is None else A.reshape(graph, inner, s.shape)
    for prim in (A.rsum_p, R.sum_p):
        r = _producer(graph, s, prim)
        z = None if r is None else _exp_argument(graph, r.inputs[0])
        if z is None:
            continue
        if prim is A.rsum_p and len(r.params[0]) == 1:
            return A.lse(graph, z, r.params[0][0])
        if prim is R.sum_p and r.params[0] is None:
            if len(z.shape) == 1:
                return A.reshape(graph, A.lse(graph, z, 0), ())
            if len(z.shape) == 2 and R.dims_equal(z.shape[1], 1):
                return R.logsumexp(graph, z)
    return None


def softmax_by_hand(graph: Graph, eqn, ins: list):
    """The IR's softmax of z when ``eqn`` (its inputs ``ins``) is exp(z) / Σ exp(z), as a lecture
    types it: ``sp.exp(z) / sp.exp(z).sum(axis=1, keepdims=True)`` of a tensor (Σ over one axis), or
    ``sp.exp(z) / sp.exp(z).sum()`` of a vector (z of shape (C,)) or a column (n, 1); else None.

    In the IR: e = exp(z), s = Σ e over the axis, then e · expand(1/s) (or e / expand(s)). Written
    so, exp overflows for a logit above 710 (float64) and the loss is NaN where torch's softmax is
    finite; the softmax exp(z − lse(z)) is the same values, max-shifted."""
    if len(ins) != 2:
        return None
    body = eqn.params[0]
    for i, j in ((0, 1), (1, 0)):
        if body == R.ph(i) * R.ph(j):
            inverted = True
        elif body == R.ph(i) / R.ph(j):
            inverted = False
        else:
            continue
        e, s = ins[i], ins[j]
        z = _exp_argument(graph, e)
        if z is None:
            continue
        if (grown := _producer(graph, s, A.expand_p)) is not None:
            s = grown.inputs[0]
        if inverted:
            inv = _producer(graph, s, R.ewise_p)
            if inv is None or len(inv.inputs) != 1 or inv.params[0] != 1 / R.ph(0):
                continue
            s = inv.inputs[0]
        if (r := _producer(graph, s, A.rsum_p)) is not None and r.inputs[0].id == e.id and len(r.params[0]) == 1:
            return A.softmax(graph, z, r.params[0][0])
        if (r := _producer(graph, s, R.sum_p)) is not None and r.inputs[0].id == e.id and r.params[0] is None:
            if len(z.shape) == 1:
                return A.softmax(graph, z, 0)
            if len(z.shape) == 2 and R.dims_equal(z.shape[1], 1):
                return R.softmax(graph, z)
    return None


def log_softmax_rewrite(graph: Graph, outs: Sequence[Var]) -> list[Var]:
    """The outputs of ``graph`` with every log of a softmax read as the log-softmax (the module
    docstring), and a softmax typed by hand, exp(z) / Σ exp(z), read as the softmax first
    (`softmax_by_hand`); the same vars where there is none."""
    def rewrite(eqn, ins):
        typed = softmax_by_hand(graph, eqn, ins)
        if typed is not None:
            return typed
        r = _rewritten_body(graph, eqn, ins)
        return None if r is None else R.ewise(graph, r[0], *r[1], shape=eqn.params[1])
    return rewrite_ewise(graph, outs, rewrite)
