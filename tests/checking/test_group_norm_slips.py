"""cs231n's spatial group norm, forward declared and backward checked: the right backward (torch's)
is equal; a dgamma without keepdims, a dbeta summed over the batch only, dx with another count than
the C/G·H·W entries a group's statistics average over, and dx without the variance's term are named
as what they are."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from verdicts import N, wrong

EPS = 1e-5
C, G, H, W = 4, 2, 2, 3


def _group_norm():
    x = sg.tensor("x", (N, C, H, W))
    gamma, beta = sg.tensor("gamma", (1, C, 1, 1)), sg.tensor("beta", (1, C, 1, 1))
    xg = x.reshape(N, G, C // G, H, W)
    axes = (2, 3, 4)
    xhat = ((xg - xg.mean(axis=axes, keepdims=True)) / sp.sqrt(xg.var(axis=axes, keepdims=True) + EPS))
    return gamma * xhat.reshape(N, C, H, W) + beta, [x, gamma, beta]


def spatial_groupnorm_backward(dout, x, gamma, beta, slip=None):
    n = x.shape[0]
    xg = x.reshape(n, G, -1)
    std = np.sqrt(xg.var(axis=2, keepdims=True) + EPS)
    xhat = (xg - xg.mean(axis=2, keepdims=True)) / std
    dgamma = (dout * xhat.reshape(x.shape)).sum(axis=(0, 2, 3), keepdims=slip != "dgamma keepdims")
    dbeta = dout.sum(axis=0, keepdims=True) if slip == "dbeta axis 0" else dout.sum(axis=(0, 2, 3), keepdims=True)
    dxhat = (dout * gamma).reshape(n, G, -1)
    m = {"count C": x.shape[1], "count N": n}.get(slip, dxhat.shape[2])
    ax = 1 if slip == "sums over the groups" else 2
    var_term = 0 if slip == "no variance term" else xhat * (dxhat * xhat).sum(axis=ax, keepdims=True)
    dx = (m * dxhat - dxhat.sum(axis=ax, keepdims=True) - var_term) / (m * std)
    return dx.reshape(x.shape), dgamma, dbeta


def test_the_right_group_norm_backward_is_torchs():
    rng = np.random.default_rng(9)
    x, dout = rng.normal(size=(5, C, H, W)), rng.normal(size=(5, C, H, W))
    gamma, beta = rng.normal(size=(1, C, 1, 1)), rng.normal(size=(1, C, 1, 1))
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    torch.nn.functional.group_norm(tx, G, tg.reshape(C), tb.reshape(C), eps=EPS).backward(torch.tensor(dout))
    for got, t in zip(spatial_groupnorm_backward(dout, x, gamma, beta), (tx, tg, tb)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-8, atol=1e-10)
    out, wrt = _group_norm()
    assert sg.check_backward(out, wrt, spatial_groupnorm_backward).verdict == "equal"


def _slipped(slip):
    out, wrt = _group_norm()
    return sg.check_backward(out, wrt, lambda *a, **k: spatial_groupnorm_backward(*a, **k, slip=slip))


def test_dgamma_without_keepdims_is_not_called_an_extra_axis():
    r = wrong(_slipped("dgamma keepdims"), "axes of length 1 dropped: the claim has the right values but shape (4,)")
    assert "keepdims=True" in r.hint and "extra axis" not in r.hint


def test_dbeta_summed_over_the_batch_only_names_both_sets_of_axes():
    r = wrong(_slipped("dbeta axis 0"), "shape")
    assert ("it is dout summed over axis 0, keeping axes (1, 2, 3); the gradient is dout summed over "
            "axes (0, 2, 3), keeping axis 1, beta's") in r.hint


@pytest.mark.parametrize("slip, m, size", [("count C", 4, "x.shape[1]"), ("count N", 5, "x.shape[0]")])
def test_dx_with_another_count_is_named(slip, m, size):
    r = wrong(_slipped(slip), f"wrong count in dx: the claim divides by {m} ({size}) where the mean and "
                              f"variance average over 12 entries (2 · 2 · 3, the grouped axes (2, 3, 4)")


def test_dx_without_the_variance_term_is_not_called_the_means():
    """The path's labels are cut at 40 characters: the square of the group's x − μ was cut off, and
    the term was named as the mean's."""
    r = wrong(_slipped("no variance term"), "fan-out")
    assert "the variance's term - xhat * (dxhat * xhat).mean(...)" in r.hint
    assert "the mean's term" not in r.hint


def test_dx_summed_over_the_groups_axis_is_named():
    """dxhat.sum(axis=1) of the (N, G, -1) arrays, where the statistics' axis 2 belongs."""
    r = _slipped("sums over the groups")
    assert r.verdict == "not equal" and r.hint.startswith("dx's sums over the wrong axes"), r.hint
    assert "dxhat.sum(axis=1)" in r.hint and "of x.reshape(" in r.hint
