"""Slips of a batch norm's dx that keep its statistics' axes right, each of which read as a bare "not
equal": (dout * x).sum(0) where (dout * xhat).sum(0) belongs, the backward's variance with ddof=1 (or
1/(N - 1) on the staged variance path), a staged dmu summed over axis 1, and dx's two sums on
different axes. The backwards are written as cs231n's batchnorm_backward_alt and staged
batchnorm_backward write them; the right ones are compared with torch.autograd first."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from verdicts import N, wrong

EPS = 1e-5


def _batchnorm(d=4):
    x, gamma, beta = sg.tensor("x", (N, d)), sg.tensor("gamma", (d,)), sg.tensor("beta", (d,))
    return gamma * (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + EPS) + beta, [x, gamma, beta]


def backward_alt(dout, x, gamma, beta, slip=None):
    """batchnorm_backward_alt: dx on one line, the sums of dxhat = dout * gamma."""
    n = x.shape[0]
    std = np.sqrt(x.var(axis=0, ddof=1 if slip == "ddof" else 0) + EPS)
    xhat = (x - x.mean(axis=0)) / std
    dxhat = dout * gamma
    first = dxhat.sum(axis=1, keepdims=True) if slip == "first sum on axis 1" else dxhat.sum(axis=0)
    second = (dxhat * (x if slip == "x" else xhat)).sum(axis=0)
    dx = (n * dxhat - first - xhat * second) / (n * std)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def backward_one_line(dout, x, gamma, beta, slip=None):
    """dx = (1/N) * gamma * istd * (N*dout - dout.sum(0) - xhat*(dout*xhat).sum(0)): gamma outside the sums."""
    n = x.shape[0]
    istd = 1 / np.sqrt(x.var(axis=0) + EPS)
    xhat = (x - x.mean(axis=0)) * istd
    dx = (1 / n) * gamma * istd * (n * dout - dout.sum(axis=0) - xhat * (dout * (x if slip == "x" else xhat)).sum(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def backward_staged(dout, x, gamma, beta, slip=None):
    """cs231n's staged batchnorm_backward through the computational graph."""
    n = x.shape[0]
    xmu = x - x.mean(axis=0)
    var = (xmu ** 2).mean(axis=0)
    sqrtvar = np.sqrt(var + EPS)
    xhat = xmu / sqrtvar
    dxhat = dout * gamma
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat / sqrtvar
    dvar = 0.5 / sqrtvar * (-divar / sqrtvar ** 2)
    dsq = (1 / (n - 1) if slip == "N - 1" else 1 / n) * np.ones_like(x) * dvar
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -np.sum(dx1, axis=1, keepdims=True) if slip == "dmu axis 1" else -np.sum(dx1, axis=0)
    dx2 = 1 / n * np.ones_like(x) * dmu
    return dx1 + dx2, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


@pytest.mark.parametrize("backward", [backward_alt, backward_one_line, backward_staged])
def test_the_right_backwards_are_torchs(backward):
    rng = np.random.default_rng(7)
    x, gamma, beta, dout = (rng.normal(size=s) for s in ((6, 3), (3,), (3,), (6, 3)))
    ts = [torch.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    xt = ts[0]
    out = ts[1] * (xt - xt.mean(0)) / torch.sqrt(xt.var(0, unbiased=False) + EPS) + ts[2]
    out.backward(torch.tensor(dout))
    for got, t in zip(backward(dout, x, gamma, beta), ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    out, wrt = _batchnorm()
    assert sg.check_backward(out, wrt, backward).verdict == "equal"


@pytest.mark.parametrize("backward, written", [
    (backward_alt, "xhat * (dxhat * x).sum(axis=0)"),
    (backward_one_line, "with gamma outside the sums, xhat * (dout * x).sum(axis=0)")])
def test_dout_times_x_where_xhat_belongs_is_named(backward, written):
    out, wrt = _batchnorm()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: backward(*a, **k, slip="x")),
              "x where xhat belongs in dx's second sum: the claim is dx = (N * dxhat - dxhat.sum(axis=0)")
    assert written in r.hint and r.counterexample.param == "x"


def test_the_backwards_variance_with_ddof_1_is_named():
    out, wrt = _batchnorm()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: backward_alt(*a, **k, slip="ddof")),
              "variance over N − 1 in the backward: the claim's std and xhat come from x.var(axis=0, ddof=1)")
    assert "divides by N = " in r.hint


def test_one_over_n_minus_1_on_the_staged_variance_path_is_named_in_the_backwards_terms():
    """It was a fan-out hint quoting the path's SymPy text."""
    out, wrt = _batchnorm()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: backward_staged(*a, **k, slip="N - 1")),
              "1/(N − 1) on the variance's path")
    assert "dsq = 1 / N * np.ones_like(x) * dvar" in r.hint and "mean(axis=0) + x" not in r.hint


def test_a_staged_dmu_summed_over_axis_1_is_named():
    out, wrt = _batchnorm(3)
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: backward_staged(*a, **k, slip="dmu axis 1")),
              "dmu summed over the wrong axes: the claim is dx = dx1 + dx2 with dmu = -np.sum(dx1, axis=1, "
              "keepdims=True) and dx2 = dmu / N")
    assert "dmu = -np.sum(dx1, axis=0)" in r.hint


def test_dxs_two_sums_on_different_axes_are_named():
    out, wrt = _batchnorm()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: backward_alt(*a, **k, slip="first sum on axis 1")),
              "dx's two sums on different axes: the claim is dx = (n * dxhat - dxhat.sum(axis=1) - xhat * "
              "(dxhat * xhat).sum(axis=0))")
    assert "dxhat.sum(axis=0, keepdims=True)" in r.hint


@pytest.mark.parametrize("slip", ["x", "ddof", "first sum on axis 1"])
def test_a_layer_norm_gets_no_batch_norm_words(slip):
    """The same hints name a layer norm's slips by its own axis (axis=1, keepdims=True), not axis 0."""
    x, gamma, beta = sg.tensor("x", (N, 4)), sg.tensor("gamma", (4,)), sg.tensor("beta", (4,))
    out = gamma * (x - x.mean(axis=1, keepdims=True)) / sp.sqrt(x.var(axis=1, keepdims=True) + EPS) + beta

    def layernorm_backward(dout, x, gamma, beta):
        d = x.shape[1]
        std = np.sqrt(x.var(axis=1, keepdims=True, ddof=1 if slip == "ddof" else 0) + EPS)
        xhat = (x - x.mean(axis=1, keepdims=True)) / std
        dxhat = dout * gamma
        first = dxhat.sum(axis=0, keepdims=True) if slip == "first sum on axis 1" else dxhat.sum(axis=1, keepdims=True)
        second = (dxhat * (x if slip == "x" else xhat)).sum(axis=1, keepdims=True)
        return (d * dxhat - first - xhat * second) / (d * std), (dout * xhat).sum(axis=0), dout.sum(axis=0)
    r = wrong(sg.check_backward(out, [x, gamma, beta], layernorm_backward))
    assert r.hint is not None and "axis=1, keepdims=True" in r.hint and "(axis=0)" not in r.hint.split(";")[-1]
