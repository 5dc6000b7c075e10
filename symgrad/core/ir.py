"""The IR: a flat, topologically ordered list of equations, hash-consed.

    v0 = param[W] : (3, 2)
    v1 = input[x] : (2, 1)
    v2 = matmul(v0, v1) : (3, 1)
    v3 = ewise[sigmoid(a0)](v2) : (3, 1)

Each equation binds one primitive to input variables and static params and defines one new variable.
`Graph.bind` looks the triple (primitive, inputs, params) up first: an equation that exists already
is returned instead of added again, which is common-subexpression elimination by construction.
Gradients are added to the same graph, so they share the forward's values.

The primitives themselves, with their rules, are defined in `symgrad.core.rules`; this module holds only
the containers and the generic bookkeeping.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import sympy as sp

from ..errors import ShapeError
from .policy import DEFAULT, Subgradients

Shape = tuple  # () for a scalar, (rows, cols) for a matrix; entries are ints or SymPy expressions


class Var:
    """A value in the graph: an id and a shape. Printed as ``v<id>``."""

    __slots__ = ("id", "shape")

    def __init__(self, id: int, shape: Shape):
        self.id = id
        self.shape = shape

    @property
    def is_scalar(self) -> bool:
        return self.shape == ()

    def __repr__(self):
        return f"v{self.id}"


class Primitive:
    """An operation of the IR. Its rules (shape, reference implementation, VJP, JVP, SymPy form,
    the name of the calculus rule it teaches) are attached where it is defined, in `rules.py`.

    - ``shape(in_shapes, params) -> shape``
    - ``impl(args, params) -> ndarray``: reference NumPy evaluation of one example, float64
    - ``vjp(graph, eqn, g, want) -> [Var | None]``: the cotangent of each input given the output's
      cotangent ``g``; ``want[i]`` False means input i needs none (return None there)
    - ``jvp(graph, eqn, tangents) -> Var | None``: the output's tangent given the inputs' (None = 0)
    - ``to_sympy(args, params, shape) -> Expr``: the equation as a SymPy expression of its inputs'
    - ``canonicalize(graph, inputs, params) -> (inputs, params) | Var``: simplification before
      hash-consing (constant folding and the like); returning a Var short-circuits the bind
    """

    def __init__(self, name: str, *, leaf: bool = False):
        self.name = name
        self.leaf = leaf
        self.shape: Callable = None
        self.impl: Callable = None
        self.vjp: Callable | None = None
        self.jvp: Callable | None = None
        self.to_sympy: Callable = None
        self.canonicalize: Callable | None = None
        self.rule: str = ""
        self.format_params: Callable = lambda params: ", ".join(map(str, params))

    def __repr__(self):
        return self.name


class Eqn(NamedTuple):
    prim: Primitive
    inputs: tuple
    params: tuple
    out: Var

    def __str__(self):
        p = self.prim.format_params(self.params) if self.params else ""
        head = f"{self.prim.name}[{p}]" if p else self.prim.name
        args = f"({', '.join(map(repr, self.inputs))})" if self.inputs else ""
        return f"{self.out!r} = {head}{args} : {format_shape(self.out.shape)}"


def format_shape(shape: Shape) -> str:
    return "()" if shape == () else "(" + ", ".join(map(str, shape)) + ")"


class Graph:
    """A growing, hash-consed list of equations. Append-only, so the list stays topologically
    ordered; later passes (differentiation) append to the same graph."""

    def __init__(self, policy: Subgradients = DEFAULT):
        self.eqns: list[Eqn] = []
        self.producer: dict[int, Eqn] = {}   # var id -> the equation that defines it
        self._memo: dict[Any, Var] = {}
        self.policy = policy
        # ids of (an equation, its arguments) -> (the equation, the arguments, the SymPy form):
        # `to_sympy.eqn_to_sympy`'s memo, shared by every builder of this graph
        self.sympy_forms: dict[tuple, tuple] = {}

    # -- building ---------------------------------------------------------------------------------
    def bind(self, prim: Primitive, inputs: Sequence[Var] = (), params: tuple = ()) -> Var:
        inputs = tuple(inputs)
        if prim.canonicalize is not None:
            r = prim.canonicalize(self, inputs, params)
            if isinstance(r, Var):
                return r
            inputs, params = r
        key = (prim.name, tuple(v.id for v in inputs), params)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        shape = prim.shape(tuple(v.shape for v in inputs), params)
        out = Var(len(self.eqns), shape)
        eqn = Eqn(prim, inputs, params, out)
        self.eqns.append(eqn)
        self.producer[out.id] = eqn
        self._memo[key] = out
        return out

    def eqn_of(self, v: Var) -> Eqn:
        return self.producer[v.id]

    # -- reading ----------------------------------------------------------------------------------
    def ancestors(self, outs: Sequence[Var]) -> list[Eqn]:
        """The equations that the variables ``outs`` depend on, in graph (topological) order."""
        seen: set[int] = set()
        stack = [v.id for v in outs]
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            stack.extend(v.id for v in self.producer[i].inputs)
        return [self.producer[i] for i in sorted(seen)]

    def pretty(self, outs: Sequence[Var] | None = None) -> str:
        """The canonical printed form: one equation per line, then the outputs."""
        eqns = self.eqns if outs is None else self.ancestors(outs)
        lines = [str(e) for e in eqns]
        if outs is not None:
            lines.append("out " + ", ".join(map(repr, outs)))
        return "\n".join(lines)

    def __str__(self):
        return self.pretty()

    def __len__(self):
        return len(self.eqns)


def check_same_shape(what: str, shapes: Sequence[Shape], names: Sequence[str] | None = None) -> Shape:
    """The common shape of operands that must agree (scalars broadcast); a ShapeError otherwise."""
    mats = [(i, s) for i, s in enumerate(shapes) if s != ()]
    if not mats:
        return ()
    first = mats[0][1]
    for i, s in mats[1:]:
        if not shapes_equal(s, first):
            a = names[mats[0][0]] if names else f"operand {mats[0][0]}"
            b = names[i] if names else f"operand {i}"
            raise ShapeError(f"{what}: shapes do not match: {a} is {format_shape(first)} but "
                             f"{b} is {format_shape(s)}; elementwise operations need equal shapes "
                             f"(or a scalar)")
    return first


def dims_equal(a, b) -> bool:
    """Two dimensions are equal: ints compared directly, symbolic ones (n, m + 1) by simplification."""
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    d = sp.sympify(a) - sp.sympify(b)
    if d.is_number:
        return d == 0
    # polynomial sizes (N, 6*N, n*m + n) compare by expansion; simplify only for anything else
    return sp.expand(d) == 0 or (not d.is_polynomial() and sp.simplify(d) == 0)


def shapes_equal(a: Shape, b: Shape) -> bool:
    return len(a) == len(b) and all(dims_equal(x, y) for x, y in zip(a, b))
