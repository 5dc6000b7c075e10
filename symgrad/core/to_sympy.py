"""From IR back to SymPy: whole expressions (for `grad`) and the CSE'd straight-line program.

Forward values keep the user's own SymPy form (the lowering remembers it); every other variable is
rebuilt from its equation through the primitive's ``to_sympy`` row (matrix ``ewise`` bodies through
`symgrad.core.ewise_form`, so a gradient reads ``2*(W*x - y)*x.T``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import sympy as sp

from . import rules as R
from ..frontend.functions import Softmax
from ..frontend.tensor import BroadcastTo, Ewise, Tensor, is_tensor_expr, shape_of
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
    """The equation as a SymPy expression of ``args``, its inputs' forms. Remembered per graph for
    the very equation and argument objects (held, so their ids stay theirs; a copy of the graph
    that shares the memo adds other equation objects): sg.derive builds one gradient in the user's
    symbols for ``gradients``, for the steps and for their rules, and each time SymPy's Mul of a
    long product gathered and re-sorted its factors (150 factors: most of _ewise_to_sympy's time)."""
    key = (id(eqn), *map(id, args))
    hit = graph.sympy_forms.get(key)
    if hit is not None and hit[0] is eqn and all(a is b for a, b in zip(hit[1], args)):
        return hit[2]
    out = _eqn_to_sympy(graph, eqn, args)
    graph.sympy_forms[key] = (eqn, tuple(args), out)
    return out


def _eqn_to_sympy(graph: Graph, eqn, args) -> sp.Basic:
    # softmax(z) is exp(z - logsumexp(z)) in the IR; give it its name back.
    sm = R.softmax_operands(graph, eqn)
    if sm is not None:
        return Softmax(args[0] if eqn.inputs[0].id == sm[0].id else args[1])
    out = eqn.prim.to_sympy(args, eqn.params, eqn.out.shape)
    if eqn.prim is R.ewise_p and eqn.out.shape != () and is_tensor_expr(out):
        out = _implicit_broadcasts(out, {id(a) for a in args})
    return _one_quotient(_fold_numbers(out))


def _one_quotient(e):
    """A matrix product whose scalar factors hold a reciprocal, written with them as one fraction:
    MatMul keeps each scalar apart and prints ``(-1)*y*1/(1 + exp(u))*exp(u)*x`` (read by a person as
    y/((1 + exp(u))·exp(u))); as ``(-y*exp(u)/(1 + exp(u)))*x`` it reads as it computes. Only products
    with such a reciprocal are touched (``2*y*x`` prints as it did)."""
    if not isinstance(e, sp.MatMul):
        return e
    scalars = [a for a in e.args if not isinstance(a, (sp.MatrixExpr, sp.MatrixBase))]
    if len(scalars) < 2 or not any(isinstance(a, sp.Pow) and a.exp.is_negative for a in scalars):
        return e
    mats = [a for a in e.args if isinstance(a, (sp.MatrixExpr, sp.MatrixBase))]
    return sp.MatMul(sp.Mul(*scalars), *mats, evaluate=False)


def _implicit_broadcasts(e, stop):
    """broadcast_to(γ, (N, D)) · dout written γ·dout: inside an elementwise sum or product, a
    broadcast to the shape that another operand has already is implicit in the tensor language
    (NumPy's broadcasting), as a student writes it; the value is the same. ``stop``: the ids of the
    equation's arguments, converted already (not walked again)."""
    from ..frontend.tensor import BroadcastTo, Ewise, shape_of
    if id(e) in stop:
        return e
    if isinstance(e, Ewise):             # the body of the equation, wrapped with its shape
        inner = _implicit_broadcasts(e.expr, stop)
        return e if inner is e.expr else Ewise(inner, e.shape)
    if not isinstance(e, (sp.Add, sp.Mul)):
        return e
    args = [_implicit_broadcasts(a, stop) for a in e.args]
    full = tuple(shape_of(e))
    same = lambda a: tuple(shape_of(a)) == full        # noqa: E731 - the shape test of this node
    if any(isinstance(a, BroadcastTo) and same(a) for a in args) and \
            any(not isinstance(a, BroadcastTo) and same(a) for a in args):
        args = [a.args[0] if isinstance(a, BroadcastTo) and same(a) else a for a in args]
    return e.func(*args) if any(a is not b for a, b in zip(args, e.args)) else e


def _fold_numbers(e):
    """2*(0.5*reg)*W → 1.0*reg*W: a product's number and its scalar factors' coefficients multiplied
    into one (a body is substituted unevaluated, so the ½ of ½·reg·ΣW² met the 2 of d(W²) unfolded).
    Only the top product is touched; the factors and the value are those of the product as built."""
    body = e.args[0] if isinstance(e, Ewise) else e
    if not isinstance(body, (sp.Mul, sp.MatMul)):
        return e
    c, rest, pulled = sp.S.One, [], False
    for a in body.args:
        # (the factors looked at one level deep: atoms() would walk a residual net's DAG as a tree)
        if isinstance(e, Ewise) and isinstance(a, Ewise) and isinstance(a.args[0], sp.Mul) \
                and all(f.is_Number or (isinstance(f, sp.Symbol) and not isinstance(f, Tensor))
                        for f in a.args[0].args):
            a = a.args[0]                  # a scalar product broadcast: e's own shape broadcasts it
        if a.is_Number:
            c *= a
        elif isinstance(a, sp.Mul) and a.is_commutative and a.args[0].is_Number:
            c, pulled = c * a.args[0], True
            rest.extend(a.args[1:])
        else:
            rest.append(a)
    if not pulled:
        return e
    folded = body.func(*([] if c == 1 else [c]), *rest, evaluate=False)
    return e.func(folded, *e.args[1:]) if isinstance(e, Ewise) else folded


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


# ---------------------------------------------------------------------------------------------------
# The named form: gradients over named intermediates, as the slides write them (δ₁ = …, ∂L/∂W = h₁ᵀ·δ₂).
#
# A value used twice is written twice by the whole-expression form: in a residual network each
# layer's gradient appears in two paths, so ∂L/∂W₀ grows 4× per layer. Naming every value that is
# used more than once (and is more than a leaf or a view of one) cuts the sharing: each definition
# then is a tree of single-use values, so the total size is linear in the graph.

# Movements of a name or leaf (W.T, x.reshape(N, 6), δ[:, :2]) are as short as the name: inlined.
_VIEWS = frozenset({"transpose", "reshape", "permute", "expand", "broadcast", "slice"})
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass
class Named:
    """Gradients written over named intermediates: ``definitions`` is the ordered list of
    ``(symbol, expr)`` (each expr uses the declaration's symbols and earlier names only; forward
    values are named ``h₁, h₂, …``, gradient values ``δ₁, δ₂, …``, each a Symbol, MatrixSymbol or
    tensor of the value's shape), ``gradients`` the gradients over those names, nested like
    ``wrt``. ``expand()`` substitutes the definitions back: the plain form of `sg.grad`.

    >>> import sympy as sp, symgrad as sg
    >>> x, w = sp.symbols('x w')
    >>> h = sp.tanh(w * x)
    >>> print(sg.grad(h * h + h, w, named=True))
    h₁ = tanh(w*x)
    ∂f/∂w = x*(1 - h₁**2)*(2*h₁ + 1)
    >>> sg.grad(h * h + h, w, named=True).expand() == sg.grad(h * h + h, w)
    True
    """

    definitions: list
    gradients: Any
    wrt: Any = None

    def expand(self):
        """The gradients with every name replaced by its definition (nested like ``wrt``)."""
        env: dict = {}
        for s, e in self.definitions:
            env[s] = e.xreplace(env)
        return _nested_map(lambda g: g.xreplace(env), self.gradients)

    def count_ops(self) -> int:
        """The size of the named form: ``sympy.count_ops`` over every definition and gradient."""
        return (sum(int(sp.count_ops(e)) for _, e in self.definitions)
                + sum(int(sp.count_ops(g)) for g in _leaves(self.gradients)))

    def __str__(self):
        lines = [f"{s} = {e}" for s, e in self.definitions]
        wrt = _leaves(self.wrt) if self.wrt is not None else [None] * len(_leaves(self.gradients))
        for w, g in zip(wrt, _leaves(self.gradients)):
            lines.append(f"∂f/∂{w} = {g}" if w is not None else str(g))
        return "\n".join(lines)


def _leaves(nested) -> list:
    if isinstance(nested, (list, tuple)):
        return [x for n in nested for x in _leaves(n)]
    if isinstance(nested, sp.MatrixBase) and not isinstance(nested, sp.MatrixExpr):
        return list(nested)
    return [nested]


def _nested_map(fn, nested):
    if isinstance(nested, (list, tuple)):
        return type(nested)(_nested_map(fn, n) for n in nested)
    if isinstance(nested, sp.MatrixBase) and not isinstance(nested, sp.MatrixExpr):
        return nested.applyfunc(fn)
    return fn(nested)


def named_form(graph: Graph, outs: Sequence[Var | None], known: dict[int, sp.Basic],
               zeros: Sequence | None = None) -> tuple[list, list]:
    """``(definitions, expressions of outs)``: a value of the graph is named when it is used more
    than once (an output counts as a use) and is more than a leaf, a constant, or a view of one.
    Values made by the lowering keep the user's form (``known``) while nothing below them is named.
    ``zeros[i]`` stands for ``outs[i]`` when that is None."""
    eqns = graph.ancestors([o for o in outs if o is not None])
    uses: dict[int, int] = {}
    for e in eqns:
        for u in e.inputs:
            uses[u.id] = uses.get(u.id, 0) + 1
    for o in outs:
        if o is not None:
            uses[o.id] = uses.get(o.id, 0) + 1
    taken = {str(e.params[0]) for e in eqns if e.prim.leaf and e.prim is not R.const_p}
    counters = {"h": _names("h", set()), "δ": _names("δ", set())}

    def fresh(prefix):
        while True:
            n = next(counters[prefix])
            n = prefix + n[len(prefix):].translate(_SUBSCRIPTS)
            if n != prefix + "₀" and n not in taken:
                return n

    expr: dict[int, sp.Basic] = {}
    atom: dict[int, bool] = {}        # a leaf, a constant, a name, or a view of one: inlined
    below: dict[int, bool] = {}       # some value below (or this one) is named
    definitions: list = []
    for e in eqns:
        i = e.out.id
        if e.prim.leaf:
            expr[i], atom[i], below[i] = e.prim.to_sympy((), e.params, e.out.shape), True, False
            continue
        named_below = any(below[u.id] for u in e.inputs)
        if i in known and not named_below:
            rhs = known[i]
        else:
            rhs = eqn_to_sympy(graph, e, [expr[u.id] for u in e.inputs])
        atom[i] = e.prim.name in _VIEWS and all(atom[u.id] for u in e.inputs)
        if uses.get(i, 0) > 1 and not atom[i]:
            # a broadcast of a value (1/√(σ² + ε) over the batch) names the value, of its own
            # shape: NumPy's broadcasting writes each use with the name alone, as the slides do
            inner = rhs.args[0] if isinstance(rhs, BroadcastTo) else None
            value, shape = (inner, tuple(shape_of(inner))) if inner is not None else (rhs, e.out.shape)
            sym = _symbol_for(fresh("h" if i in known else "δ"), value, shape)
            definitions.append((sym, value))
            expr[i] = BroadcastTo(sym, rhs.args[1]) if inner is not None else sym
            atom[i], below[i] = True, True
        else:
            expr[i], below[i] = rhs, named_below
    values = [expr[o.id] if o is not None else (zeros[k] if zeros is not None else sp.S.Zero)
              for k, o in enumerate(outs)]
    return definitions, values


def _symbol_for(name, rhs, shape):
    if shape == ():
        return sp.Symbol(name)
    if is_tensor_expr(rhs) or len(shape) != 2:
        return Tensor(name, shape)
    return sp.MatrixSymbol(name, *shape)
