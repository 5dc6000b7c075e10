"""GELU's erf computed once for the forward and the backward of a NumPy step.

GELU(x) = x·Φ(x) with Φ(x) = (1 + erf(x/√2))/2, and GELU'(x) = Φ(x) + x·φ(x). The forward's
elementwise body is ``gelu(a0)`` and the backward's (derived by SymPy) holds ``erf(√2·a0/2)`` of the
same x: printed as they are, the step evaluates erf twice per entry — the most expensive elementwise
call of a transformer's step (bench/transformer_step.py --profile: 36 ms a layer for each at
T = 64, D = 128, N = 32). `share_erf` gives Φ(x) an equation of its own when two or more elementwise
equations read erf(x/√2) (``gelu(a0)`` becomes ``a0·u``, the backward's ``erf(√2·a0/2)/2 + 1/2``
becomes ``u``: two passes fewer in each than sharing erf itself), so the scheduler computes it once
as a named value that both read. Where a reader reads erf(x/√2) other than through Φ, the shared
value is erf(x/√2) itself (``gelu(a0)`` becomes ``a0·(1 + u)/2``): erf = 2Φ − 1 would lose erf's
relative precision near 0. Graph equations are rebound, never changed: the rewritten ones are new,
hash-consed equations, and the roles (loss, gradients, outputs) and comments follow them.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x, W = sg.tensor("x", (N, 4)), sg.tensor("W", (4, 4))
>>> prog = sg.compile(sg.mean(sg.gelu(x @ W) ** 2), [W], [x], dtype="float64")
>>> grad = prog.source.split("def grad")[1].split("def step")[0]
>>> code = [line for line in grad.splitlines() if not line.strip().startswith("#")]
>>> sum(line.count("erf(") + line.count("gelu_phi(") for line in code)   # one erf an entry (Φ: gelu_phi)
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


def _substituted(body, i: int, k, phi: bool):
    """``body`` with input i's GELU and erf(x/√2) read from input k (an index, or a symbol):
    erf(x/√2) itself, or Φ(x)."""
    a, b = R.ph(i), (k if isinstance(k, sp.Symbol) else R.ph(k))
    if phi:
        return body.xreplace({gelu(a): a * b}).xreplace({sp.erf(_HALF_SQRT2 * a): 2 * b - 1})
    return body.xreplace({gelu(a): a * (1 + b) / 2}).xreplace({sp.erf(_HALF_SQRT2 * a): b})


def _phi_only(body, inputs: list) -> bool:
    """Whether ``body`` reads erf(x/√2) of these inputs only as Φ(x) = (1 + erf(x/√2))/2: with erf
    written 2Φ − 1, no sum is left that adds a number to a term of Φ (SymPy collects GELU′'s
    erf/2 + 1/2 into Φ by itself; 3·erf would be 6Φ − 3, which cancels where erf is small)."""
    # a symbol no body reads (R.ph(10 ** 6) made the placeholders a0 ... a1000000, 30 s of SymPy
    # the first time: most of sg.compile's time for a GELU network)
    b = sp.Dummy("phi", real=True)
    for i in inputs:
        body = _substituted(body, i, b, True)
    return not any(t.is_Add and any(a.is_Number for a in t.args) and any(b in a.free_symbols for a in t.args)
                   for t in sp.preorder_traversal(body))


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
    # Φ(x) = (1 + erf(x/√2))/2 is the shared value where every reader then reads Φ alone (GELU's
    # forward x·Φ, its backward ḡ·(x·φ(x) + Φ)): two passes fewer in each; else erf(x/√2) itself
    # (2Φ − 1 would lose erf's relative precision near 0)
    by_id = {e.out.id: e for e in eqns}
    phi = {x for x in shared
           if all(_phi_only(by_id[w].params[0], [i for i, u in enumerate(by_id[w].inputs) if u.id == x])
                  for w in readers[x])}
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
                is_phi = e.inputs[i].id in phi
                if shared[e.inputs[i].id] is None:
                    shared_body = (1 + sp.erf(_HALF_SQRT2 * R.ph(0))) / 2 if is_phi else sp.erf(_HALF_SQRT2 * R.ph(0))
                    shared[e.inputs[i].id] = R.ewise(g, shared_body, x, shape=x.shape)
                u, k = shared[e.inputs[i].id], len(ins)
                ins.append(u)
                body = _substituted(body, i, k, is_phi)
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
