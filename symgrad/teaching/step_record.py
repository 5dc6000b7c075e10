"""What one step of a derivation holds (`symgrad.teaching.steps` builds them, the statistics'
steps of `symgrad.teaching.statistics` too, and `symgrad.teaching.render` prints them):
``lhs = rhs[0] = rhs[1] = ...`` and the local rules behind each term.

>>> import sympy as sp
>>> NodeStep(sp.Symbol("q"), sp.Symbol("dq"), [sp.Integer(1)]).text()
'dq = 1'
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Rule:
    """The local rule behind one term: its name, and ∂c/∂n = local (local None for matrix rules)."""
    name: str
    lhs: Any = None
    local: Any = None


@dataclass
class NodeStep:
    """The step for one node n: ``lhs = rhs[0] = rhs[1] = ...``; ``rules`` explain each term."""
    node: Any                 # the node's display symbol
    lhs: Any                  # ∂L/∂n (or δ)
    rhs: list                 # Chain | SymPy expression | Value, in order
    rules: list = field(default_factory=list)
    note: Any = ""            # "seed", "sweep k", or parts (strings and symbols): "fan-out: e reaches a ..."
    value: Any = None         # ∂L/∂n at the point, when given
    expr: Any = None          # ∂L/∂n written in the user's symbols (None when too long)
    delta_of: Any = None      # for δ symbols: the ∂L/∂n they stand for
    result: Any = None        # ∂L/∂n in the gradients of the nodes above (δ₂·y₁ᵀ)

    def text(self, fmt: str = "text", **kw) -> str:
        from .render import render_step
        return render_step(self, fmt, **kw)


