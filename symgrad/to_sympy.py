"""From IR back to SymPy: whole expressions (for `grad`) and the CSE'd straight-line program.

Forward values keep the user's own SymPy form (the lowering remembers it); every other variable is
rebuilt from its equation through the primitive's ``to_sympy`` row. Matrix ``ewise`` bodies are
written back structurally — Add as MatAdd, Mul as HadamardProduct or a scalar times a matrix, Pow as
HadamardPower, functions with ``applyfunc`` — so a gradient reads ``2*(W*x - y)*x.T``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import sympy as sp

from . import rules as R
from .functions import Map, Softmax
from .ir import Graph, Var


def _is_mat(x) -> bool:
    return isinstance(x, (sp.MatrixExpr, sp.MatrixBase))


class Elementwise(sp.MatrixExpr):
    """f(A, B, ...) applied entry by entry to matrices of one shape: the fallback form of an
    elementwise body with several matrix operands that no SymPy matrix node expresses."""

    def __new__(cls, function: sp.Lambda, *mats):
        return sp.MatrixExpr.__new__(cls, function, *mats)

    @property
    def function(self):
        return self.args[0]

    @property
    def shape(self):
        return self.args[1].shape

    def _entry(self, i, j, **kw):
        return self.function(*[m[i, j] if _is_mat(m) else m for m in self.args[1:]])

    def doit(self, **hints):
        mats = [m.doit(**hints) for m in self.args[1:]]
        if all(isinstance(m, sp.MatrixBase) or not _is_mat(m) for m in mats):
            rows, cols = self.shape
            return sp.ImmutableMatrix(rows, cols, lambda i, j: self.function(
                *[m[i, j] if _is_mat(m) else m for m in mats]))
        return Elementwise(self.function, *mats)

    def _sympystr(self, printer):
        return "%s.(%s)" % (printer._print(self.function), ", ".join(printer._print(m) for m in self.args[1:]))


def ewise_to_matrix_expr(body: sp.Expr, args: Sequence, shape) -> sp.Basic:
    """Write an elementwise body over matrix (and scalar) arguments as a SymPy matrix expression."""
    sub = dict(zip(R.placeholders(len(args)), args))

    def conv(e):
        if e in sub:
            return sub[e]
        if not e.free_symbols & set(sub):
            return e
        kids = [conv(a) for a in e.args]
        if not any(_is_mat(k) for k in kids):
            return e.func(*kids)
        mats = [k for k in kids if _is_mat(k)]
        scal = [k for k in kids if not _is_mat(k)]
        if e.is_Add:
            total = sp.MatAdd(*mats).doit(deep=False) if len(mats) > 1 else mats[0]
            if scal:
                total = total + sp.Add(*scal) * sp.OneMatrix(*shape)
            return total
        if e.is_Mul:
            prod = sp.HadamardProduct(*mats).doit(deep=False) if len(mats) > 1 else mats[0]
            if not scal:
                return prod
            # MatMul, not *: c * (A + B) would distribute into c*A + c*B; keep 2*(W*x - y).
            return sp.MatMul(sp.Mul(*scal), prod) if isinstance(prod, sp.MatAdd) else sp.Mul(*scal) * prod
        if e.is_Pow and not _is_mat(kids[1]):
            return sp.HadamardPower(kids[0], kids[1])
        if len(mats) == 1:
            t = sp.Dummy("t", real=True)
            k = kids.index(mats[0])
            f = sp.Lambda(t, e.func(*[t if j == k else a for j, a in enumerate(kids)]))
            if len(kids) == 1 and isinstance(e.func, sp.FunctionClass):
                f = e.func
            return Map(f, mats[0])
        ts = [sp.Dummy(f"t{i}", real=True) for i in range(len(mats))]
        it = iter(ts)
        lam = sp.Lambda(tuple(ts), e.func(*[next(it) if _is_mat(k) else k for k in kids]))
        return Elementwise(lam, *mats)

    return conv(body)


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
        sym = sp.MatrixSymbol(name, *eqn.out.shape) if eqn.out.shape != () else sp.Symbol(name)
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
