"""The worked examples of the lecture notes (shared/seeds), computed by symgrad and compared with the
numbers the slides print, typed in by hand."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from oracle import substitute


def test_sum_times_product():
    # (x + y)·z at (−2, 5, −4): ∇ = (z, z, x + y) = (−4, −4, 3)
    x, y, z = sp.symbols("x y z")
    f = (x + y) * z
    g = sg.grad(f, [x, y, z])
    at = {x: -2, y: 5, z: -4}
    assert [gi.subs(at) for gi in g] == [-4, -4, 3]
    assert sg.numeric(f, at) == -12


def test_sigmoid_neuron():
    # f = 1 / (1 + e^−(w0·x0 + w1·x1 + w2)) at w = (2, −3, −3), x = (−1, −2): the slide prints
    # f = 0.73, ∂f/∂w = (−0.20, −0.39, 0.20), ∂f/∂x = (0.39, −0.59).
    w0, w1, w2, x0, x1 = sp.symbols("w0 w1 w2 x0 x1")
    f = 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))
    at = {w0: 2, w1: -3, w2: -3, x0: -1, x1: -2}
    gw = sg.grad(f, [w0, w1, w2])
    gx = sg.grad(f, [x0, x1])
    assert round(float(f.subs(at)), 2) == 0.73
    assert [round(float(g.subs(at)), 2) for g in gw] == [-0.20, -0.39, 0.20]
    assert [round(float(g.subs(at)), 2) for g in gx] == [0.39, -0.59]
    # the same neuron written with sg.sigmoid
    fs = sg.sigmoid(w0 * x0 + w1 * x1 + w2)
    assert [round(float(g.subs(at)), 2) for g in sg.grad(fs, [w0, w1, w2, x0, x1])] == \
        [-0.20, -0.39, 0.20, 0.39, -0.59]


W = sp.MatrixSymbol("W", 2, 2)
X = sp.MatrixSymbol("x", 2, 1)
NORM_WAYS = {
    "sum-HadamardPower": sg.sum(sp.HadamardPower(W * X, 2)),
    "element-of-qTq": ((W * X).T * (W * X))[0, 0],
    "Trace-qTq": sp.Trace((W * X).T * (W * X)),
    "1x1-matrix-qTq": (W * X).T * (W * X),
}


@pytest.mark.parametrize("way", list(NORM_WAYS), ids=list(NORM_WAYS))
def test_norm_of_Wx(way):
    # f = ‖Wx‖² at W = [[0.1, 0.5], [−0.3, 0.8]], x = (0.2, 0.4): q = Wx = (0.22, 0.26), f = 0.116,
    # ∇_W f = 2 q xᵀ = [[0.088, 0.176], [0.104, 0.208]], ∇_x f = 2 Wᵀq = (−0.112, 0.636).
    # The slide prints −0.104 for ∂f/∂W₂₁; that entry is 2·q₂·x₁ = 2·0.26·0.2 = +0.104: the slide is wrong.
    f = NORM_WAYS[way]
    at = {W: np.array([[0.1, 0.5], [-0.3, 0.8]]), X: np.array([[0.2], [0.4]])}
    gW, gx = sg.grad(f, [W, X])
    assert gW.shape == (2, 2) and gx.shape == (2, 1)
    np.testing.assert_allclose(np.asarray(sg.numeric(f, at)).reshape(()), 0.116, atol=1e-12)
    np.testing.assert_allclose(sg.numeric(gW, at), [[0.088, 0.176], [0.104, 0.208]], atol=1e-12)
    np.testing.assert_allclose(sg.numeric(gx, at), [[-0.112], [0.636]], atol=1e-12)
    # and by SymPy's own algebra, after substituting the explicit matrices
    np.testing.assert_allclose(substitute(gW, at), [[0.088, 0.176], [0.104, 0.208]], atol=1e-12)
    np.testing.assert_allclose(substitute(gx, at), [[-0.112], [0.636]], atol=1e-12)


def test_chain_rule_sin_of_square():
    # h(x) = sin(x²): h'(x) = cos(x²)·2x
    x = sp.Symbol("x")
    assert sp.simplify(sg.grad(sp.sin(x ** 2), x) - 2 * x * sp.cos(x ** 2)) == 0


def test_partials_cos_cube_product():
    # f = cos(x) + z³ − x²y: ∂x = −sin(x) − 2xy, ∂y = −x², ∂z = 3z²
    x, y, z = sp.symbols("x y z")
    g = sg.grad(sp.cos(x) + z ** 3 - x ** 2 * y, [x, y, z])
    expected = [-sp.sin(x) - 2 * x * y, -x ** 2, 3 * z ** 2]
    assert all(sp.simplify(a - b) == 0 for a, b in zip(g, expected))


def test_partials_z4_minus_sin():
    # ∂/∂y (z⁴ − sin(y² + x)) = −cos(y² + x)·2y;  ∂/∂x = −cos(y² + x);  ∂/∂z = 4z³
    x, y, z = sp.symbols("x y z")
    g = sg.grad(z ** 4 - sp.sin(y ** 2 + x), [x, y, z])
    expected = [-sp.cos(y ** 2 + x), -2 * y * sp.cos(y ** 2 + x), 4 * z ** 3]
    assert all(sp.simplify(a - b) == 0 for a, b in zip(g, expected))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian(mode):
    # f(t, s) = (sin t + s, cos t, 6t/π); the slide's Jacobian w.r.t. (t, s) is
    # [[cos t, 1], [−sin t, 0], [6/π, 0]]
    t, s = sp.symbols("t s")
    J = sg.jacobian([sp.sin(t) + s, sp.cos(t), 6 * t / sp.pi], [t, s], mode=mode)
    expected = sp.Matrix([[sp.cos(t), 1], [-sp.sin(t), 0], [6 / sp.pi, 0]])
    assert J.shape == (3, 2)
    assert sp.simplify(J - expected) == sp.zeros(3, 2)


def test_three_paths_influence_diagram():
    # d = f + 3, e = f·g, b = d + e, c = e + 2, a = b·c. Three paths from f to a; summed:
    # ∂a/∂f = c + gc + gb = 2 + 5g + 2fg + 2fg², so a = 150 and ∂a/∂f = 60 at f = 4, g = 2.
    f, g = sp.symbols("f g")
    d = f + 3
    e = f * g
    b = d + e
    c = e + 2
    a = b * c
    da = sg.grad(a, f)
    assert sp.expand(da - (2 + 5 * g + 2 * f * g + 2 * f * g ** 2)) == 0
    assert a.subs({f: 4, g: 2}) == 150
    assert da.subs({f: 4, g: 2}) == 60
    # e = f·g fans out to b and c: one equation in the graph, and its adjoint sums both paths
    prog = sg.derive(a, [f, g]).ir
    muls = [q for q in prog.eqns if q.prim.name == "ewise" and q.params[0] == sp.Symbol("a0", real=True)
            * sp.Symbol("a1", real=True) and len(q.inputs) == 2
            and {prog.producer[v.id].prim.name for v in q.inputs} == {"param"}]
    assert len(muls) == 1


def test_softmax_cross_entropy():
    # ∂/∂z of −Σ t log softmax(z) = softmax(z) − t for one-hot t (the general form is sum(t)·softmax(z) − t)
    z = sp.MatrixSymbol("z", 4, 1)
    t = sp.MatrixSymbol("t", 4, 1)
    g = sg.grad(sg.cross_entropy(z, t), z)
    assert g.shape == (4, 1)
    zv = np.array([[0.5], [-1.2], [2.0], [0.1]])
    tv = np.array([[0.0], [0.0], [1.0], [0.0]])
    soft = np.exp(zv) / np.exp(zv).sum()
    np.testing.assert_allclose(sg.numeric(g, {z: zv, t: tv}), soft - tv, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(substitute(g, {z: zv, t: tv}), soft - tv, rtol=1e-12, atol=1e-14)
    # symbolically, with the entries written out: equals softmax(z) − t for every one-hot t
    zs = sp.Matrix(sp.symbols("z0:4"))
    for k in range(4):
        ts = sp.Matrix([1 if i == k else 0 for i in range(4)])
        gk = g.subs({z: zs, t: ts}).doit()
        gk = gk.as_explicit() if isinstance(gk, sp.MatrixExpr) else gk
        expected = zs.applyfunc(sp.exp) / sum(sp.exp(v) for v in zs) - ts
        assert sp.simplify(gk - expected) == sp.zeros(4, 1)


def test_squared_error_of_linear_unit():
    # ½(y − wx)² → ∂/∂w = −(y − wx)·x
    w, x, y = sp.symbols("w x y")
    diff = sg.grad((y - w * x) ** 2 / 2, w) - (-(y - w * x) * x)
    assert sp.simplify(diff) == 0
    assert sp.simplify(sg.grad(sg.mse(w * x, y), w) + (y - w * x) * x) == 0


def test_mlp_3_4_2_has_26_parameters():
    # 3·4 + 4 + 4·2 + 2 = 26
    net = sg.mlp([3, 4, 2])
    assert sum(int(p.shape[0]) * int(p.shape[1]) for p in net.params) == 26
    assert len(sg.mlp([3, 4, 2], scalar=True).params) == 26
    grads = sg.grad(sg.mse(net.output, sp.MatrixSymbol("y", 2, 1)), net.params)
    assert [g.shape for g in grads] == [p.shape for p in net.params]


def test_hessian_newton_step():
    # Newton's method: w ← w − H⁻¹∇J. On J(w) = ½wᵀAw − bᵀw (A symmetric positive definite), by hand
    # H = A and one step from any point lands on the minimum w* = A⁻¹b.
    w1, w2 = sp.symbols("w1 w2")
    Amat = sp.Matrix([[3, 1], [1, 2]])
    bvec = sp.Matrix([1, -1])
    w = sp.Matrix([w1, w2])
    J = (w.T * Amat * w)[0, 0] / 2 - (bvec.T * w)[0, 0]
    H = sg.hessian(J, [w1, w2])
    assert H == Amat
    g = sp.Matrix(sg.grad(J, [w1, w2]))
    w0 = {w1: 5, w2: -7}
    step = sp.Matrix([5, -7]) - H.inv() * g.subs(w0)
    assert step == Amat.inv() * bvec            # = (3/5, -4/5)
    # a non-quadratic one, against the hand-written Hessian of x²y + y³ + sin(xy)
    x, y = sp.symbols("x y")
    Hn = sg.hessian(x ** 2 * y + y ** 3 + sp.sin(x * y), [x, y])
    Hh = sp.Matrix([[2 * y - y ** 2 * sp.sin(x * y), 2 * x + sp.cos(x * y) - x * y * sp.sin(x * y)],
                    [2 * x + sp.cos(x * y) - x * y * sp.sin(x * y), 6 * y - x ** 2 * sp.sin(x * y)]])
    assert sp.simplify(Hn - Hh) == sp.zeros(2, 2)
