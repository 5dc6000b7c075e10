"""A staged batch-norm backward (cs231n's batchnorm_backward, node by node) that leaves ε out of one
step only — np.sqrt(var) in dxmu1, 1/var in dsqrtvar, var ** -1.5 in dvar — is named with the path
and the power written; ε left out everywhere keeps its own hint. The right backward is torch's."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from verdicts import N, wrong

EPS = 1e-5


def _batchnorm():
    x, gamma, beta = sg.tensor("x", (N, 4)), sg.tensor("gamma", (4,)), sg.tensor("beta", (4,))
    return gamma * (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + EPS) + beta, [x, gamma, beta]


def batchnorm_backward(dout, x, gamma, beta, slip=None):
    n = x.shape[0]
    xmu = x - x.mean(axis=0)
    var = (xmu ** 2).mean(axis=0)
    sqrtvar = np.sqrt(var + EPS)
    no_eps = np.sqrt(var)
    xhat = xmu / (no_eps if slip == "everywhere" else sqrtvar)
    dxhat = dout * gamma
    divar = (dxhat * xmu).sum(axis=0)
    dxmu1 = dxhat / (no_eps if slip in ("dxmu1", "everywhere") else sqrtvar)
    dsqrtvar = -1 / (var if slip in ("dsqrtvar", "everywhere") else sqrtvar ** 2) * divar
    dvar = 0.5 / (no_eps if slip in ("dvar", "everywhere") else sqrtvar) * dsqrtvar
    if slip == "var ** -1.5":
        dvar = -0.5 * divar * var ** -1.5
    dxmu2 = 2 * xmu * np.ones_like(x) * dvar / n
    dx1 = dxmu1 + dxmu2
    dx2 = -dx1.sum(axis=0) * np.ones_like(x) / n
    return dx1 + dx2, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def test_the_right_staged_backward_is_torchs():
    rng = np.random.default_rng(4)
    x, gamma, beta, dout = (rng.normal(size=s) for s in ((5, 4), (4,), (4,), (5, 4)))
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    torch.nn.functional.batch_norm(tx, None, None, tg, tb, training=True, eps=EPS).backward(torch.tensor(dout))
    for got, t in zip(batchnorm_backward(dout, x, gamma, beta), (tx, tg, tb)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-8, atol=1e-10)
    out, wrt = _batchnorm()
    assert sg.check_backward(out, wrt, batchnorm_backward).verdict == "equal"


@pytest.mark.parametrize("slip, path, power", [
    ("dxmu1", "the path through x̂ (dxmu1 = dxhat / std)", "1/std written 1/np.sqrt(var)"),
    ("dsqrtvar", "the variance's path (dsqrtvar, dvar, dxmu2)", "1/std² written 1/var"),
    ("dvar", "the variance's path (dsqrtvar, dvar, dxmu2)", "1/std written 1/np.sqrt(var)"),
    ("var ** -1.5", "the variance's path (dsqrtvar, dvar, dxmu2)", "std**-3 written var ** -1.5")])
def test_eps_left_out_of_one_step_is_named_with_its_path(slip, path, power):
    out, wrt = _batchnorm()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: batchnorm_backward(*a, **k, slip=slip)),
              f"ε left out on some paths: the claim is the gradient with eps = 1e-05 left out of {path}, {power}")
    assert r.counterexample.param == "x"
    assert "std = np.sqrt(var + eps) once" in r.hint


def test_eps_left_out_everywhere_keeps_its_own_hint():
    out, wrt = _batchnorm()
    wrong(sg.check_backward(out, wrt, lambda *a, **k: batchnorm_backward(*a, **k, slip="everywhere")),
          "ε left out: the claim is the gradient of f with its constant 1e-05 taken as 0")


@pytest.mark.parametrize("keep", [True, False])
def test_a_layernorm_staged_backward_with_var_to_the_minus_three_halves_is_named(keep):
    """Layer norm, its statistics with keepdims or through the transpose: the paths are named by
    where they go (the square of x − μ), not by the first value's text."""
    x, gamma, beta = sg.tensor("x", (N, 4)), sg.tensor("gamma", (4,)), sg.tensor("beta", (4,))
    if keep:
        out = gamma * (x - x.mean(axis=1, keepdims=True)) / sp.sqrt(x.var(axis=1, keepdims=True) + EPS) + beta
    else:
        out = gamma * ((x.T - x.mean(axis=1)) / sp.sqrt(x.var(axis=1) + EPS)).T + beta

    def layernorm_backward(dout, x, gamma, beta, slip=False):
        xmu = x - x.mean(axis=1, keepdims=True)
        var = (xmu ** 2).mean(axis=1, keepdims=True)
        std = np.sqrt(var + EPS)
        dxhat = dout * gamma
        dvar = -0.5 * (dxhat * xmu).sum(axis=1, keepdims=True) * (var ** -1.5 if slip else std ** -3)
        dxmu = dxhat / std + 2 * xmu * dvar / x.shape[1]
        return dxmu - dxmu.mean(axis=1, keepdims=True), (dout * xmu / std).sum(axis=0), dout.sum(axis=0)
    assert sg.check_backward(out, [x, gamma, beta], layernorm_backward).verdict == "equal"
    wrong(sg.check_backward(out, [x, gamma, beta], lambda *a, **k: layernorm_backward(*a, **k, slip=True)),
          "ε left out on some paths: the claim is the gradient with eps = 1e-05 left out of the variance's "
          "path (dsqrtvar, dvar, dxmu2), std**-3 written var ** -1.5, while")
