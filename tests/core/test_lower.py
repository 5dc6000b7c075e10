"""Lowering: every supported node becomes equations; deep expressions do not recurse."""
from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.core.lower import lower

x, y = sp.symbols("x y")


def test_each_node_kind_lowers_and_evaluates():
    A, B = sp.MatrixSymbol("A", 2, 3), sp.MatrixSymbol("B", 3, 2)
    a, b = np.arange(6.0).reshape(2, 3) / 7, np.arange(6.0).reshape(3, 2) / 5 - 0.5
    at = {A: a, B: b, x: 0.3}
    cases = [
        (A * B, a @ b), (A.T, a.T), (A + B.T, a + b.T), (sp.HadamardProduct(A, B.T), a * b.T),
        (sp.HadamardPower(A, 2), a ** 2), (x * A, 0.3 * a), (A.applyfunc(sp.exp), np.exp(a)),
        (sp.Trace(A * B), np.trace(a @ b)), (A[1, 2], a[1, 2]), (sp.Identity(2) + A * B, np.eye(2) + a @ b),
        (sp.OneMatrix(2, 3) + A, 1 + a), (sp.ZeroMatrix(2, 2) + A * B, a @ b),
        (sp.ImmutableMatrix([[1, 2, 3], [4, 5, 6]]) + A, np.array([[1, 2, 3], [4, 5, 6]]) + a),
        (sp.Matrix([[x, 2 * x, 1], [0, x ** 2, 3]]), np.array([[0.3, 0.6, 1], [0, 0.09, 3]])),
        (sg.sum(A), a.sum()), (sg.logsumexp(A), np.log(np.exp(a).sum())),
    ]
    for expr, expected in cases:
        np.testing.assert_allclose(sg.numeric(expr, at), expected, rtol=1e-13, err_msg=str(expr))


def test_one_node_one_equation():
    graph, low, out = lower(sp.sin(x * y) + x)
    prims = [e.prim.name for e in graph.eqns]
    assert prims.count("ewise") == 3 and prims.count("input") == 2


def test_parameters_and_inputs():
    graph, low, out = lower(x * y, params=[x])
    kinds = {e.params[0]: e.prim.name for e in graph.eqns if e.prim.leaf}
    assert kinds == {x: "param", y: "input"}


def test_deep_chain_does_not_hit_the_recursion_limit():
    # 3000 nested operations (1500 × (multiply, add)): deeper than Python's recursion limit of 1000.
    # Lowering, reverse accumulation, the conversion back to SymPy, the program and the evaluator
    # must all be iterative.
    f = x
    for k in range(1500):
        f = f * y + (k % 5 - 2)
    d = sg.derive(f, [x, y])
    assert d.gradients[0] == y ** 1500
    assert len(d.program) > 3000
    xv, yv = 0.3, 0.999
    # by hand: f_{k+1} = y f_k + c_k; ∂f/∂x = y^n; ∂f/∂y accumulates f_k + y ∂f_k/∂y
    fv, dy = xv, 0.0
    for k in range(1500):
        fv, dy = fv * yv + (k % 5 - 2), fv + yv * dy
    vals = d.values({x: xv, y: yv})
    np.testing.assert_allclose(vals["f"], fv, rtol=1e-10)
    np.testing.assert_allclose(vals["gradients"], [yv ** 1500, dy], rtol=1e-10)
