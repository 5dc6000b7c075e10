"""sg.gradcheck at a point given as torch tensors (parameters that require grad, as a torch user holds
them): read by value, without NumPy 2's __array__ DeprecationWarning, and the caller's tensors stay
as they were."""
from __future__ import annotations

import warnings

import numpy as np
import sympy as sp
import torch

import symgrad as sg


def test_gradcheck_reads_torch_parameters_that_require_grad():
    net = sg.mlp([3, 4, 2])
    t = sp.MatrixSymbol("t", 2, 1)
    prog = sg.compile(sg.mse(net.output, t), net.params, [net.input, t], dtype="float64")
    rng = np.random.default_rng(0)
    vals = {p.name: torch.tensor(rng.normal(size=p.shape), requires_grad=True) for p in net.params}
    before = {k: v.detach().clone() for k, v in vals.items()}
    data = {net.input.name: rng.normal(size=(5, 3, 1)), "t": rng.normal(size=(5, 2, 1))}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        r = sg.gradcheck(prog, vals, data)
    assert bool(r), str(r)
    for k, v in vals.items():
        assert torch.equal(v.detach(), before[k]) and v.requires_grad
