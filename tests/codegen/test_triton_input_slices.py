"""Slices of an input's rows on the Triton target (``x[:, :4]``, ``x[:, 5:8]``, ``x[:, ::2]``,
``x[:, 7]``): the rows kernel loads those entries of each example's row with an offset and a step.
What stays refused: a slice of a value computed per example, a slice of the batch axis.

Compared with the NumPy target (loss, gradients, 3 Adam steps) at float32 tolerance. Tiny shapes:
the kernels run under Triton's interpreter on the CPU.
"""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.refusals import assert_refused_for_triton
from tests.codegen.test_triton_tensors import _same_as_numpy, _values

pytest.importorskip("torch")
pytest.importorskip("triton")

N = sp.Symbol("N", integer=True, positive=True)
D, H, C = 8, 16, 4
W1, U, b1, W2 = sg.tensor("W1", (4, H)), sg.tensor("U", (3, H)), sg.tensor("b1", (H,)), sg.tensor("W2", (H, C))
x, y, t = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True), sg.tensor("t", (N,))


def _both(loss, params, inputs):
    return [sg.compile(loss, params, inputs, target=tg, optimizer=sg.optim.Adam(lr=0.05)) for tg in ("triton", "numpy")]


def test_two_slices_of_the_features_in_two_layers_equal_numpy(rng):
    loss = sg.cross_entropy(sg.relu(x[:, :4] @ W1 + x[:, 5:8] @ U + b1) @ W2, y)
    tri, ref = _both(loss, [W1, U, b1, W2], [x, y])
    batch = {"x": rng.normal(size=(7, D)).astype(np.float32), "y": rng.integers(0, C, 7)}
    _same_as_numpy(tri, ref, _values([W1, U, b1, W2], rng), batch)
    assert re.search(r"tl\.load\(x0_ptr \+ offs_m\[:, None\] \* stride_x0 \+ 5 \+ offs_n\d?\[None, :\]", tri.source)


def test_a_strided_slice_and_one_entry_per_example_equal_numpy(rng):
    loss = sg.mean((sg.sum(sg.tanh(x[:, ::2] @ W1), axis=1) + x[:, 7] - t) ** 2)
    tri, ref = _both(loss, [W1], [x, t])
    batch = {"x": rng.normal(size=(7, D)).astype(np.float32), "t": rng.normal(size=7).astype(np.float32)}
    _same_as_numpy(tri, ref, _values([W1], rng), batch)


def test_a_per_example_slice_equals_numpy(rng):
    xe, te = sg.tensor("x", (D,)), sg.tensor("t", ())
    loss = sg.mse(sg.sum(sp.tanh(xe[2:6] @ W1 + b1)), te)
    tri, ref = _both(loss, [W1, b1], [xe, te])
    batch = {"x": rng.normal(size=(5, D)).astype(np.float32), "t": rng.normal(size=5).astype(np.float32)}
    _same_as_numpy(tri, ref, _values([W1, b1], rng), batch)


@pytest.mark.parametrize("case, words", [
    ("batch axis", [r"`x\[:3, :4\]`", r"a slice of the batch axis", r"mixes the examples"]),
])
def test_slices_that_stay_refused_are_named(case, words):
    # (a slice of a value computed per example compiles since 2026-11-30: test_triton_value_slices.py)
    loss = sg.mean(sg.sum(sg.tanh(x[:3, :4] @ W1), axis=1))
    assert_refused_for_triton(loss, [W1], [x], words)
