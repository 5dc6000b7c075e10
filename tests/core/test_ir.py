"""The IR: hash-consing (one equation per distinct primitive, inputs and params) and its printed form."""
from __future__ import annotations

import sympy as sp

import symgrad as sg
from symgrad.core import rules as R
from symgrad.core.ir import Graph
from symgrad.core.lower import lower

x, y = sp.symbols("x y")


def _ewise(graph, body):
    return [e for e in graph.eqns if e.prim is R.ewise_p and e.params[0] == body]


def test_bind_twice_is_one_equation():
    g = Graph()
    a = g.bind(R.input_p, (), (x, ()))
    b = g.bind(R.input_p, (), (y, ()))
    m1 = R.ewise(g, R.ph(0) * R.ph(1), a, b)
    m2 = R.ewise(g, R.ph(0) * R.ph(1), a, b)
    assert m1 is m2
    assert len(g) == 3


def test_x_times_y_lowered_twice_is_one_equation():
    graph, low, (v1, v2) = lower([x * y, x * y])
    assert v1 is v2
    graph, low, (p, q) = lower([sp.sin(x * y), sp.cos(x * y) + x * y])
    assert len(_ewise(graph, R.ph(0) * R.ph(1))) == 1
    # lowering more expressions into the same graph finds the same equation again
    low(sp.exp(x * y))
    assert len(_ewise(graph, R.ph(0) * R.ph(1))) == 1


def test_matrix_subexpressions_are_shared():
    W, v, b = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("v", 2, 1), sp.MatrixSymbol("b", 3, 1)
    graph, low, out = lower(sg.sum(sg.sigmoid(W * v + b)) + sg.sum((W * v + b).applyfunc(sp.tanh)))
    assert sum(1 for e in graph.eqns if e.prim is R.matmul_p) == 1
    assert sum(1 for e in graph.eqns if e.prim is R.param_p or e.prim is R.input_p) == 3


def test_forward_value_reused_in_the_gradient():
    # σ' = σ(1 − σ): the derivative uses the forward's σ, computed once in the program
    w, xx, b = sp.symbols("w x b")
    d = sg.derive(sg.sigmoid(w * xx + b), [w, xx, b])
    sig = [s for s, e in d.program if isinstance(e, sg.sigmoid)]
    assert len(sig) == 1
    assert sum(1 for _, e in d.program if e.has(sg.sigmoid)) == 1
    assert any(e.has(sig[0]) for _, e in d.program if not isinstance(e, sg.sigmoid))
    # and in the graph: one sigmoid equation, w*x once
    assert sum(1 for e in d.ir.eqns if e.prim is R.ewise_p and e.params[0].has(sg.sigmoid)) == 1
    assert len(_ewise(d.ir, R.ph(0) * R.ph(1))) == 3           # w·x, and ḡ·x, ḡ·w


def test_softmax_shared_between_forward_and_gradient():
    z, t = sp.MatrixSymbol("z", 4, 1), sp.MatrixSymbol("t", 4, 1)
    d = sg.derive(sg.cross_entropy(z, t) + sg.sum(sp.HadamardProduct(t, sg.softmax(z))), z)
    assert sum(1 for e in d.ir.eqns if e.prim is R.logsumexp_p) == 1


def test_printed_form():
    W, v = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("v", 2, 1)
    graph, low, out = lower(sg.sigmoid(W * v), params=[W])
    lines = graph.pretty([out]).splitlines()
    ids = {e.params[0]: repr(e.out) for e in graph.eqns if e.prim.leaf}
    mm = next(e for e in graph.eqns if e.prim is R.matmul_p).out
    assert sorted(lines[:2]) == sorted([f"{ids[W]} = param[W] : (3, 2)", f"{ids[v]} = input[v] : (2, 1)"])
    assert lines[2:] == [f"{mm!r} = matmul({ids[W]}, {ids[v]}) : (3, 1)",
                         f"{out!r} = ewise[sigmoid(a0)]({mm!r}) : (3, 1)", f"out {out!r}"]
