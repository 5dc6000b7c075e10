"""Reverse accumulation (backpropagation) over the IR: one generic driver, no per-primitive branches.

Walk the equations from the output back to the inputs. Each equation's output cotangent ``ḡ`` is the
sum of the contributions it received from every equation that used it — the "sum over all paths" of
the influence diagram — and the primitive's VJP rule turns ``ḡ`` into contributions to its inputs.
The new equations go into the same hash-consed graph, so the gradient shares the forward's values.
"""
from __future__ import annotations

from typing import Callable, Sequence

from . import rules as R
from .ir import Eqn, Graph, Var


def depends_on(graph: Graph, srcs: Sequence[Var]) -> set[int]:
    """Ids of the variables whose value depends on any of ``srcs`` (including the srcs)."""
    need = {v.id for v in srcs}
    for e in graph.eqns:
        if e.out.id not in need and any(v.id in need for v in e.inputs):
            need.add(e.out.id)
    return need


def backward(graph: Graph, out: Var, wrt: Sequence[Var], seed: Var | None = None,
             on_step: Callable[[Eqn, Var, list], None] | None = None,
             drop: Callable[[Var, Eqn], bool] | None = None) -> list[Var | None]:
    """The cotangents of ``wrt`` (None where ``out`` does not depend on one) for the output
    cotangent ``seed`` (default 1, which needs ``out`` scalar: then they are the gradients).

    ``on_step(eqn, g, contributions)`` is called for every equation visited, in reverse order, with
    the output's accumulated cotangent and the list of contributions to its inputs (None = zero);
    the derivation printer records steps through it. ``drop(v, eqn)`` true leaves out the
    contribution of ``eqn`` to its input ``v`` (a path cut: the hints derive slipped gradients so).
    """
    if seed is None:
        seed = R.const(graph, 1, out.shape)
    need = depends_on(graph, wrt)
    pending: dict[int, list[Var]] = {out.id: [seed]}
    adjoint: dict[int, Var] = {}
    for eqn in reversed(graph.ancestors([out])):
        contribs = pending.pop(eqn.out.id, None)
        if not contribs or eqn.out.id not in need:
            continue
        g = R.add_n(graph, contribs, eqn.out.shape)      # fan-out: sum over paths
        adjoint[eqn.out.id] = g
        if eqn.prim.leaf:
            continue
        want = [v.id in need for v in eqn.inputs]
        cts = eqn.prim.vjp(graph, eqn, g, want)
        for v, c in zip(eqn.inputs, cts):
            if c is not None and v.id in need and not (drop is not None and drop(v, eqn)):
                pending.setdefault(v.id, []).append(c)
        if on_step is not None:
            on_step(eqn, g, cts)
    return [adjoint.get(w.id) for w in wrt]
