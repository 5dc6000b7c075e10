"""The note of a parameter or an input used several times, as a lecture on backprop through time
says it: "W_hh is used 3 times (in z⁽³⁾, z⁽²⁾, z⁽¹⁾): its gradient is the sum over the paths
through each use" — the unrolled RNN's ∂L/∂W_hh = Σₜ δ⁽ᵗ⁾·h₍ₜ₋₁₎ᵀ. An intermediate value keeps
the influence diagram's "fan-out: e reaches a along 2 edges" (`symgrad.teaching.steps`)."""
from __future__ import annotations

from ..core import rules as R


def used_times(node, uses: list, n: int) -> list:
    """The note's parts (strings and symbols, as `NodeStep.note`): ``uses`` the nodes ``node``
    enters, named when there is one per edge."""
    parts = ["fan-out: ", node, f" is used {n} times"]
    if len(uses) == n and len(set(map(str, uses))) == n:
        parts.append(" (in ")
        for k, u in enumerate(uses):
            parts += ([", "] if k else []) + [u]
        parts.append(")")
    return parts + [": its gradient is the sum over the paths through each use"]


def is_uses_note(note) -> bool:
    """Whether a step's note is `used_times`'s (its rules at each use are then said once)."""
    return isinstance(note, list) and len(note) > 2 and isinstance(note[2], str) and note[2].startswith(" is used ")


def weight_shared(graph, fwd) -> bool:
    """Whether a parameter enters several matrix products: a recurrence unrolled over time (W_hh
    at every step), whose picture writes each share in the names of its step (δ⁽ᵗ⁾·hₜ₋₁ᵀ)."""
    count: dict = {}
    for e in fwd:
        if e.prim is R.matmul_p:
            for v in e.inputs:
                if graph.producer[v.id].prim is R.param_p:
                    count[v.id] = count.get(v.id, 0) + 1
    return any(n > 1 for n in count.values())
