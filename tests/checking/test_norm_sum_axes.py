"""A norm layer's one-line dx with its two sums over other axes than the forward's statistics — a
layer norm's backward made from batch norm's with the sums left at axis 0, or the reverse — is named
"dx's sums over the wrong axes" (it read as a bare "not equal"). The right backward is compared with
torch.autograd in float64 first."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

from norm_reference import torch_norm_grads
from verdicts import N, wrong

EPS = 1e-5


def norm_backward(dout, x, gamma, beta, axis, sum_axis=None, count_axis=None):
    """layernorm_backward (axis 1) or batchnorm_backward_alt (axis 0); the sums (and count) of dx over
    ``sum_axis`` (``count_axis``) where a slip puts them."""
    sa = axis if sum_axis is None else sum_axis
    n = x.shape[sa if count_axis is None else count_axis]
    std = np.sqrt(x.var(axis=axis, keepdims=True) + EPS)
    xhat = (x - x.mean(axis=axis, keepdims=True)) / std
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(axis=sa, keepdims=True) - xhat * (dxhat * xhat).sum(axis=sa, keepdims=True)) / (n * std)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def _layer(axis):
    x, gamma, beta = sg.tensor("x", (N, 4)), sg.tensor("gamma", (4,)), sg.tensor("beta", (4,))
    mu, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True)
    return gamma * (x - mu) / sp.sqrt(var + EPS) + beta, [x, gamma, beta]


@pytest.mark.parametrize("axis", [0, 1], ids=["batchnorm", "layernorm"])
def test_the_right_backward_is_torchs(axis):
    rng = np.random.default_rng(5)
    x, g, b, d = (rng.normal(size=s) for s in ((5, 4), (4,), (4,), (5, 4)))
    for ours, t in zip(norm_backward(d, x, g, b, axis), torch_norm_grads(x, g, b, d, axis, EPS)):
        np.testing.assert_allclose(ours, t, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("axis, count_axis", [(1, None), (1, 1), (0, None)],
                         ids=["layernorm-from-batchnorm", "layernorm-count-kept", "batchnorm-from-layernorm"])
def test_dx_summed_over_the_other_axis_is_named(axis, count_axis):
    out, wrt = _layer(axis)
    assert sg.check_backward(out, wrt, lambda *a, **v: norm_backward(*a, **v, axis=axis)).verdict == "equal"
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: norm_backward(*a, **v, axis=axis, sum_axis=1 - axis,
                                                                        count_axis=count_axis)),
              "dx's sums over the wrong axes")
    assert f"dxhat.sum(axis={1 - axis})" in r.hint and f"dxhat.sum(axis={axis}, keepdims=True)" in r.hint
    assert f"n = {5 if axis == 1 and count_axis is None else 4}" in r.hint   # N = 5 drawn, D = 4


def test_the_whole_layer_over_the_other_axes_keeps_its_own_hint():
    out, wrt = _layer(1)
    wrong(sg.check_backward(out, wrt, lambda *a, **v: norm_backward(*a, **v, axis=0)), "normalisation axes swapped")


def batchnorm_backward_one_line(dout, x, gamma, beta, sum_axis=0):
    """dx = (1/N) * gamma * istd * (N*dout - dout.sum(0) - xhat*(dout*xhat).sum(0)); gamma taken out of
    the sums, which is right only while the sums run along the axis gamma is constant on."""
    n = x.shape[0]
    istd = 1 / np.sqrt(x.var(axis=0) + EPS)
    xhat = (x - x.mean(axis=0)) * istd
    keep = dict(axis=sum_axis, keepdims=True)
    dx = (1 / n) * gamma * istd * (n * dout - dout.sum(**keep) - xhat * (dout * xhat).sum(**keep))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


@pytest.mark.parametrize("sum_axis, written", [(None, "dout.sum()"), (1, "dout.sum(axis=1)")])
def test_the_one_line_form_with_gamma_outside_is_named_too(sum_axis, written):
    out, wrt = _layer(0)
    assert sg.check_backward(out, wrt, batchnorm_backward_one_line).verdict == "equal"
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: batchnorm_backward_one_line(*a, **v, sum_axis=sum_axis)),
              "dx's sums over the wrong axes: the claim is dx = gamma * (n * dout - " + written)
    assert "dout.sum(axis=0, keepdims=True)" in r.hint and "n = 5" in r.hint


def batchnorm_backward_no_axis(dout, x, gamma, beta, everywhere=False):
    """The one-line dx with the backward's mean and variance taken with no axis= (x.mean(), x.var());
    ``everywhere``: its sums and count too (the whole layer over every entry)."""
    n = x.size if everywhere else x.shape[0]
    istd = 1 / np.sqrt(x.var() + EPS)
    xhat = (x - x.mean()) * istd
    if everywhere:                        # with dxhat = dout * gamma inside the sums, as the gradient of such a layer
        dxhat = dout * gamma
        dx = istd * (n * dxhat - dxhat.sum() - xhat * (dxhat * xhat).sum()) / n
    else:
        dx = (1 / n) * gamma * istd * (n * dout - dout.sum(axis=0) - xhat * (dout * xhat).sum(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def test_the_backwards_statistics_with_no_axis_are_named():
    out, wrt = _layer(0)
    r = wrong(sg.check_backward(out, wrt, batchnorm_backward_no_axis),
              "the backward's statistics over every entry: the claim is dx with the mean and variance")
    assert "where the forward takes them over axis 0: mu = x.mean(axis=0, keepdims=True)" in r.hint


def test_the_whole_layer_over_every_entry_is_named():
    out, wrt = _layer(0)
    wrong(sg.check_backward(out, wrt, lambda *a, **v: batchnorm_backward_no_axis(*a, **v, everywhere=True)),
          "statistics over every entry: the claim is the gradient of f with its mean and variance taken over "
          "all of x's entries")
