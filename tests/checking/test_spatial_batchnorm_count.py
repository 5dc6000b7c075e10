"""Spatial batch norm's backward dividing by N where each channel's statistics average over N * H * W
entries. With the forward declared as cs231n's spatial_batchnorm_forward computes it, through the
rows x.transpose(0, 2, 3, 1).reshape(-1, C), it read as a bare "not equal" (the count hint saw only a
norm of x itself or of x.reshape(...)). The right backward is torch's."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from verdicts import N, wrong

EPS = 1e-5
C, H, W = 3, 3, 2


def _spatial_batchnorm_rows():
    """out = batchnorm of the rows (N*H*W, C), reshaped back to (N, C, H, W)."""
    x, gamma, beta = sg.tensor("x", (N, C, H, W)), sg.tensor("gamma", (C,)), sg.tensor("beta", (C,))
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out = gamma * (rows - rows.mean(axis=0)) / sp.sqrt(rows.var(axis=0) + EPS) + beta
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), [x, gamma, beta]


def spatial_batchnorm_backward(dout, x, gamma, beta, count_n=False):
    """cs231n's spatial_batchnorm_backward through batchnorm_backward_alt on the rows; ``count_n``:
    the count taken as N = x.shape[0] (the slip) where the rows are N * H * W."""
    n, c, h, w = x.shape
    xr, dr = (a.transpose(0, 2, 3, 1).reshape(-1, c) for a in (x, dout))
    m = n if count_n else xr.shape[0]
    std = np.sqrt(xr.var(axis=0) + EPS)
    xhat = (xr - xr.mean(axis=0)) / std
    dxhat = dr * gamma
    dx = (m * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (m * std)
    return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), (dr * xhat).sum(axis=0), dr.sum(axis=0)


def test_the_right_backward_is_torchs():
    rng = np.random.default_rng(8)
    x, gamma, beta, dout = (rng.normal(size=s) for s in ((4, C, H, W), (C,), (C,), (4, C, H, W)))
    ts = [torch.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    torch.nn.functional.batch_norm(ts[0], None, None, ts[1], ts[2], training=True, eps=EPS).backward(torch.tensor(dout))
    for got, t in zip(spatial_batchnorm_backward(dout, x, gamma, beta), ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-8, atol=1e-10)
    out, wrt = _spatial_batchnorm_rows()
    assert sg.check_backward(out, wrt, spatial_batchnorm_backward).verdict == "equal"


@pytest.mark.parametrize("declared", ["rows", "axes (0, 2, 3)"])
def test_a_count_of_n_where_n_h_w_belongs_is_named(declared):
    if declared == "rows":
        out, wrt = _spatial_batchnorm_rows()
    else:
        x, gamma, beta = sg.tensor("x", (N, C, H, W)), sg.tensor("gamma", (C,)), sg.tensor("beta", (C,))
        ax = dict(axis=(0, 2, 3), keepdims=True)
        out = (gamma.reshape(1, C, 1, 1) * (x - x.mean(**ax)) / sp.sqrt(x.var(**ax) + EPS)
               + beta.reshape(1, C, 1, 1))
        wrt = [x, gamma, beta]
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: spatial_batchnorm_backward(*a, **k, count_n=True)),
              "wrong count in dx: the claim divides by 4 (x.shape[0]) where the mean and variance average over 24 entries")
    assert "N where N * H * W belongs" in r.hint
    assert ("the rows of x.transpose(0, 2, 3, 1)" in r.hint) == (declared == "rows")


def _declared(declared, h, w):
    x, gamma, beta = sg.tensor("x", (N, C, h, w)), sg.tensor("gamma", (C,)), sg.tensor("beta", (C,))
    if declared == "rows":
        rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
        out = gamma * (rows - rows.mean(axis=0)) / sp.sqrt(rows.var(axis=0) + EPS) + beta
        return out.reshape(N, h, w, C).transpose(0, 3, 1, 2), [x, gamma, beta]
    ax = dict(axis=(0, 2, 3), keepdims=True)
    return (gamma.reshape(1, C, 1, 1) * (x - x.mean(**ax)) / sp.sqrt(x.var(**ax) + EPS)
            + beta.reshape(1, C, 1, 1)), [x, gamma, beta]


def _counted(count):
    """spatial_batchnorm_backward with the count taken as N, or as H * W (one example's positions)."""
    def backward(dout, x, gamma, beta):
        n, c, h, w = x.shape
        xr, dr = (a.transpose(0, 2, 3, 1).reshape(-1, c) for a in (x, dout))
        m = n if count == "N" else h * w
        std = np.sqrt(xr.var(axis=0) + EPS)
        xhat = (xr - xr.mean(axis=0)) / std
        dxhat = dr * gamma
        dx = (m * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (m * std)
        return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), (dr * xhat).sum(axis=0), dr.sum(axis=0)
    return backward


@pytest.mark.parametrize("declared", ["rows", "axes (0, 2, 3)"])
@pytest.mark.parametrize("count, named", [
    ("N", "divides by 4 (x.shape[0]) where the mean and variance average over 16 entries"),
    ("H*W", "divides by 4 (x.shape[2] * x.shape[3]) where the mean and variance average over 16 entries")])
def test_a_count_of_n_or_h_w_is_told_apart_where_the_check_draws_them_equal(declared, count, named):
    """H = W = 2 and the check's N = 4: a count of 4 is N or H * W. The hint said N for both; now the
    claim is asked again at N = 5, where the two differ, and the one it is is named."""
    out, wrt = _declared(declared, 2, 2)
    r = wrong(sg.check_backward(out, wrt, _counted(count)), "wrong count in dx: the claim " + named)
    said = "N where N * H * W belongs" if count == "N" else "H * W where N * H * W belongs"
    assert said in r.hint and ("N where" in r.hint) == (count == "N"), r.hint
