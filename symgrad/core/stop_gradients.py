"""The IR's stop-gradients: found, frozen, and removed once the gradients are derived.

``stop_gradient(u)`` (`symgrad.frontend.stop_gradient`) lowers to one ``ewise[stop_gradient(a0)](u)``
equation. Its rule is the ``ewise`` row's (∂/∂a0 is ``sympy.diff`` of the body, 0 here), so reverse
and forward mode send nothing through it. After differentiation it only costs a copy, and the code
printers do not know it: `strip_stop_gradients` rebinds every equation that reads one with the
stop_gradient taken out of its body (``ewise[a0](u)`` is u itself), so backends never see it.

    v1 = ewise[stop_gradient(a0)](v0)          v3 = ewise[a0*a1](v0, v0)
    v3 = ewise[a0*a1](v0, v1)        ──▶       (v1 is gone; v3 reads v0 twice: ewise[a0**2](v0))

`frozen_values` is the other half of "its derivative is zero" for checks by differences: f with each
stop_gradient's value held at the point, which is what the derived gradient differentiates.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import sympy as sp

from . import rules as R
from .placeholders import ph
from ..frontend.stop_gradient import has_stop_gradient, stop_gradient, without_stop_gradient
from .ir import Eqn, Graph, Var


def holds_stop_gradient(eqn: Eqn) -> bool:
    """True when the equation is an ``ewise`` whose body holds a stop_gradient."""
    return eqn.prim is R.ewise_p and has_stop_gradient(eqn.params[0])


def is_stop_gradient(eqn: Eqn) -> bool:
    """True when the equation is ``ewise[stop_gradient(body)]``: its whole value is held (the form
    lowering gives it; the teaching view names it as one step)."""
    return eqn.prim is R.ewise_p and isinstance(eqn.params[0], stop_gradient)


def strip_stop_gradients(graph: Graph, outs: Sequence[Var | None], notes: dict | None = None) -> list:
    """``outs`` recomputed without any stop_gradient: the same values, in the same graph
    (hash-consed, so every equation that reads none is kept as it is). ``notes`` (var id -> the
    generated code's comment) follow each rebuilt equation to its new variable. None stays None.

    A stop_gradient's argument, with its own elementwise body, is written into the ``ewise`` bodies
    that read it (z + sg(e − z) becomes the body z + (e − z), which SymPy makes e): the value is
    then what the user would have written without the stop_gradient, not a chain whose terms cancel
    only once a scheduler fuses it (equations that cost work until then; the NumPy writer itself
    reads such a sum as the var it equals, `codegen.schedule.Scheduler._same_as`)."""
    live = [v for v in outs if v is not None]
    eqns = graph.ancestors(live)
    if not any(holds_stop_gradient(e) for e in eqns):
        return list(outs)
    new: dict[int, Var] = {}
    held: dict[int, tuple] = {}       # old var id of a stop_gradient -> (its body, its new inputs)
    for e in eqns:
        if e.prim.leaf:
            continue
        inputs = tuple(new.get(v.id, v) for v in e.inputs)
        params = e.params
        if e.prim is R.ewise_p:
            body = without_stop_gradient(params[0])
            if any(v.id in held for v in e.inputs):
                body, inputs = _inline(body, e.inputs, inputs, held)
            if is_stop_gradient(e):
                # its argument's own elementwise body too: z + sg(h − z) is then h itself, not a
                # sum whose terms cancel only once a scheduler fuses them
                made = {u.id: (without_stop_gradient(graph.producer[u.id].params[0]), graph.producer[u.id].inputs)
                        for u in inputs
                        if graph.producer[u.id].prim is R.ewise_p and u.shape == e.out.shape}
                if made:
                    body, inputs = _inline(body, inputs, inputs, made)
                held[e.out.id] = (body, inputs)
            params = (body,) + tuple(params[1:])
        if params is e.params and all(a is b for a, b in zip(inputs, e.inputs)):
            continue
        out = graph.bind(e.prim, inputs, params)
        if out is not e.out:
            new[e.out.id] = out
            if notes is not None and e.out.id in notes and out.id not in notes:
                notes[out.id] = notes[e.out.id]
    return [None if v is None else new.get(v.id, v) for v in outs]


def _inline(body, old_inputs, inputs, held):
    """``body`` over ``inputs`` with each input that was a stop_gradient replaced by the body it
    held (its inputs appended): (new body, new inputs)."""
    ins = list(inputs)
    sub = {}
    for k, v in enumerate(old_inputs):
        if v.id not in held:
            continue
        inner, inner_inputs = held[v.id]
        fresh = {ph(j): sp.Dummy() for j in range(len(inner_inputs))}
        at = {}
        for j, u in enumerate(inner_inputs):
            at[fresh[ph(j)]] = ph(len(ins))
            ins.append(u)
        sub[ph(k)] = inner.xreplace(fresh).xreplace(at)
    return body.xreplace(sub), tuple(ins)


def frozen_values(graph: Graph, outs: Sequence[Var], values: Mapping) -> dict:
    """The value at ``values`` of each stop_gradient equation among the ancestors of ``outs``
    (var id -> value), for `symgrad.core.evaluate.evaluate`'s ``frozen=``: f evaluated with them
    held is the function whose derivative symgrad's gradient is."""
    from .evaluate import evaluate
    held = [e.out for e in graph.ancestors(list(outs)) if is_stop_gradient(e)]
    if not held:
        return {}
    return dict(zip([v.id for v in held], evaluate(graph, held, values)))


__all__ = ["holds_stop_gradient", "is_stop_gradient", "strip_stop_gradients", "frozen_values"]
