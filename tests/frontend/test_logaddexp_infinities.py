"""``sg.logaddexp`` / ``x.logaddexp(y)`` at ±inf (2026-12-01, twelfth session): values and gradients
against torch.logaddexp (autograd, float64) at finite, infinite and mixed points, for tensors and
scalars, through sg.grad / sg.numeric and through sg.compile (NumPy). Written as a logsumexp of the
pair, the gradient at (+inf, 1) was e^(inf − inf) = nan where torch's is 1; written a + softplus(b − a)
for scalars, the value at a = −inf was −inf + inf = nan. Values are checked against jax too, and
gradients where jax's agree with torch's (at (+inf, 1) jax's ∂/∂b is e, at (+inf, +inf) jax's is
(1, 1); torch's, matched here, are 0 and nan)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

INF = np.inf
POINTS = [(0.3, -1.2), (2.0, 2.0), (800.0, 790.0), (-800.0, -805.0), (INF, 1.0), (1.0, INF), (-INF, 1.0),
          (1.0, -INF), (INF, -INF), (-INF, INF), (INF, INF), (-INF, -INF)]
A, B = np.array([p[0] for p in POINTS]), np.array([p[1] for p in POINTS])
SAME_AS_JAX = [i for i, p in enumerate(POINTS) if p not in ((INF, 1.0), (1.0, INF), (INF, INF))]


def _torch():
    """torch.logaddexp's value and the two gradients at each point (float64 autograd)."""
    a = torch.tensor(A, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(B, dtype=torch.float64, requires_grad=True)
    v = torch.logaddexp(a, b)
    v.sum().backward()
    return v.detach().numpy(), a.grad.numpy(), b.grad.numpy()


TV, TGA, TGB = _torch()


def _same(got, want):
    np.testing.assert_allclose(np.asarray(got, float), want, rtol=1e-13, atol=0)   # nan = nan, inf = inf


def test_torch_and_jax_agree_on_the_values_and_differ_where_said():
    jax = pytest.importorskip("jax")
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)          # float64 here only: put back for other modules
    try:
        v, (ga, gb) = jax.vmap(jax.value_and_grad(jax.numpy.logaddexp, argnums=(0, 1)))(A, B)
    finally:
        jax.config.update("jax_enable_x64", before)
    _same(np.asarray(v), TV)
    _same(np.asarray(ga)[SAME_AS_JAX], TGA[SAME_AS_JAX])
    _same(np.asarray(gb)[SAME_AS_JAX], TGB[SAME_AS_JAX])
    assert TGA[POINTS.index((INF, 1.0))] == 1 and TGB[POINTS.index((INF, 1.0))] == 0


@pytest.mark.parametrize("spelling", ["sg.logaddexp", "x.logaddexp"])
def test_tensor_logaddexp_values_and_gradients_as_torch(spelling):
    a, b = sg.tensor("a", (len(POINTS),)), sg.tensor("b", (len(POINTS),))
    f = sg.logaddexp(a, b) if spelling == "sg.logaddexp" else a.logaddexp(b)
    env = {a: A, b: B}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)        # inf − inf in the pieces not taken
        _same(sg.numeric(f, env), TV)
        _same(sg.numeric(sg.grad(f.sum(), a), env), TGA)
        _same(sg.numeric(sg.grad(f.sum(), b), env), TGB)


def test_scalar_logaddexp_values_and_gradients_as_torch():
    p, q = sp.symbols("p q", real=True)
    f = sg.logaddexp(p, q)
    ga, gb = sg.grad(f, p), sg.grad(f, q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = np.array([[float(sg.numeric(e, {p: u, q: w})) for e in (f, ga, gb)] for u, w in POINTS])
    _same(got[:, 0], TV)
    _same(got[:, 1], TGA)
    _same(got[:, 2], TGB)


@pytest.mark.parametrize("kind", ["tensor", "scalar"])
def test_compiled_logaddexp_values_and_gradients_as_torch(kind):
    c = sp.Symbol("c", real=True)          # an input of 1 (a program takes a batch)
    if kind == "tensor":
        a, b = sg.tensor("a", (1,)), sg.tensor("b", (1,))
        prog = sg.compile(a.logaddexp(b).sum() * c, params=[a, b], inputs=[c], dtype="float64")
        at = [{"a": np.array([u]), "b": np.array([w])} for u, w in POINTS]
    else:
        a, b = sp.symbols("a b", real=True)
        prog = sg.compile(sg.logaddexp(a, b) * c, params=[a, b], inputs=[c], dtype="float64")
        at = [{"a": u, "b": w} for u, w in POINTS]
    one = {"c": np.ones(1)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        loss = [float(prog.loss(x, one)) for x in at]
        grads = [prog.grad(x, one) for x in at]
    _same(loss, TV)
    _same([float(np.ravel(g["a"])[0]) for g in grads], TGA)
    _same([float(np.ravel(g["b"])[0]) for g in grads], TGB)


def test_triton_logaddexp_gradient_as_torch():
    # a log-mixture against an input: the logsumexp of the pair was refused (a concat), and a SymPy
    # log(2) in the tie's piece made the kernel fail (a log of an integer); float32 against torch's
    pytest.importorskip("triton")
    a, b = sg.tensor("a", (len(POINTS),)), sg.tensor("b", (len(POINTS),))
    prog = sg.compile(a.logaddexp(b).sum(), params=[a], inputs=[b], target="triton", dtype="float32")
    keep = [i for i, p in enumerate(POINTS) if abs(p[0]) < 100 or abs(p[1]) < 100]   # float32's range
    at = np.array([p if i in keep else (0.0, 0.0) for i, p in enumerate(POINTS)])
    ta = torch.tensor(at[:, 0], requires_grad=True)
    torch.logaddexp(ta, torch.tensor(at[:, 1])).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = np.asarray(prog.grad({"a": at[:, 0]}, {"b": at[:, 1][None]})["a"], float)
    np.testing.assert_allclose(got, ta.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", ["tensor", "scalar"])
def test_derivation_writes_the_tie_as_log_2(kind):
    # the tie's piece read 0.69314718055994531 in sg.derive's text and LaTeX (thirteenth session)
    if kind == "tensor":
        a, b = sg.tensor("a", (3,)), sg.tensor("b", (3,))
        f = a.logaddexp(b).sum()
    else:
        a, b = sp.symbols("a b", real=True)
        f = sg.logaddexp(a, b)
    d = sg.derive(f, a)
    assert "log(2)" in str(d) and "0.693" not in str(d)
    assert r"\log{\left(2 \right)}" in d.latex() and "0.693" not in d.latex()
