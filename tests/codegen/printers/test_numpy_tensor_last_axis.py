"""Sums over the last axis in the whole-batch NumPy step (codegen/printers/numpy_tensor.py
``last_axis_sum``, and the contraction Σ u⊙w over it in codegen/numpy_whole_batch.py): one einsum
(NumPy's ``.sum(-1)`` over short rows runs 2-7 times slower), the same values as ``.sum``, a count of
a mask in floats; and the compiled layer norm and softmax of a transformer, so printed, equal torch's
gradients (float64)."""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch

import symgrad as sg
from codegen.printers.numpy_tensor import last_axis_sum

N = sp.Symbol("N", integer=True, positive=True)


def _eval(code, **arrays):
    return eval(code, {"numpy": np, "DTYPE": np.float32}, arrays)


def test_last_axis_sum_equals_numpy_sum_with_the_axis_kept():
    rng = np.random.default_rng(0)
    for shape in [(7, 5), (3, 4, 6), (2, 3, 4, 5)]:
        a = rng.normal(size=shape)
        got = _eval(last_axis_sum("a", len(shape)), a=a)
        assert got.shape == shape[:-1] + (1,)
        np.testing.assert_allclose(got, a.sum(-1, keepdims=True), rtol=1e-13)


def test_a_count_of_a_mask_is_in_floats():
    m = np.arange(24).reshape(2, 3, 4) % 3 == 0
    got = _eval(last_axis_sum("m", 3, ", dtype=DTYPE"), m=m)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, m.sum(-1, keepdims=True))


def test_layer_norm_and_softmax_over_the_last_axis_print_einsum_and_equal_torch():
    T, D = 3, 4
    x, W, g = sg.tensor("x", (N, T, D)), sg.tensor("W", (D, D)), sg.tensor("g", (D,))
    h = sg.layer_norm(x @ W, D, g, sg.tensor("b", (D,)))
    s = h @ h.transpose(0, 2, 1)                     # (N, T, T) scores, a softmax over the last axis
    a = sg.softmax(s, axis=-1)
    loss = sg.mean((a @ h) ** 2)
    params = [W, g, sg.tensor("b", (D,))]
    prog = sg.compile(loss, params, [x], dtype="float64")
    step = prog.source.split("\ndef grad(")[1]
    assert "numpy.einsum('ijk->ij', " in step and "numpy.einsum('ijk,ijk->ij', " in step
    assert ".sum((2,), keepdims=True)" not in step and ".sum(2, keepdims=True)" not in step
    rng = np.random.default_rng(1)
    vals = {"W": rng.normal(size=(D, D)), "g": 1 + 0.1 * rng.normal(size=D), "b": 0.1 * rng.normal(size=D)}
    xs = {"x": rng.normal(size=(5, T, D))}
    got = prog.grad(vals, xs)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    hh = torch.nn.functional.layer_norm(torch.tensor(xs["x"]) @ t["W"], (D,), t["g"], t["b"])
    aa = torch.softmax(hh @ hh.transpose(1, 2), -1)
    ((aa @ hh) ** 2).mean().backward()
    for k in vals:
        np.testing.assert_allclose(got[k], t[k].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


def test_long_rows_keep_numpys_pairwise_sum():
    """Over rows longer than SHORT_ROW, einsum's running sums round worse than NumPy's pairwise .sum
    in float32: those stay .sum (as do sums over other axes, and 1-d arrays)."""
    from codegen.printers.numpy_tensor import FORMS, SHORT_ROW, Context
    c = Context("v3", ["v1"], lambda shape: str(shape), str)

    def rsum(shape, axes):
        e = type("E", (), {"params": (axes,), "inputs": [type("V", (), {"shape": shape})()]})()
        return FORMS["rsum"].code(c, e)
    assert rsum((N, 64, SHORT_ROW), (2,)).startswith("numpy.einsum('ijk->ij', v1)")
    assert rsum((N, 64, SHORT_ROW + 1), (2,)) == f"v1.sum((2,), keepdims=True)"
    assert rsum((N, 64, 128), (1,)) == "v1.sum((1,), keepdims=True)"
    assert rsum((N, N), (1,)) == "v1.sum((1,), keepdims=True)"
    assert rsum((5,), (0,)) == "v1.sum((0,), keepdims=True)"
