"""Spatial batch norm's rows built with x.reshape(-1, C), without moving the channels last, and a
conv bias's dout summed over the wrong axes and then indexed down to b's shape: both have the
gradient's shape, so no shape hint sees them; each is named. The right backward is torch's."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from verdicts import N, wrong

EPS = 1e-5
C = 3


def _spatial_batchnorm():
    x, gamma, beta = sg.tensor("x", (N, C, 2, 2)), sg.tensor("gamma", (C,)), sg.tensor("beta", (C,))
    axes = (0, 2, 3)
    out = (gamma.reshape(1, C, 1, 1) * (x - x.mean(axis=axes, keepdims=True))
           / sp.sqrt(x.var(axis=axes, keepdims=True) + EPS) + beta.reshape(1, C, 1, 1))
    return out, [x, gamma, beta]


def _batchnorm_rows(dout, x, gamma):
    """cs231n's batchnorm_backward_alt on (rows, C) arrays."""
    n = x.shape[0]
    std = np.sqrt(x.var(axis=0) + EPS)
    xhat = (x - x.mean(axis=0)) / std
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (n * std)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def spatial_batchnorm_backward(dout, x, gamma, beta, slip=None):
    n, c, h, w = x.shape
    right = lambda a: a.transpose(0, 2, 3, 1).reshape(-1, c)     # noqa: E731
    plain = lambda a: a.reshape(-1, c)                           # noqa: E731 - the slip
    if slip == "everywhere":
        dx, dgamma, dbeta = _batchnorm_rows(plain(dout), plain(x), gamma)
        return dx.reshape(n, c, h, w), dgamma, dbeta
    dx, dgamma, dbeta = _batchnorm_rows(right(dout), right(x), gamma)
    if slip == "dgamma from x":
        xf = plain(x)
        dgamma = (right(dout) * (xf - xf.mean(axis=0)) / np.sqrt(xf.var(axis=0) + EPS)).sum(axis=0)
    if slip == "dbeta":
        dbeta = plain(dout).sum(axis=0)
    return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dgamma, dbeta


def test_the_right_spatial_backward_is_torchs():
    rng = np.random.default_rng(3)
    x, gamma, beta, dout = (rng.normal(size=s) for s in ((4, C, 2, 2), (C,), (C,), (4, C, 2, 2)))
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    torch.nn.functional.batch_norm(tx, None, None, tg, tb, training=True, eps=EPS).backward(torch.tensor(dout))
    for got, t in zip(spatial_batchnorm_backward(dout, x, gamma, beta), (tx, tg, tb)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-8, atol=1e-10)
    out, wrt = _spatial_batchnorm()
    assert sg.check_backward(out, wrt, spatial_batchnorm_backward).verdict == "equal"


@pytest.mark.parametrize("slip, param, flat", [
    ("dgamma from x", "gamma", "x.reshape(-1, C)"),
    ("dbeta", "beta", "dout.reshape(-1, C)"),
    ("everywhere", "x", "x.reshape(-1, C) and dout.reshape(-1, C), and dx back with a plain reshape")])
def test_channels_mixed_by_a_plain_reshape_are_named(slip, param, flat):
    out, wrt = _spatial_batchnorm()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: spatial_batchnorm_backward(*a, **k, slip=slip)),
              f"channels mixed by a reshape: the claim for {param} is computed from {flat} — ")
    assert r.counterexample.param == param
    assert "x.transpose(0, 2, 3, 1).reshape(-1, C)" in r.hint


def test_a_plain_batchnorm_gets_no_channel_hint():
    """(N, D) batch norm has no channels to mix: a wrong dgamma there is not given this hint."""
    x, gamma, beta = sg.tensor("x", (N, 4)), sg.tensor("gamma", (4,)), sg.tensor("beta", (4,))
    out = gamma * (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + EPS) + beta

    def backward(dout, x, gamma, beta):
        dx, dgamma, dbeta = _batchnorm_rows(dout, x, gamma)
        return dx, dgamma[::-1] * 1.5, dbeta
    r = wrong(sg.check_backward(out, [x, gamma, beta], backward))
    assert r.hint is None or "channels mixed" not in r.hint


# ---------------------------------------------------------------------------------------------------
# a conv bias: dout (N, F, Ho, Wo) summed over axes (0, 2, 3)


def _conv():
    x, w, b = sg.tensor("x", (N, 2, 6, 5)), sg.tensor("w", (3, 2, 3, 3)), sg.tensor("b", (3,))
    return sg.conv2d(x, w, b, stride=2, padding=1), [b]     # dout (4, 3, 3, 3)


@pytest.mark.parametrize("db, wrote, took", [
    (lambda d: d.sum(axis=(0, 2))[:, 0], "dout.sum(axis=(0, 2))[:, 0]",
     "summed over axes (0, 2), and then only entry 0 of axis 3 kept"),
    (lambda d: d.sum(axis=(0, 3))[:, -1], "dout.sum(axis=(0, 3))[:, -1]",
     "summed over axes (0, 3), and then only the last entry of axis 2 kept"),
    (lambda d: d[0].sum(axis=(1, 2)), "dout.sum(axis=(2, 3))[0]",
     "summed over axes (2, 3), and then only entry 0 of axis 0 kept")])
def test_a_conv_bias_summed_over_the_wrong_axes_and_indexed_is_named(db, wrote, took):
    out, wrt = _conv()
    assert sg.check_backward(out, wrt, lambda dout, x, w, b: dout.sum(axis=(0, 2, 3))).verdict == "equal"
    r = wrong(sg.check_backward(out, wrt, lambda dout, x, w, b: db(dout)),
              f"dout summed over the wrong axes: the claim for b is {wrote} — {took};")
    assert "db = dout.sum(axis=(0, 2, 3)), keeping axis 1" in r.hint


def test_a_conv_bias_wrong_otherwise_gets_no_axes_hint():
    out, wrt = _conv()
    r = wrong(sg.check_backward(out, wrt, lambda dout, x, w, b: dout.sum(axis=(0, 2, 3)) ** 2))
    assert r.hint is None or "wrong axes" not in r.hint


def _spatial_batchnorm_as_cs231n_writes_it():
    """The forward as cs231n's spatial_batchnorm_forward computes it: rows of C channels, batch norm,
    and back."""
    x, gamma, beta = sg.tensor("x", (N, C, 2, 2)), sg.tensor("gamma", (C,)), sg.tensor("beta", (C,))
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out = gamma * (rows - rows.mean(axis=0)) / sp.sqrt(rows.var(axis=0) + EPS) + beta
    return out.reshape(N, 2, 2, C).transpose(0, 3, 1, 2), [x, gamma, beta]


@pytest.mark.parametrize("slip, param", [("dgamma from x", "gamma"), ("dbeta", "beta"), ("everywhere", "x")])
def test_the_same_slips_are_named_when_the_forward_is_declared_through_rows(slip, param):
    out, wrt = _spatial_batchnorm_as_cs231n_writes_it()
    assert sg.check_backward(out, wrt, spatial_batchnorm_backward).verdict == "equal"
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: spatial_batchnorm_backward(*a, **k, slip=slip)),
              f"channels mixed by a reshape: the claim for {param} is computed from ")
    assert r.counterexample.param == param and "x.transpose(0, 2, 3, 1).reshape(-1, C)" in r.hint
