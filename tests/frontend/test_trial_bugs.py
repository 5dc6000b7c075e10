"""Bugs a docs trial found at the front end, each pinned: an error that names the problem and what
is supported instead of one about something the user never wrote, torch's keywords at their
default values accepted by the layers, grouped convolution checked against torch in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from symgrad.errors import ArgumentError, ShapeError

rng = np.random.default_rng(20261130)


def _raises(kind, fn, *words):
    with pytest.raises(kind) as e:
        fn()
    for word in words:
        assert word in str(e.value), (word, str(e.value))
    return str(e.value)


# ---------------------------------------------------------------------------------------------------
# 1. hessian / jacobian of tensors: refused up front, naming the tensor and the workarounds


def test_hessian_wrt_a_tensor_names_the_tensor_not_an_inner_F():
    v = sg.tensor("v", (3,))
    msg = _raises(ShapeError, lambda: sg.hessian(sg.sum(v ** 3), v),
                  "hessian", "tensor v", "(3)", "not supported", "sp.MatrixSymbol('v', 3, 1)")
    assert "each entry of F" not in msg
    x = sp.Symbol("x")
    _raises(ShapeError, lambda: sg.hessian(sg.sum(v ** 3) * x, [x, v]), "hessian", "tensor v")
    M = sg.tensor("M", (2, 2))
    _raises(ShapeError, lambda: sg.hessian(sg.sum(M ** 3), M), "tensor M", "sp.MatrixSymbol('M', 2, 2)")
    # it used to fail mixing the two array languages
    _raises(ShapeError, lambda: sg.jacobian(M ** 2, M), "jacobian", "tensor M", "not supported")
    _raises(ShapeError, lambda: sg.jacobian(v ** 2, [x]), "jacobian", "v**2", "(3)", "not supported")


def test_the_hessian_vector_product_the_error_suggests_is_torchs():
    v, u = sg.tensor("v", (3,)), sg.tensor("u", (3,))
    f = sg.sum(sg.exp(v) * v ** 3)
    msg = _raises(ShapeError, lambda: sg.hessian(f, v), "sg.grad(sg.sum(sg.grad(f, v) * u), v)")
    assert "sg.tensor('u', (3,))" in msg
    hvp = sg.grad(sg.sum(sg.grad(f, v) * u), v)
    vv, uu = rng.normal(size=3), rng.normal(size=3)
    H = torch.autograd.functional.hessian(lambda t: (torch.exp(t) * t ** 3).sum(), torch.tensor(vv))
    got = np.asarray(sg.numeric(hvp, {"v": vv, "u": uu}), dtype=float)
    np.testing.assert_allclose(got, H.numpy() @ uu, rtol=1e-10)


def test_hessian_of_a_column_matrix_still_works():
    v = sp.MatrixSymbol("v", 3, 1)
    H = sg.hessian(sg.sum(sp.HadamardPower(v, 3)), v)
    assert H == sp.diag(*[6 * v[i, 0] for i in range(3)])

