"""The picture of a batch norm (and a layer norm): the batch's statistics are drawn as the slide
draws them, one operation each — "mean (axis 0)" and "variance (axis 0)" — not their lowering
(Σ over the axis, then ÷N; a square, Σ, ÷N), and x − μ as one subtraction ① − ②, not ×(−1) then +.
The values on their edges are cs231n's staged batchnorm_backward in NumPy (μ, σ², ∂L/∂μ, ∂L/∂σ²)."""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from picture_parse import edges, node_names

pytest.importorskip("graphviz")
N = sp.Symbol("N", integer=True, positive=True)
D = 3


def _bn(axis=0):
    x, gamma, beta, dout = sg.tensor("x", (N, D)), sg.tensor("gamma", (D,)), sg.tensor("beta", (D,)), sg.tensor("dout", (N, D))
    xhat = (x - x.mean(axis=axis)) / sp.sqrt(x.var(axis=axis) + sp.Rational(1, 100000)) if axis == 0 else \
        (x - x.mean(axis=axis, keepdims=True)) / sp.sqrt(x.var(axis=axis, keepdims=True) + sp.Rational(1, 100000))
    d = sg.derive(sg.sum((gamma * xhat + beta) * dout), [x, gamma, beta], output_name="L")
    return d, (x, gamma, beta, dout)


def _grid(s):
    return np.array([[float(c.replace("−", "-")) for c in row.split(", ")]
                     for row in re.findall(r"\[([^\[\]]+)\]", s)])


def test_mean_and_variance_are_one_node_each():
    d, _ = _bn()
    ops = sorted(node_names(d.graph().source).values())
    assert ops.count("mean (axis 0)") == 1 and ops.count("variance (axis 0)") == 1, ops
    assert not any(o.startswith("Σ (axis") or o in ("□/N", "×(−1)", "□²") for o in ops), ops
    assert "① − ②" in ops, ops


def test_layer_norm_statistics_too():
    # D = 3 is a number: the lowering fuses var/3 + ε into one equation, drawn as one node
    d, _ = _bn(axis=1)
    ops = sorted(node_names(d.graph().source).values())
    assert "mean (axis 1)" in ops and "variance (axis 1) + 1e−5" in ops, ops
    assert not any(o.startswith("Σ (axis") or "□/3" in o for o in ops), ops


def test_statistics_edges_carry_cs231n_numbers():
    d, (x, gamma, beta, dout) = _bn()
    rng = np.random.default_rng(2)
    xv, gv, bv, dv = rng.normal(size=(4, D)) * 2 + 1, rng.normal(size=D), rng.normal(size=D), rng.normal(size=(4, D))
    src = d.graph(at={x: xv, gamma: gv, beta: bv, dout: dv}, number_format=".6g").source
    names = node_names(src)
    # cs231n's staged backward
    n, eps = xv.shape[0], 1e-5
    mu = xv.mean(axis=0)
    xmu = xv - mu
    var = (xmu ** 2).mean(axis=0)
    istd = 1 / np.sqrt(var + eps)
    dxhat = dv * gv
    dvar = (dxhat * xmu).sum(axis=0) * -0.5 * (var + eps) ** -1.5
    dmu = -(dxhat * istd).sum(axis=0) + dvar * (-2.0 / n) * xmu.sum(axis=0)
    out_of = {}
    for name, fv, gv_, dst in edges(src):
        out_of.setdefault(name, []).append((fv, gv_, names.get(dst)))
    (mu_f, mu_g, _), = out_of["μ"]
    np.testing.assert_allclose(_grid(mu_f).ravel(), mu, rtol=1e-5)
    np.testing.assert_allclose(_grid(mu_g).ravel(), dmu, rtol=1e-4, atol=1e-6)
    (var_f, var_g, into), = out_of["σ²"]
    np.testing.assert_allclose(_grid(var_f).ravel(), var, rtol=1e-5)
    np.testing.assert_allclose(_grid(var_g).ravel(), dvar, rtol=1e-4, atol=1e-6)
    # x feeds the mean and the subtraction; the variance is fed by x − μ (its own node)
    into_mean = [dst for name, _, _, dst in edges(src) if names.get(dst) == "mean (axis 0)"]
    assert len(into_mean) == 1


def test_the_mean_over_the_batch_of_a_loss_is_one_node():
    # the mean of per-example losses (logsumexp of each row, a loss that is no cross-entropy: a
    # cross-entropy is one node, mean included) is Σ then ÷N, drawn as one "mean" node
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 4))
    d = sg.derive(sg.logsumexp(x @ w, axis=1).mean(), [w], output_name="L")
    rng = np.random.default_rng(4)
    xv, wv = rng.normal(size=(5, 3)), rng.normal(size=(3, 4))
    src = d.graph(at={x: xv, w: wv}, number_format=".6g").source
    names = node_names(src)
    assert "mean" in names.values() and "□/N" not in names.values(), names
    # the edge into the mean carries the per-example losses, each with gradient 1/N
    z = xv @ wv
    per = np.log(np.exp(z).sum(axis=1))
    (fv, gv), = [(fv, gv) for _, fv, gv, dst in edges(src) if names.get(dst) == "mean"]
    np.testing.assert_allclose(_grid(fv).ravel(), per, rtol=1e-5)
    np.testing.assert_allclose(_grid(gv).ravel(), np.full(5, 1 / 5), rtol=1e-6)
