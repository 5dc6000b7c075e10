"""Two slips of a norm layer's one-line dx (cs231n's batchnorm_backward_alt, layernorm_backward) that
read "not equal" with a named hint: dx divided by var + eps where np.sqrt(var + eps) belongs, and
dxhat's own term written without its N. The right backward is checked against torch.autograd in
float64 first, so that each slip is wrong by construction."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

from norm_reference import torch_norm_grads
from verdicts import N, wrong

EPS = 1e-5


def norm_backward(dout, x, gamma, beta, axis, slip=None):
    """batchnorm_backward_alt (axis 0) and layernorm_backward (axis 1), with a slip on dx's line."""
    n = x.shape[axis]
    var = x.var(axis=axis, keepdims=True)
    std = np.sqrt(var + EPS)
    xhat = (x - x.mean(axis=axis, keepdims=True)) / std
    dxhat = dout * gamma
    first = dxhat if slip == "N left out" else n * dxhat
    denom = n * (var + EPS if slip == "var for std" else 1 if slip == "std left out" else std)
    sums = dxhat.sum(axis=axis, keepdims=True), (dxhat * xhat).sum(axis=axis, keepdims=True)
    dx = (first - sums[0] - xhat * sums[1]) / denom
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def _layer(axis, keepdims=True):
    """The norm layer over ``axis``; batch norm's statistics also without keepdims, as cs231n's."""
    x, gamma, beta = sg.tensor("x", (N, 4)), sg.tensor("gamma", (4,)), sg.tensor("beta", (4,))
    mu, var = x.mean(axis=axis, keepdims=keepdims), x.var(axis=axis, keepdims=keepdims)
    return gamma * (x - mu) / sp.sqrt(var + EPS) + beta, [x, gamma, beta]


def _backward(axis, slip=None):
    return lambda *a, **v: norm_backward(*a, **v, axis=axis, slip=slip)


@pytest.mark.parametrize("axis", [0, 1], ids=["batchnorm", "layernorm"])
def test_the_right_backward_is_torchs(axis):
    rng = np.random.default_rng(7)
    x, g, b, d = (rng.normal(size=s) for s in ((5, 4), (4,), (4,), (5, 4)))
    for ours, t in zip(norm_backward(d, x, g, b, axis), torch_norm_grads(x, g, b, d, axis, EPS)):
        np.testing.assert_allclose(ours, t, rtol=1e-9, atol=1e-12)
    out, wrt = _layer(axis)
    assert sg.check_backward(out, wrt, _backward(axis)).verdict == "equal"


@pytest.mark.parametrize("axis, keepdims", [(0, True), (0, False), (1, True)],
                         ids=["batchnorm", "batchnorm-no-keepdims", "layernorm"])
def test_dx_divided_by_var_plus_eps_for_std_is_named(axis, keepdims):
    out, wrt = _layer(axis, keepdims)
    r = wrong(sg.check_backward(out, wrt, _backward(axis, "var for std")),
              "var + eps where the std belongs: dx is divided by var + eps where std = np.sqrt(var + eps)")
    assert r.counterexample.param == "x"
    assert f"dx = (...) / ({'N' if axis == 0 else 'D'} * std)" in r.hint


@pytest.mark.parametrize("keepdims", [True, False])
def test_dxhats_term_without_N_is_named(keepdims):
    out, wrt = _layer(0, keepdims)
    r = wrong(sg.check_backward(out, wrt, _backward(0, "N left out")),
              "N left out of dx's first term: write N * dxhat")
    assert "dx = (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (N * std)" in r.hint
    assert r.counterexample.param == "x"


def test_layernorms_term_without_D_is_named_with_its_axis():
    out, wrt = _layer(1)
    r = wrong(sg.check_backward(out, wrt, _backward(1, "N left out")), "D left out of dx's first term")
    assert "dxhat.sum(axis=1, keepdims=True)" in r.hint


@pytest.mark.parametrize("k", [0.5, 2.0])
def test_another_wrong_dx_is_not_given_these_hints(k):
    """dxhat's term with another factor than 1 (or N) is another slip: neither hint fits."""
    out, wrt = _layer(0)

    def backward(dout, x, gamma, beta):
        dx, dgamma, dbeta = norm_backward(dout, x, gamma, beta, 0)
        std = np.sqrt(x.var(axis=0) + EPS)
        return dx + (k - 1) * dout * gamma / std, dgamma, dbeta
    r = wrong(sg.check_backward(out, wrt, backward))
    assert r.hint is None or not any(s in r.hint for s in ("left out of dx's first term", "var + eps"))


@pytest.mark.parametrize("axis", [0, 1], ids=["batchnorm", "layernorm"])
def test_dx_not_divided_by_std_is_named(axis):
    out, wrt = _layer(axis)
    r = wrong(sg.check_backward(out, wrt, _backward(axis, "std left out")), "std left out of dx")
    assert f"dx = (...) / ({'N' if axis == 0 else 'D'} * std)" in r.hint
