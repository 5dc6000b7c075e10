"""GELU's erf computed once for the forward and the backward of a NumPy step.

GELU(x) = x·Φ(x) with Φ(x) = (1 + erf(x/√2))/2, and GELU'(x) = Φ(x) + x·φ(x). The forward's
elementwise body is ``gelu(a0)`` and the backward's (derived by SymPy) holds ``erf(√2·a0/2)`` of the
same x: printed as they are, the step evaluates erf twice per entry — the most expensive elementwise
call of a transformer's step (bench/transformer_step.py --profile: 36 ms a layer for each at
T = 64, D = 128, N = 32). `share_erf` gives erf(x/√2) an equation of its own when two or more
elementwise equations read it (``gelu(a0)`` becomes ``a0·(1 + u)/2``, the backward's
``erf(√2·a0/2)`` becomes ``u``), so the scheduler computes it once as a named value that both read.
Graph equations are rebound, never changed: the rewritten ones are new, hash-consed equations, and
the roles (loss, gradients, outputs) and comments follow them.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x, W = sg.tensor("x", (N, 4)), sg.tensor("W", (4, 4))
>>> prog = sg.compile(sg.mean(sg.gelu(x @ W) ** 2), [W], [x], dtype="float64")
>>> grad = prog.source.split("def grad")[1].split("def step")[0]
>>> grad.count(" = erf(")              # one erf per entry, for the forward and the backward
1
"""
from __future__ import annotations

import dataclasses

import sympy as sp

from symgrad.core import rules as R
from symgrad.frontend.functions import gelu

_HALF_SQRT2 = sp.sqrt(2) / 2


def _reads(body, i: int) -> bool:
    """The body reads erf(x/√2) of its input i: through gelu(a_i) or erf(√2·a_i/2)."""
    a = R.ph(i)
    return gelu(a) in body.atoms(gelu) or sp.erf(_HALF_SQRT2 * a) in body.atoms(sp.erf)


def share_erf(lw):
    """``lw`` (a `Lowered`) with erf(x/√2) one equation for each x that several elementwise equations
    read it of (see the module docstring); ``lw`` itself when there is none."""
    g = lw.graph
    roots = [v for v in [lw.loss, *lw.grads, *lw.outputs] if v is not None]
    eqns = g.ancestors(roots)
    readers: dict = {}
    for e in eqns:
        if e.prim is R.ewise_p:
            for i, u in enumerate(e.inputs):
                if _reads(e.params[0], i):
                    readers.setdefault(u.id, set()).add(e.out.id)
    shared = {x: None for x, who in readers.items() if len(who) >= 2}
    if not shared:
        return lw
    new: dict = {}
    for e in eqns:
        if e.prim.leaf:
            continue
        ins = [new.get(v.id, v) for v in e.inputs]
        body = e.params[0] if e.prim is R.ewise_p else None
        hits = [i for i, u in enumerate(e.inputs) if u.id in shared and body is not None and _reads(body, i)]
        if hits:
            for i in hits:
                x = ins[i]
                if shared[e.inputs[i].id] is None:
                    shared[e.inputs[i].id] = R.ewise(g, sp.erf(_HALF_SQRT2 * R.ph(0)), x, shape=x.shape)
                u, k = shared[e.inputs[i].id], len(ins)
                ins.append(u)
                a, b = R.ph(i), R.ph(k)
                body = body.xreplace({gelu(a): a * (1 + b) / 2}).xreplace({sp.erf(_HALF_SQRT2 * a): b})
            new[e.out.id] = g.bind(R.ewise_p, ins, (body, e.params[1]))
        elif any(a is not b for a, b in zip(ins, e.inputs)):
            new[e.out.id] = g.bind(e.prim, ins, e.params)
    notes = dict(lw.notes)
    for old, v in new.items():
        if old in lw.notes:
            notes.setdefault(v.id, lw.notes[old])

    def remap(v):
        return None if v is None else new.get(v.id, v)
    return dataclasses.replace(lw, loss=remap(lw.loss), grads=[remap(v) for v in lw.grads],
                               outputs=[remap(v) for v in lw.outputs], notes=notes)
