"""The batched schedule against the per-example reference interpreter, over the layouts: columns,
rows, general matrices and scalars as inputs; transposes, sums over rows and columns, broadcasts,
traces, entries, log-sum-exp and softmax. Reference: symgrad.core.evaluate run example by example on the
IR of the loss and of its reverse-mode gradient, then averaged."""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.core.evaluate import evaluate
from symgrad.core.ir import Graph
from symgrad.core.lower import Lowering
from symgrad.core.reverse import backward
from symgrad.core import rules as R

W = sp.MatrixSymbol("W", 3, 4)
V = sp.MatrixSymbol("V", 4, 4)
b = sp.MatrixSymbol("b", 3, 1)
r = sp.MatrixSymbol("r", 1, 4)
w = sp.Symbol("w")
x = sp.MatrixSymbol("x", 4, 1)       # a column input
u = sp.MatrixSymbol("u", 1, 3)       # a row input
M = sp.MatrixSymbol("M", 4, 4)       # a matrix input
s = sp.Symbol("s")                   # a scalar input
PARAMS = [W, V, b, r, w]


def _softmax_all(Z):
    """softmax over every entry of the matrix Z: exp(Z − logsumexp(Z))."""
    return sg.elementwise(sp.exp, Z - sg.logsumexp(Z) * sp.OneMatrix(*Z.shape))

INPUTS = [x, u, M, s]

CASES = {
    "column chain": sg.sum(sp.HadamardPower(sg.elementwise(sp.tanh, W * x + b), 2)) * w,
    "row times matrix": sg.sum(sp.HadamardPower(u * W - r, 2)),
    "matrix input": sg.sum(sp.HadamardProduct(V * M, V)) + sp.Trace(M * V) * s,
    "xᵀVx": (x.T * V * x)[0, 0] * s + sg.sum(x.T * V * r.T),
    "outer product": sg.sum(sp.HadamardPower(x * u * W - V, 2)),
    "logsumexp and softmax": sg.logsumexp(W * x) * s + sg.sum(sp.HadamardProduct(sg.softmax(W * x), b)),
    "scalar broadcast": sg.sum(sg.sigmoid(W * x * s + b)) * w + sg.sum(sp.HadamardPower(b * w - W * x, 2)),
    "sums over axes": sg.sum(sp.HadamardPower(sp.OneMatrix(1, 3) * W * M, 2)) + sg.sum(W * sp.OneMatrix(4, 1) * u),
    "entries": W[1, 2] * x[3, 0] * s + (u * W * x)[0, 0] ** 2,
    "softplus and relu": sg.sum(sg.softplus(W * x)) + sg.sum(r * sg.relu(V * x)) * w,
    # the softmax kept from log-sum-exp's exponentials, in each layout (over every entry of a
    # matrix it is written out: sg.softmax of a non-vector matrix is an error)
    "softmax of a matrix": sg.logsumexp(V * M) * s + sg.sum(sp.HadamardProduct(_softmax_all(V * M), V)),
    "softmax of a row": sg.logsumexp(u * W) + sg.sum(sp.HadamardProduct(sg.softmax(u * W), r)),
    "softmax of parameters": sg.logsumexp(W) * s + sg.sum(sp.HadamardProduct(_softmax_all(W), W)) * s,
    "uniform matrices": (u * (w * sp.OneMatrix(3, 4)) * x)[0, 0] + sg.sum(w * sp.OneMatrix(3, 4)) * s,
    # a one-entry sum is a view of its operand: scaling it in place must not change the operand
    "one-entry sums": sg.sum(u * W * x) * s * w + sg.sum(sp.HadamardPower(u * W * x, 2)),
    "constant factors of sums": -3 * sg.sum(sp.HadamardPower(W * x - b, 2)) + sg.sum(-2 * u * W) * w,
}


def _reference(loss, values, batch, n):
    graph = Graph()
    low = Lowering(graph, PARAMS)
    out = low(loss)
    if out.shape == (1, 1):
        out = R.reduce_sum(graph, out, None)
    wrt = [low.leaf(p) for p in PARAMS]
    grads = backward(graph, out, wrt)
    total = [0.0] + [np.zeros(p.shape) if isinstance(p, sp.MatrixSymbol) else 0.0 for p in PARAMS]
    for i in range(n):
        ex = dict(values)
        ex.update({"x": batch["x"][i][:, None], "u": batch["u"][i][None, :], "M": batch["M"][i], "s": batch["s"][i]})
        outs = [out] + [g for g in grads if g is not None]
        vals = iter(evaluate(graph, outs, ex))
        total[0] += next(vals)
        for k, g in enumerate(grads):
            if g is not None:
                total[k + 1] = total[k + 1] + next(vals)
    return total[0] / n, [t / n for t in total[1:]]


@pytest.mark.parametrize("name", sorted(CASES))
def test_batched_equals_per_example(name):
    rng = np.random.default_rng(hash(name) % 2**32)
    loss = CASES[name]
    free = loss.free_symbols
    params = [p for p in PARAMS if p in free]
    prog = sg.compile(loss, params, [i for i in INPUTS if i in free], dtype="float64")
    values = {"W": rng.normal(size=(3, 4)), "V": rng.normal(size=(4, 4)), "b": rng.normal(size=(3, 1)),
              "r": rng.normal(size=(1, 4)), "w": 0.7}
    n = 5
    batch = {"x": rng.normal(size=(n, 4)), "u": rng.normal(size=(n, 3)), "M": rng.normal(size=(n, 4, 4)),
             "s": rng.normal(size=n)}
    ref_loss, ref_grads = _reference(loss, values, batch, n)
    assert prog.loss(values, batch) == pytest.approx(ref_loss, rel=1e-10)
    g = prog.grad(values, batch)
    for p, rg in zip(PARAMS, ref_grads):
        if p in params:
            np.testing.assert_allclose(g[p.name], rg, rtol=1e-10, atol=1e-12, err_msg=p.name)


def test_softmax_reuses_the_forward_exponentials():
    """Softmax cross-entropy: the step computes exp over the logits once (the forward pass's
    exp(z − max z)) and divides it into the softmax the backward pass needs."""
    net = sg.mlp([4, 5, 3], act=sg.relu)
    t = sp.MatrixSymbol("t", 3, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], dtype="float64")
    step = prog.source.split("def step(")[1]
    code = [ln for ln in step.splitlines() if not ln.strip().startswith("#")]
    assert sum(ln.count("numpy.exp(") for ln in code) == 1, step
    loss_only = prog.source.split("def loss(")[1].split("\ndef ")[0]
    assert "/=" not in loss_only           # the loss alone needs no softmax


def test_constant_factor_multiplies_the_sum():
    prog = sg.compile(sg.sum(-2 * u * W) * w, [W, w], [u], dtype="float64")
    code = [ln.replace(" ", "") for ln in prog.source.splitlines() if not ln.strip().startswith("#")]
    assert any(re.search(r"=-2\*numpy\.einsum\('bi->b',v\d+\)$", ln) for ln in code), prog.source
