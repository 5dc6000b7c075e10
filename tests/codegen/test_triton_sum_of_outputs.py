"""A loss that sums a layer's outputs, ``sg.sum(x @ W)``, on the Triton target: ∂L/∂W = Σ_b x_b·(s·1)ᵀ
is an outer product with a row the same for every example (s the seed, 1/B). Until 2026-11-30 it
was refused ("∂L/∂'W' per example is a (8, 16) matrix per example"); now the batch sums x (a
batch_sum launch) and the host multiplies the sums by s and repeats them along W's columns.

Compared with the NumPy target at float32 tolerance: loss, gradients, 3 Adam steps.
"""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.test_triton_tensors import _same_as_numpy, _values

pytest.importorskip("torch")
pytest.importorskip("triton")

D, H = 8, 16
W, b = sg.tensor("W", (D, H)), sg.tensor("b", (H,))


@pytest.mark.parametrize("kind", ["alone", "beside a layer", "over the batch"])
def test_the_sum_of_a_layers_outputs_equals_numpy(kind, rng):
    if kind == "over the batch":
        N = sp.Symbol("N", integer=True, positive=True)
        x = sg.tensor("x", (N, D))
        loss, params = sg.mean(sg.sum(x @ W, axis=1)), [W]
    else:
        x = sg.tensor("x", (D,))
        loss, params = (sg.sum(x @ W), [W]) if kind == "alone" else \
            (sg.sum(sg.tanh(x @ W + b)) + 0.5 * sg.sum(x @ W), [W, b])
    tri, ref = [sg.compile(loss, params, [x], target=t, optimizer=sg.optim.Adam(lr=0.05)) for t in ("triton", "numpy")]
    _same_as_numpy(tri, ref, _values(params, rng), {"x": rng.normal(size=(5, D)).astype(np.float32)})
