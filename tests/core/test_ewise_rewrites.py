"""`rewrite_ewise`, the walk shared by the log-softmax rewrite and the compiled programs' stability
table: an elementwise equation replaced, the equations after it bound again on the new value, the
others (and a graph with nothing to replace) kept as they are. Values checked by evaluating both
graphs against NumPy written by hand."""
from __future__ import annotations

import numpy as np
import sympy as sp

from symgrad.core import rules as R
from symgrad.core.evaluate import evaluate
from symgrad.core.ewise_rewrites import rewrite_ewise
from symgrad.core.ir import Graph


def _graph():
    x, y = sp.symbols("x y", real=True)
    g = Graph()
    a = g.bind(R.input_p, (), (x, ()))
    b = g.bind(R.input_p, (), (y, ()))
    e = R.ewise(g, sp.exp(R.ph(0)), a)          # exp(x)
    s = R.ewise(g, R.ph(0) + R.ph(1), e, b)     # exp(x) + y
    m = R.ewise(g, R.ph(0) * R.ph(1), a, b)     # x * y: no exp before it
    return g, (x, y), (a, b, e, s, m)


def test_a_replaced_equation_reaches_the_equations_after_it():
    g, (x, y), (a, b, e, s, m) = _graph()

    def exp_as_sin(eqn, ins):
        return R.ewise(g, sp.sin(R.ph(0)), *ins) if eqn.params[0].has(sp.exp) else None
    new_s, new_m = rewrite_ewise(g, [s, m], exp_as_sin)
    assert new_s is not s and new_m is m
    got = evaluate(g, [new_s, new_m], {x: 0.7, y: -1.5})
    assert np.allclose([float(v) for v in got], [np.sin(0.7) - 1.5, 0.7 * -1.5])


def test_nothing_to_replace_gives_the_same_vars():
    g, _, (a, b, e, s, m) = _graph()
    n = len(g.eqns)
    assert rewrite_ewise(g, [s, m], lambda eqn, ins: None) == [s, m]
    assert len(g.eqns) == n
