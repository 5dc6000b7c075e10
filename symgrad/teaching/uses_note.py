"""The note of a parameter or an input used several times, as a lecture on backprop through time
says it: "W_hh is used 3 times (in z⁽³⁾, z⁽²⁾, z⁽¹⁾): its gradient is the sum over the paths
through each use" — the unrolled RNN's ∂L/∂W_hh = Σₜ δ⁽ᵗ⁾·h₍ₜ₋₁₎ᵀ. An intermediate value keeps
the influence diagram's "fan-out: e reaches a along 2 edges" (`symgrad.teaching.steps`)."""
from __future__ import annotations


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
