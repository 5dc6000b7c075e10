"""A scalar times a matrix, compiled (issue 13, point 3, on the code generators).

The gradient of s·M with respect to M is s broadcast to M's shape. The NumPy target summed the bare
scalar once where it stood for every entry (Σ of ḡ·s·𝟙), and the Triton target made the weight
gradient of a broadcast δ from its first row only, leaving the others as whatever memory held.
Gradients are compared with central differences of f (float64, `oracle.central_differences`), per
example, averaged over the batch as the programs do.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from oracle import central_differences
from symgrad.errors import UnsupportedError

W, b = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("b", 2, 1)
x, y = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("y", 2, 1)
F32 = dict(rtol=2e-4, atol=2e-5)

CASES = {
    # Σ(W·x) · Σ σ(W·x + b): ∂/∂b = Σ(Wx)·σ′, ∂/∂W gets Σ σ(·) from every entry of W·x
    "sum(Wx)*sigmoid(Wx+b)": (sg.sum(sg.sum(W * x) * sg.sigmoid(W * x + b)), [W, b], [x]),
    # Σ log_softmax(W·x + b) · Σ y: the softmax Jacobian sums ḡ·Σy over the 2 entries
    "sum(log_softmax)*sum(y)": (sg.sum(sg.log_softmax(W * x + b)) * sg.sum(y), [W, b], [x, y]),
}


def _data(params, inputs, B=3, seed=0):
    rng = np.random.default_rng(seed)
    values = {p: rng.normal(size=p.shape) for p in params}
    batch = {v: rng.normal(size=(B, v.shape[0])) for v in inputs}
    return values, batch


def _expected(f, params, inputs, values, batch):
    """mean over the batch of ∂f/∂p, by central differences at each example."""
    B = next(iter(batch.values())).shape[0]
    total = [np.zeros(p.shape) for p in params]
    for i in range(B):
        at = dict(values)
        at.update({v: batch[v][i].reshape(v.shape) for v in inputs})
        for t, g in zip(total, central_differences(f, params, at)):
            t += g / B
    return total


@pytest.mark.parametrize("target", ["numpy", "triton"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_scalar_times_matrix_gradients_equal_finite_differences(case, target):
    if target == "triton":
        pytest.importorskip("torch")
        pytest.importorskip("triton")
    f, params, inputs = CASES[case]
    prog = sg.compile(f, params, inputs, target=target)
    values, batch = _data(params, inputs)
    got = prog.grad({p.name: v.astype(np.float32) for p, v in values.items()},
                    {v.name: a.astype(np.float32) for v, a in batch.items()})
    for p, want in zip(params, _expected(f, params, inputs, values, batch)):
        g = np.asarray(got[p.name], dtype=float)
        assert g.shape == tuple(p.shape)
        np.testing.assert_allclose(g, want, err_msg=f"∂f/∂{p}", **F32)


def test_kernel_backends_refuse_an_outer_product_of_a_broadcast_scalar():
    """∂/∂W Σ(Σ(W·x)·y) = Σ(y)·𝟙·xᵀ: δ is a per-example scalar broadcast to a column. The Triton
    target refuses it by name (it filled one row of the gradient); the NumPy target computes it."""
    pytest.importorskip("torch")
    pytest.importorskip("triton")
    f = sg.sum(sg.sum(W * x) * y)
    with pytest.raises(UnsupportedError, match="broadcast"):
        sg.compile(f, [W], [x, y], target="triton")
    prog = sg.compile(f, [W], [x, y], dtype="float64")
    values, batch = _data([W], [x, y], seed=1)
    got = prog.grad({"W": values[W]}, {"x": batch[x], "y": batch[y]})["W"]
    np.testing.assert_allclose(got, _expected(f, [W], [x, y], values, batch)[0], rtol=1e-6, atol=1e-8)
