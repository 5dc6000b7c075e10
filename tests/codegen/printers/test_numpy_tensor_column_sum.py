"""Sums over the first axis of a 2-d array in the whole-batch NumPy step (codegen/printers/numpy_tensor.py
``column_sum``): a product with a vector of ones (BLAS's matrix-vector product; NumPy's ``.sum(0)``
over (256, 512) float32 took 2-6 times longer), the same values as ``.sum(0)``, a count of a mask in
the program's floats; and a compiled batch norm so printed equals torch's gradients (float64)."""
from __future__ import annotations

import re

import numpy as np
import sympy as sp
import torch

import symgrad as sg
from codegen.printers.numpy_tensor import column_sum, is_column_sum

N = sp.Symbol("N", integer=True, positive=True)


def _eval(code, dtype=np.float64, **arrays):
    return eval(code, {"numpy": np, "DTYPE": dtype}, arrays)


def test_column_sum_equals_numpy_sum_with_the_axis_kept():
    rng = np.random.default_rng(0)
    for shape in [(7, 5), (1, 3), (300, 2)]:
        a = rng.normal(size=shape)
        code = column_sum("a", "d0")
        assert is_column_sum(code)
        got = _eval(code, a=a, d0=shape[0])
        assert got.shape == (1, shape[1])
        np.testing.assert_allclose(got, a.sum(0, keepdims=True), rtol=1e-12)
    t = rng.normal(size=(4, 6))
    np.testing.assert_allclose(_eval(column_sum("a.T", "d0"), a=t, d0=6), t.T.sum(0, keepdims=True), rtol=1e-12)


def test_a_count_of_a_mask_is_in_the_programs_floats():
    m = np.arange(24).reshape(6, 4) % 3 == 0
    got = _eval(column_sum("m", "6"), np.float32, m=m)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, m.sum(0, keepdims=True))


def test_batch_norm_batch_sums_are_products_with_ones_and_equal_torch():
    D, eps = 5, 1e-5
    x, W, g, b = sg.tensor("x", (N, D)), sg.tensor("W", (D, D)), sg.tensor("g", (D,)), sg.tensor("b", (D,))
    z = x @ W
    h = sg.relu(g * (z - sg.mean(z, axis=0)) / sp.sqrt(sg.var(z, axis=0) + eps) + b)
    loss = sg.sum(h * h)
    prog = sg.compile(loss, [W, g, b], [x], dtype="float64")
    step = prog.source[prog.source.index("def grad("):] if "def grad(" in prog.source else prog.source
    # the forward's mean, the backward's Σ ḡ (∂/∂b) and Σ z̄ (the mean's adjoint): no .sum(0) left
    assert len(re.findall(r"= \(numpy\.ones\(d0, dtype=DTYPE\) @ \(?[\w.]+\)?\)\[None\]", step)) >= 3, step
    assert ".sum((0,)" not in step, step
    rng = np.random.default_rng(1)
    P = {"W": rng.standard_normal((D, D)), "g": 1 + 0.1 * rng.standard_normal(D), "b": 0.1 * rng.standard_normal(D)}
    X = rng.standard_normal((9, D)) + 2.0
    got = prog.grad(P, {"x": X})
    T = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    o = torch.relu(torch.nn.functional.batch_norm(torch.tensor(X) @ T["W"], None, None, T["g"], T["b"],
                                                  training=True, eps=eps))
    (o * o).sum().backward()
    for k, t in T.items():
        np.testing.assert_allclose(got[k], t.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)
