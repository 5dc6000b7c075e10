"""Forward accumulation over the IR: push a tangent from the inputs to the outputs.

One sweep gives the derivative of every output with respect to one input direction, so a gradient
of n inputs needs n sweeps — where reverse mode needs one sweep per output. The lecture notes make
this point (forward accumulation suits one input, reverse accumulation one output); `sweeps`
says how many each mode needs.
"""
from __future__ import annotations

from typing import Callable, Sequence

from .ir import Eqn, Graph, Var


def forward(graph: Graph, outs: Sequence[Var], tangents: dict[int, Var],
            on_step: Callable[[Eqn, Var], None] | None = None) -> list[Var | None]:
    """The tangents of ``outs`` given ``tangents`` (var id -> tangent var) of some inputs."""
    tan = dict(tangents)
    for eqn in graph.ancestors(outs):
        if eqn.prim.leaf or eqn.out.id in tan:
            continue
        ts = [tan.get(v.id) for v in eqn.inputs]
        if all(t is None for t in ts):
            continue
        t = eqn.prim.jvp(graph, eqn, ts)
        if t is not None:
            tan[eqn.out.id] = t
            if on_step is not None:
                on_step(eqn, t)
    return [tan.get(v.id) for v in outs]


def sweeps(n_inputs: int, n_outputs: int) -> dict[str, int]:
    """How many sweeps each mode needs for the full Jacobian of n_outputs × n_inputs scalars."""
    return {"forward": n_inputs, "reverse": n_outputs}
