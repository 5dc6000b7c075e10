"""The NumPy form of scatter_add (an embedding's gradient): rows scattered through a 1-D index into
the flattened output (NumPy's fast path of ufunc.at) give exactly — bitwise — what numpy.add.at
with the N-d index gives, repeated ids included, in float32 and float64; other axes keep add.at."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("row", [(5,), (2, 3)])
def test_embedding_gradient_is_numpy_add_at_bitwise(dtype, row):
    V, L = 7, 6
    ids, c = sg.tensor("ids", (N, L), integer=True), sg.tensor("c", (N, L) + row)
    E = sg.tensor("E", (V,) + row)
    prog = sg.compile(sg.sum(E[ids] * c), [E], [ids, c], dtype=dtype)
    rng = np.random.default_rng(0)
    data = {"ids": rng.integers(0, 3, (9, L)), "c": rng.normal(size=(9, L) + row).astype(dtype) * 1e3}
    data["ids"][:, 0] = 2                                   # one id many times: order matters
    got = prog.grad({"E": np.zeros((V,) + row, dtype)}, data)["E"]
    want = np.zeros((V,) + row, dtype)
    np.add.at(want, data["ids"], data["c"])                 # the sequential sum, j by j
    assert got.dtype == np.dtype(dtype)
    assert np.array_equal(got, want)
    assert "numpy.arange(" in prog.source and ".reshape(-1))" in prog.source


def test_scatter_along_another_axis_keeps_add_at():
    x, idx = sg.tensor("x", (N, 5)), sg.tensor("idx", (3,), integer=True)
    c = sg.tensor("c", (N, 3))
    prog = sg.compile(sg.sum(sg.take(x * sg.tensor("w", (5,)), idx, axis=1) * c), [sg.tensor("w", (5,))],
                      [x, idx, c], dtype="float64")
    rng = np.random.default_rng(1)
    data = {"x": rng.normal(size=(4, 5)), "idx": np.array([1, 1, 4]), "c": rng.normal(size=(4, 3))}
    got = prog.grad({"w": np.ones(5)}, data)["w"]
    want = np.zeros(5)
    np.add.at(want, data["idx"], (data["x"][:, data["idx"]] * data["c"]).sum(axis=0))
    np.testing.assert_allclose(got, want, rtol=1e-13)
