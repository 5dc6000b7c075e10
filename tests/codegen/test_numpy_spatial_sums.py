"""A sum over an array's trailing axes together (a conv map's spatial sum: global average pooling),
printed as einsum's loop, ``numpy.einsum('ijkl->ij', a)[..., None, None]``, where those axes hold at
most `SHORT_ROW` entries: gradients equal torch.autograd in float64, on the channel-last maps a
convolution makes and on an input laid out (N, C, H, W); a count of a 0/1 mask so summed is in the
program's floats; longer rows keep NumPy's pairwise ``.sum``."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from codegen.numpy_whole_batch import counted

N = sp.Symbol("N", integer=True, positive=True)
SPATIAL = "numpy.einsum('ijkl->ij', "


@pytest.mark.parametrize("S", [8, 5])
def test_global_average_pooling_of_conv_maps_and_of_an_input_equals_torch(S):
    x, w = sg.tensor("x", (N, 3, S, S)), sg.tensor("w", (4, 3, 3, 3))
    Wc, y = sg.tensor("Wc", (2, 7)), sg.tensor("y", (N,), integer=True)
    h = sg.relu(sg.conv2d(x, w, padding=1))
    pooled = sg.concat([sg.mean(h, axis=(2, 3)), sg.mean(sg.as_tensor(x) ** 2, axis=(2, 3))], axis=1)
    prog = sg.compile(sg.cross_entropy(sg.linear(pooled, Wc), y), [w, Wc], [x, y], dtype="float64")
    assert prog.source.count(SPATIAL) >= 2, prog.source       # the conv's maps and x's squares
    r = np.random.default_rng(S)
    n = 6
    xa, wa, Wa, ya = r.standard_normal((n, 3, S, S)), r.standard_normal((4, 3, 3, 3)), r.standard_normal((2, 7)), \
        r.integers(0, 2, n)
    tw, tW = torch.tensor(wa, requires_grad=True), torch.tensor(Wa, requires_grad=True)
    tx = torch.tensor(xa)
    tp = torch.cat([F.relu(F.conv2d(tx, tw, padding=1)).mean((2, 3)), (tx ** 2).mean((2, 3))], 1)
    tl = F.cross_entropy(F.linear(tp, tW), torch.tensor(ya))
    tl.backward()
    vals, batch = {"w": wa, "Wc": Wa}, {"x": xa, "y": ya}
    assert prog.loss(vals, batch) == pytest.approx(tl.item(), rel=1e-12)
    g = prog.grad(vals, batch)
    np.testing.assert_allclose(g["w"], tw.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(g["Wc"], tW.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_rows_longer_than_short_row_keep_numpys_sum():
    x, c = sg.tensor("x", (N, 2, 40, 40)), sg.tensor("c", (2,))
    prog = sg.compile(sg.sum(sg.mean(sg.as_tensor(x) ** 2, axis=(2, 3)) * c), [c], [x], dtype="float32")
    assert SPATIAL not in prog.source and ".sum((2, 3), keepdims=True)" in prog.source


def test_a_mask_summed_over_trailing_axes_is_counted_in_floats():
    code = counted("numpy.einsum('ijkl->ij', m)[..., None, None]")
    assert code == "numpy.einsum('ijkl->ij', m, dtype=DTYPE)[..., None, None]"
    m = np.random.default_rng(0).standard_normal((3, 2, 4, 5)) > 0
    got = eval(code, {"numpy": np, "DTYPE": np.float32, "m": m})     # (our own code, not a user's)
    assert got.dtype == np.float32 and got.shape == (3, 2, 1, 1)
    np.testing.assert_array_equal(got[..., 0, 0], m.sum((2, 3)))     # a count, not a logical or
