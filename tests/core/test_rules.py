"""One table of rows, one per function and primitive; each row's gradient by `sg.grad` is compared with
(a) `sympy.diff` (scalar rows: simplify of the difference, else 30-digit evaluation), (b) central
finite differences in float64 of f alone, (c) torch.autograd in float64 of the same function written
in torch; matrix rows also check that the returned SymPy matrix expression has the symbol's shape and
evaluates, by SymPy's own algebra (explicit matrices substituted, `.doit()`), to the torch gradient.

Points are chosen by hand away from kinks (relu/abs at 0, max ties, hinge margin 1) and inside domains.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from oracle import (as_array, central_differences, elementary, is_matrix, substitute,
                    symbolically_equal, torch_grads)

x, y, z = sp.symbols("x y z", real=True)
A = sp.MatrixSymbol("A", 2, 3)
B = sp.MatrixSymbol("B", 3, 2)
C2 = sp.MatrixSymbol("C", 2, 2)
D = sp.MatrixSymbol("D", 2, 3)          # a weighting of a (2, 3) result, so f is a scalar
M = sp.MatrixSymbol("M", 2, 2)
u = sp.MatrixSymbol("u", 3, 1)
v = sp.MatrixSymbol("v", 3, 1)
c = sp.MatrixSymbol("c", 3, 1)          # a weighting of a (3, 1) result
W = sp.MatrixSymbol("W", 2, 3)
b = sp.MatrixSymbol("b", 2, 1)
w2 = sp.MatrixSymbol("w", 2, 1)

rng = np.random.default_rng(20261121)
VAL = {
    x: 0.7, y: -1.3, z: 0.4,
    A: rng.normal(size=(2, 3)), B: rng.normal(size=(3, 2)), C2: rng.normal(size=(2, 2)),
    D: rng.normal(size=(2, 3)), M: rng.normal(size=(2, 2)) + 3 * np.eye(2),
    u: np.array([[0.3], [-1.1], [0.8]]), v: np.array([[0.5], [0.2], [-0.7]]),
    c: rng.normal(size=(3, 1)), W: rng.normal(size=(2, 3)), b: rng.normal(size=(2, 1)),
    w2: rng.normal(size=(2, 1)),
}
PROB_P = np.array([[0.2], [0.5], [0.3]])       # probabilities (bce, kl_div)
PROB_Q = np.array([[0.4], [0.35], [0.25]])
LABELS = np.array([[1.0], [-1.0], [1.0]])       # hinge labels
ONEHOT = np.array([[0.0], [1.0], [0.0]])


@dataclass
class Row:
    name: str
    f: sp.Basic                      # the scalar SymPy function
    torch_f: Callable                # the same function in torch (tensors in the order of syms)
    syms: list                       # what we differentiate with respect to (all its free symbols)
    point: dict | None = None        # overrides of VAL

    def at(self):
        p = {s: VAL[s] for s in self.syms}
        p.update(self.point or {})
        return p


def wsum(Wt, X):                       # Σ Wt ∘ X, to make a matrix result a scalar
    return sg.sum(sp.HadamardProduct(Wt, X))


T = torch
ROWS = [
    # ---- elementwise functions, scalar arguments (composed with an inner expression: chain rule)
    Row("sigmoid", sg.sigmoid(x * y + z), lambda x, y, z: T.sigmoid(x * y + z), [x, y, z]),
    Row("relu", sg.relu(x * y + z), lambda x, y, z: T.relu(x * y + z), [x, y, z]),       # arg -0.51
    Row("relu-positive", sg.relu(x + z), lambda x, z: T.relu(x + z), [x, z]),
    Row("leaky_relu", sg.leaky_relu(x * y + z, sp.Rational(1, 10)),
        lambda x, y, z: F.leaky_relu(x * y + z, 0.1), [x, y, z]),
    Row("leaky_relu-positive", sg.leaky_relu(x - z, sp.Rational(1, 10)),
        lambda x, z: F.leaky_relu(x - z, 0.1), [x, z]),
    Row("softplus", sg.softplus(x * y + z), lambda x, y, z: F.softplus(x * y + z), [x, y, z]),
    Row("tanh", sp.tanh(x * y + z), lambda x, y, z: T.tanh(x * y + z), [x, y, z]),
    Row("exp", sp.exp(x * y + z), lambda x, y, z: T.exp(x * y + z), [x, y, z]),
    Row("log", sp.log(x ** 2 + z), lambda x, z: T.log(x ** 2 + z), [x, z]),
    Row("sin", sp.sin(x * y + z), lambda x, y, z: T.sin(x * y + z), [x, y, z]),
    Row("cos", sp.cos(x * y + z), lambda x, y, z: T.cos(x * y + z), [x, y, z]),
    Row("Abs", sp.Abs(x * y + z), lambda x, y, z: T.abs(x * y + z), [x, y, z]),
    Row("Max", sp.Max(x, y, z), lambda x, y, z: T.maximum(T.maximum(x, y), z), [x, y, z]),
    Row("Max-of-expressions", sp.Max(x * y, z - x),
        lambda x, y, z: T.maximum(x * y, z - x), [x, y, z]),
    Row("Min", sp.Min(x * z, y + 1), lambda x, y, z: T.minimum(x * z, y + 1), [x, y, z]),   # 0.28 vs -0.3
    Row("sign", sp.sign(x * y + z) * x, lambda x, y, z: T.sign(x * y + z) * x, [x, y, z]),
    Row("sqrt", sp.sqrt(x ** 2 + z), lambda x, z: T.sqrt(x ** 2 + z), [x, z]),
    Row("Pow-integer", (x * y + z) ** 3, lambda x, y, z: (x * y + z) ** 3, [x, y, z]),
    Row("Pow-fractional", (x ** 2 + z) ** sp.Rational(3, 2), lambda x, z: (x ** 2 + z) ** 1.5, [x, z]),
    Row("Pow-negative", (x ** 2 + z) ** -2, lambda x, z: (x ** 2 + z) ** -2, [x, z]),
    Row("Pow-variable-exponent", x ** y, lambda x, y: x ** y, [x, y]),
    Row("Add", x + 2 * y - z + 3, lambda x, y, z: x + 2 * y - z + 3, [x, y, z]),
    Row("Mul", 3 * x * y * z, lambda x, y, z: 3 * x * y * z, [x, y, z]),
    Row("division", (x + y) / (z - y), lambda x, y, z: (x + y) / (z - y), [x, y, z]),
    Row("mse", sg.mse(x * y, z), lambda x, y, z: (x * y - z) ** 2 / 2, [x, y, z]),
    Row("l1", sg.l1(x * y, z), lambda x, y, z: T.abs(x * y - z), [x, y, z]),
    Row("hinge", sg.hinge(x * z, y), lambda x, z, y: T.clamp(1 - y * x * z, min=0), [x, z, y]),
    Row("bce", sg.bce(sg.sigmoid(x), z), lambda x, z: F.binary_cross_entropy(T.sigmoid(x), z), [x, z]),
    Row("kl_div", sg.kl_div(sg.sigmoid(x), z), lambda x, z: T.sigmoid(x) * (T.log(T.sigmoid(x)) - T.log(z)),
        [x, z]),
    # ---- elementwise functions on matrices (each a Map over the entries)
    Row("sigmoid-matrix", wsum(D, sg.sigmoid(A)), lambda D, A: (D * T.sigmoid(A)).sum(), [D, A]),
    Row("relu-matrix", wsum(D, sg.relu(A)), lambda D, A: (D * T.relu(A)).sum(), [D, A]),
    Row("leaky_relu-matrix", wsum(D, sg.leaky_relu(A, sp.Rational(1, 5))),
        lambda D, A: (D * F.leaky_relu(A, 0.2)).sum(), [D, A]),
    Row("softplus-matrix", wsum(D, sg.softplus(A)), lambda D, A: (D * F.softplus(A)).sum(), [D, A]),
    # ---- vector functions, losses and layers
    Row("softmax", wsum(c, sg.softmax(u)), lambda c, u: (c * T.softmax(u, 0)).sum(), [c, u]),
    Row("log_softmax", wsum(c, sg.log_softmax(u)), lambda c, u: (c * T.log_softmax(u, 0)).sum(), [c, u]),
    Row("logsumexp", sg.logsumexp(u), lambda u: T.logsumexp(u, (0, 1)), [u]),
    Row("sum", sg.sum(sp.HadamardProduct(u, v)), lambda u, v: (u * v).sum(), [u, v]),
    Row("mse-matrix", sg.mse(u, v), lambda u, v: ((u - v) ** 2).sum() / 2, [u, v]),
    Row("l1-matrix", sg.l1(u, v), lambda u, v: (u - v).abs().sum(), [u, v]),
    Row("hinge-matrix", sg.hinge(u, v), lambda u, v: T.clamp(1 - v * u, min=0).sum(), [u, v],
        {v: LABELS}),
    Row("bce-matrix", sg.bce(u, v), lambda u, v: F.binary_cross_entropy(u, v, reduction="sum"), [u, v],
        {u: PROB_P, v: PROB_Q}),
    Row("cross_entropy", sg.cross_entropy(u, v), lambda u, v: -(v * T.log_softmax(u, 0)).sum(), [u, v],
        {v: ONEHOT}),
    Row("cross_entropy-probabilities", sg.cross_entropy(u, v),
        lambda u, v: -(v * T.log_softmax(u, 0)).sum(), [u, v], {v: PROB_Q}),
    Row("kl_div-matrix", sg.kl_div(u, v), lambda u, v: (u * (T.log(u) - T.log(v))).sum(), [u, v],
        {u: PROB_P, v: PROB_Q}),
    Row("dense", sg.sum(sg.dense(W, u, b, act=sg.sigmoid)),
        lambda W, u, b: T.sigmoid(W @ u + b).sum(), [W, u, b]),
    Row("dense-no-bias", wsum(b, sg.dense(W, u, act=sp.tanh)), lambda W, u, b: (b * T.tanh(W @ u)).sum(),
        [W, u, b]),
    # ---- matrix primitives
    Row("MatMul", wsum(C2, A * B), lambda C, A, B: (C * (A @ B)).sum(), [C2, A, B]),
    Row("MatMul-chain", sg.sum(A * B * w2), lambda A, B, w: (A @ B @ w).sum(), [A, B, w2]),
    Row("MatAdd", wsum(C2, A * B + M - C2.T), lambda C, A, B, M: (C * (A @ B + M - C.T)).sum(),
        [C2, A, B, M]),
    Row("Transpose", wsum(D, B.T), lambda D, B: (D * B.T).sum(), [D, B]),
    Row("HadamardProduct", sg.sum(sp.HadamardProduct(A, D, A)), lambda A, D: (A * D * A).sum(), [A, D]),
    Row("HadamardPower", wsum(D, sp.HadamardPower(A, 3)), lambda D, A: (D * A ** 3).sum(), [D, A]),
    Row("scalar-times-matrix", wsum(D, x * A), lambda D, x, A: (D * x * A).sum(), [D, x, A]),
    Row("applyfunc", wsum(D, A.applyfunc(lambda t: t ** 2 + sp.sin(t))),
        lambda D, A: (D * (A ** 2 + T.sin(A))).sum(), [D, A]),
    Row("Trace", sp.Trace(A * B) + sp.Trace(M), lambda A, B, M: T.trace(A @ B) + T.trace(M), [A, B, M]),
    Row("MatrixElement", A[0, 1] * A[1, 2] + sp.sin(A[1, 0]),
        lambda A: A[0, 1] * A[1, 2] + T.sin(A[1, 0]), [A]),
    Row("MatrixElement-of-product", (u.T * v)[0, 0] + sg.sum(v), lambda u, v: (u * v).sum() + v.sum(),
        [u, v]),
]

# Kinks and domains, checked for the scalar point: relu's argument x*y + z = -0.51, leaky's x - z = 0.3,
# |x*y + z| at -0.51, Max(0.7, -1.3, 0.4) has no tie, hinge's margin 1 - y*x*z = 1.364.


def _points(row, n=3):
    """The row's point and small perturbations of it (staying clear of kinks), as 30-digit numbers."""
    p0 = row.at()
    out = [{s: sp.Float(float(p0[s]), 30) for s in row.syms}]
    r = np.random.default_rng(7)
    for _ in range(n - 1):
        out.append({s: sp.Float(float(p0[s]) + r.uniform(-0.03, 0.03), 30) for s in row.syms})
    return out


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_gradient(row):
    point = row.at()
    grads = sg.grad(row.f, row.syms)
    assert len(grads) == len(row.syms)

    # (a) sympy.diff, for scalar rows
    if not any(is_matrix(s) for s in row.syms):
        pts = _points(row)
        fe = elementary(row.f)
        for s, g in zip(row.syms, grads):
            assert symbolically_equal(elementary(g), sp.diff(fe, s), pts), \
                f"d/d{s}: symgrad {g} != sympy {sp.diff(fe, s)}"

    # (b) central finite differences of f, (c) torch.autograd
    fd = central_differences(row.f, row.syms, point)
    th = torch_grads(row.torch_f, row.syms, point)
    for s, g, g_fd, g_th in zip(row.syms, grads, fd, th):
        got = as_array(sg.numeric(g, point))
        if is_matrix(s):
            assert tuple(g.shape) == tuple(s.shape), f"gradient of {s} has shape {g.shape}"
            got = got.reshape(g_th.shape)
        np.testing.assert_allclose(got, g_th, rtol=1e-10, atol=1e-12, err_msg=f"torch, d/d{s}")
        np.testing.assert_allclose(got, g_fd, rtol=1e-6, atol=1e-7, err_msg=f"finite differences, d/d{s}")
        # the returned expression evaluates by SymPy's own algebra to the same numbers
        np.testing.assert_allclose(as_array(substitute(g, point)).reshape(g_th.shape), g_th,
                                   rtol=1e-9, atol=1e-12, err_msg=f"substituted and .doit(), d/d{s}")
