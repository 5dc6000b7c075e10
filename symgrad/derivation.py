"""The Derivation: what `sg.derive` returns — the gradients, the CSE'd straight-line program, and the
record of each step as reverse mode made it (the teaching views print these)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .ir import Eqn, Graph, Var
from .to_sympy import StraightLine


@dataclass
class Step:
    """One equation visited by reverse (or forward) accumulation."""
    eqn: Eqn
    cotangent: Var            # ḡ of the equation's output (forward mode: its tangent)
    contributions: list       # per input: the Var contributed (None = zero); empty in forward mode


@dataclass
class Derivation:
    f: Any
    wrt: Any
    gradients: Any                    # SymPy expressions, nested like wrt
    program: StraightLine             # f and its gradients, CSE'd
    forward_program: StraightLine     # f alone, CSE'd
    graph: Graph
    output: Var
    wrt_vars: list
    gradient_vars: list
    lowering: Any
    mode: str = "reverse"
    raw_steps: list = field(default_factory=list)

    def values(self, at) -> dict:
        """Every forward value and gradient of the graph at the point ``at`` (symbol or name -> value)."""
        from .evaluate import evaluate
        outs = [self.output] + [g for g in self.gradient_vars if g is not None]
        vals = evaluate(self.graph, outs, at)
        return {"f": vals[0], "gradients": vals[1:]}

    def __str__(self):
        lines = [f"f = {self.f}"]
        for w, g in zip(self.wrt_vars, _flat(self.gradients)):
            lines.append(f"∂f/∂{self.graph.producer[w.id].params[0]} = {g}")
        return "\n".join(lines)


def _flat(x):
    if isinstance(x, (list, tuple)):
        for y in x:
            yield from _flat(y)
    else:
        yield x
