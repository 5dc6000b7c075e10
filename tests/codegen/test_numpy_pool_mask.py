"""Max pooling's backward mask in the NumPy step: one_hot(argmax(windows)) is made from the windows'
hits directly (`codegen.printers.numpy_tensor.window_first_hit`), with no integer arg-max array and
no compare of it against 0 … k − 1 along a new axis; δ still goes to each window's first arg-max,
as torch's max_pool2d backward sends it (float32, windows that tile, overlap and pad)."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _pooled(pool, dtype):
    C, H, W = 3, 6, 6
    x, P = sg.tensor("x", (N, C, H, W)), sg.tensor("P", (1, C, H, W))
    h = sg.as_tensor(sg.max_pool2d(x + P, *pool))
    D = sg.tensor("D", h.shape)
    return sg.compile(sg.sum(h * D) / N, [P], [x, D], dtype=dtype), (C, H, W)


def test_the_step_makes_no_integer_arg_max_for_a_pooling_window():
    prog, _ = _pooled((2,), "float32")
    src = prog.source
    assert not re.search(r"^\s*# v\d+ = argmax\[", src, re.M), "an arg-max statement is still printed"
    assert "numpy.moveaxis((" not in src          # the one-hot of integer indices along a new axis
    made = re.findall(r"^\s*(v\d+) = \((v\d+_w) == \2\.max\(4, keepdims=True\)\)\.astype\(DTYPE\)$", src, re.M)
    assert made, "the mask is not made from the windows' hits"


@pytest.mark.parametrize("pool", [(2,), (2, 1), (3, 2, 1)], ids=["tiles", "overlap", "k3-s2-pad1"])
def test_the_mask_routes_delta_to_the_first_arg_max_as_torch(pool):
    """Small integers: most windows hold ties, which only the first entry in row-major order wins;
    ∂/∂P of max_pool(x + P) at P = 0 is torch's ∂/∂x summed over the batch (exact in float32: the
    sums add at most a few δ of small integers)."""
    prog, (C, H, W) = _pooled(pool, "float32")
    rng = np.random.default_rng(3)
    n = 4
    xa = rng.integers(0, 3, (n, C, H, W)).astype(np.float32)
    tx = torch.tensor(xa, requires_grad=True)
    th = F.max_pool2d(tx, *pool)
    Da = rng.integers(-4, 5, tuple(th.shape)).astype(np.float32)
    (th * torch.tensor(Da)).sum().backward()
    g = prog.grad({"P": np.zeros((1, C, H, W), np.float32)}, {"x": xa, "D": Da})
    np.testing.assert_array_equal(g["P"] * n, tx.grad.numpy().sum(0, keepdims=True))
