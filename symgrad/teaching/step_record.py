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


@dataclass
class Steps:
    """The steps of a derivation, in the order reverse (or forward) mode takes them."""
    f: Any
    out: Any                              # the output's display symbol
    definitions: list                     # (symbol, expression, value) of the forward pass
    steps: list                           # NodeStep
    gradients: list                       # (wrt symbol, ∂L/∂w written in user symbols, value)
    mode: str = "reverse"
    sweeps: dict = field(default_factory=dict)
    given: dict = field(default_factory=dict)
    number_format: str = ".4g"
    at: dict | None = None
    # what the graph picture needs: the naming, values by var id, contributions by node
    naming: Any = None
    values: dict = field(default_factory=dict)
    contribs: dict = field(default_factory=dict)
    source: Any = None                    # the derivation record these were built from (f regrouped for names=)
    convention: str | None = None         # "row" / "column": the views add the Jacobian form
    named_gradients: dict = field(default_factory=dict)   # w -> ∂L/∂w in adjoint names (δ·xᵀ), when
    #                                                       gradients holds its closed form instead
    shapes: bool = False                  # the views write each forward value's shape (`shape_notes`)

    def __iter__(self):
        return iter(self.steps)

    def __len__(self):
        return len(self.steps)

    def __getitem__(self, i):
        return self.steps[i]

    def find(self, name) -> NodeStep:
        """The step of the node called ``name`` (a string or the symbol itself)."""
        for s in self.steps:
            if str(s.node) == str(name):
                return s
        raise KeyError(f"no step for {name!r}; nodes: {', '.join(str(s.node) for s in self.steps)}")

    def render(self, fmt: str = "unicode") -> str:
        from .render import render
        return render(self, fmt)

    def __str__(self):
        return self.render("unicode")
