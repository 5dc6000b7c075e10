"""Reverse accumulation: the cost bound, fan-out (sum over paths), and the subgradient policy."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

x, y, w = sp.symbols("x y w")


def _networks():
    out = {}
    for widths, act in [([4, 8, 8, 2], sg.sigmoid), ([3, 4, 2], sg.relu), ([5, 6, 3], sp.tanh)]:
        name = "-".join(map(str, widths))
        net = sg.mlp(widths, act=act)
        t = sp.MatrixSymbol("t", widths[-1], 1)
        out[f"mlp-{name}-mse"] = (sg.mse(net.output, t), net.params)
        out[f"mlp-{name}-cross_entropy"] = (sg.cross_entropy(net.output, t), net.params)
        snet = sg.mlp(widths, act=act, scalar=True)
        ts = sp.symbols(f"t0:{widths[-1]}")
        out[f"scalar-mlp-{name}"] = (sum((o - ti) ** 2 for o, ti in zip(snet.output, ts)) / 2, snet.params)
    W, v = sp.MatrixSymbol("W", 2, 2), sp.MatrixSymbol("v", 2, 1)
    out["norm-Wx"] = (sp.Trace((W * v).T * (W * v)), [W, v])
    out["sigmoid-neuron"] = (sg.sigmoid(w * x + y), [w, x, y])
    return out


NETWORKS = _networks()


@pytest.mark.parametrize("name", list(NETWORKS))
def test_reverse_program_at_most_three_times_the_forward(name):
    f, params = NETWORKS[name]
    d = sg.derive(f, params)
    assert d.program.count_ops() <= 3 * d.forward_program.count_ops()


def test_fan_out_sums_over_paths():
    # x feeds three uses; its adjoint is the sum of the three contributions
    f = sp.sin(x) * sp.exp(x) + x ** 3
    g = sg.grad(f, x)
    assert sp.simplify(g - (sp.cos(x) * sp.exp(x) + sp.sin(x) * sp.exp(x) + 3 * x ** 2)) == 0


def test_unused_wrt_gets_zero():
    A = sp.MatrixSymbol("A", 2, 2)
    g = sg.grad(x ** 2, [x, y, A])
    assert g[1] == 0 and g[2] == sp.ZeroMatrix(2, 2)


# ---- the subgradient policy ---------------------------------------------------------------------


def _at(f, wrt, point, **kw):
    """The gradient at the point twice: the symbolic result substituted, and the IR evaluated."""
    d = sg.derive(f, wrt, **kw)
    symbolic = [float(g.subs(point)) for g in d.gradients]
    return symbolic, [float(v) for v in d.values(point)["gradients"]]


def test_relu_at_zero_default_is_one():
    assert _at(sg.relu(x), [x], {x: 0}) == ([1.0], [1.0])


def test_relu_at_zero_policy_zero():
    assert _at(sg.relu(x), [x], {x: 0}, policy=sg.Subgradients(relu_at_zero=0)) == ([0.0], [0.0])


def test_relu_matrix_at_zero():
    z = sp.MatrixSymbol("z", 3, 1)
    at = {z: np.array([[0.0], [2.0], [-1.0]])}
    d1 = sg.derive(sg.sum(sg.relu(z)), z)
    d0 = sg.derive(sg.sum(sg.relu(z)), z, policy=sg.Subgradients(relu_at_zero=0))
    np.testing.assert_array_equal(d1.values(at)["gradients"][0], [[1], [1], [0]])
    np.testing.assert_array_equal(d0.values(at)["gradients"][0], [[0], [1], [0]])


def test_leaky_relu_at_zero_follows_relu():
    f = sg.leaky_relu(x, sp.Rational(1, 10))
    assert _at(f, [x], {x: 0}) == ([1.0], [1.0])
    assert _at(f, [x], {x: 0}, policy=sg.Subgradients(relu_at_zero=0)) == ([0.1], [0.1])


def test_max_routes_a_tie_to_the_first_argument():
    for f in (sp.Max(x, y), sp.Max(y, x)):
        first = f.args[0]                       # in SymPy's canonical order
        sym, num = _at(f, [x, y], {x: 1, y: 1})
        expected = [1.0 if s == first else 0.0 for s in (x, y)]
        assert sym == expected and num == expected
    sym, num = _at(sp.Max(x, y, w), [x, y, w], {x: 2, y: 2, w: 2})
    assert sum(sym) == 1 and sym == num
    assert _at(sp.Max(x, y), [x, y], {x: 3, y: 1})[0] == [1.0, 0.0]


def test_abs_at_zero_is_zero():
    assert _at(sp.Abs(x), [x], {x: 0}) == ([0.0], [0.0])
    assert _at(sp.Abs(x), [x], {x: -2}) == ([-1.0], [-1.0])


def test_min_inside_a_product_stays_min_in_the_gradient():
    # The policy swaps Max/Min for routed stand-ins while differentiating; a Min that survives into
    # the derivative must come back as Min, not as Max.
    a, b, c = sp.symbols("a b c", real=True)
    assert sg.grad(sp.Min(a, b) * c, c) == sp.Min(a, b)
    assert sg.grad(sp.Max(a, b) * c, c) == sp.Max(a, b)
