"""From IR back to SymPy: whole expressions (for `grad`) and the CSE'd straight-line program.

Forward values keep the user's own SymPy form (the lowering remembers it); every other variable is
rebuilt from its equation through the primitive's ``to_sympy`` row (matrix ``ewise`` bodies through
`symgrad.core.ewise_form`, so a gradient reads ``2*(W*x - y)*x.T``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import sympy as sp

from . import rules as R
from ..frontend.functions import Softmax
from ..frontend.tensor import Tensor, is_tensor_expr
from .ir import Graph, Var


class SympyBuilder:
    """Memoized conversion of graph variables to SymPy expressions."""

    def __init__(self, graph: Graph, known: dict[int, sp.Basic] | None = None):
        self.graph = graph
        self.memo: dict[int, sp.Basic] = dict(known or {})

    def __call__(self, v: Var) -> sp.Basic:
        memo, producer = self.memo, self.graph.producer
        stack = [v.id]
        while stack:
            i = stack[-1]
            if i in memo:
                stack.pop()
                continue
            eqn = producer[i]
            missing = [u.id for u in eqn.inputs if u.id not in memo]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            memo[i] = eqn_to_sympy(self.graph, eqn, [memo[u.id] for u in eqn.inputs])
        return memo[v.id]


def eqn_to_sympy(graph: Graph, eqn, args) -> sp.Basic:
    # softmax(z) is exp(z - logsumexp(z)) in the IR; give it its name back.
    sm = R.softmax_operands(graph, eqn)
    if sm is not None:
        return Softmax(args[0] if eqn.inputs[0].id == sm[0].id else args[1])
    return eqn.prim.to_sympy(args, eqn.params, eqn.out.shape)


# ---------------------------------------------------------------------------------------------------
# The straight-line program: every equation once, each a (temporary, expression) assignment.


@dataclass
class StraightLine:
    """A CSE'd straight-line program: ``assignments`` is a list of ``(Symbol, expr)`` pairs in order,
    ``outputs`` the expressions (usually temporaries) of the results.

    >>> import sympy as sp, symgrad as sg
    >>> x, y = sp.symbols('x y')
    >>> print(sg.derive(sp.sin(x * y), x).program)      # f = sin(xy) and ∂f/∂x = y·cos(xy)
    t0 = x*y
    t1 = sin(t0)
    t2 = cos(t0)
    t3 = t2*y
    out: t1, t3
    """

    assignments: list = field(default_factory=list)
    outputs: list = field(default_factory=list)

    def __iter__(self):
        return iter(self.assignments)

    def __len__(self):
        return len(self.assignments)

    def count_ops(self) -> int:
        """Operations in the program, by ``sympy.count_ops`` over each right-hand side."""
        return sum(int(sp.count_ops(e)) for _, e in self.assignments)

    def __str__(self):
        lines = [f"{s} = {e}" for s, e in self.assignments]
        lines.append("out: " + ", ".join(str(o) for o in self.outputs))
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return dict(self.assignments)


def straight_line(graph: Graph, outs: Sequence[Var | None], prefix: str = "t") -> StraightLine:
    """The program computing ``outs``: one assignment per non-leaf equation they need; leaves
    appear as the user's symbols, scalar constants inline."""
    used = {s.name for e in graph.eqns if e.prim.leaf and e.prim is not R.const_p
            for s in [e.params[0]]}
    names = _names(prefix, used)
    memo: dict[int, sp.Basic] = {}
    prog = StraightLine()
    for eqn in graph.ancestors([o for o in outs if o is not None]):
        if eqn.prim.leaf:
            memo[eqn.out.id] = eqn.prim.to_sympy((), eqn.params, eqn.out.shape)
            continue
        rhs = eqn_to_sympy(graph, eqn, [memo[u.id] for u in eqn.inputs])
        name = next(names)
        sym = (sp.Symbol(name) if eqn.out.shape == () else
               Tensor(name, eqn.out.shape) if is_tensor_expr(rhs) or len(eqn.out.shape) != 2 else
               sp.MatrixSymbol(name, *eqn.out.shape))
        prog.assignments.append((sym, rhs))
        memo[eqn.out.id] = sym
    prog.outputs = [memo[o.id] if o is not None else sp.S.Zero for o in outs]
    return prog


def _names(prefix, used):
    k = 0
    while True:
        n = f"{prefix}{k}"
        k += 1
        if n not in used:
            yield n
