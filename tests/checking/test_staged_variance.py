"""A batch norm declared as cs231n's staged forward computes it — var = ((x - mu)**2).mean(axis=0),
or ((x - mu)**2).sum(axis=0) / N — gets the same norm-layer hints as one declared with x.var(axis=0):
before, the recognisers looked for the Variance node only, and these slips read as a bare "not
equal". The right backward is compared with torch.autograd in float64 first."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.checking.staged_variance import with_variances
from symgrad.frontend.tensor_reduce import Variance

from verdicts import N, wrong

EPS = 1e-5


def bn_backward(dout, x, gamma, beta, slip=None):
    """batchnorm_backward_alt's one line, dx = (1/N) * gamma * istd * (N*dout - Σdout - xhat*Σ(dout*xhat))."""
    n = x.shape[0]
    var = x.var(axis=0)
    istd = 1 / np.sqrt(var + EPS)
    xhat = (x - x.mean(axis=0)) * istd
    first = dout if slip == "N left out" else n * dout
    scale = istd ** 2 if slip == "var for std" else istd
    dx = (1 / n) * gamma * scale * (first - dout.sum(axis=0) - xhat * (dout * xhat).sum(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def _staged(form):
    x, gamma, beta = sg.tensor("x", (N, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,))
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0) if form == "mean" else ((mu - x) ** 2).sum(axis=0) / N
    return gamma * (x - mu) / sp.sqrt(var + EPS) + beta, [x, gamma, beta]


def test_the_right_backward_is_torchs():
    rng = np.random.default_rng(2)
    x, g, b, d = (rng.normal(size=s) for s in ((5, 3), (3,), (3,), (5, 3)))
    ts = [torch.tensor(a, requires_grad=True) for a in (x, g, b)]
    var = ts[0].var(0, unbiased=False)
    (((ts[0] - ts[0].mean(0)) / torch.sqrt(var + EPS) * ts[1] + ts[2]) * torch.tensor(d)).sum().backward()
    for ours, t in zip(bn_backward(d, x, g, b), ts):
        np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("form", ["mean", "sum over N"])
@pytest.mark.parametrize("slip, named", [("N left out", "N left out of dx's first term"),
                                         ("var for std", "var + eps where the std belongs")])
def test_a_staged_variance_gets_the_norm_layers_hints(form, slip, named):
    out, wrt = _staged(form)
    assert sg.check_backward(out, wrt, bn_backward).verdict == "equal"
    wrong(sg.check_backward(out, wrt, lambda *a, **v: bn_backward(*a, **v, slip=slip)), named)


def test_only_a_variance_is_read_as_one():
    x = sg.tensor("x", (4, 3))
    mu = x.mean(axis=0)
    v = with_variances(((x - mu) ** 2).mean(axis=0))
    assert isinstance(v, Variance) and v.x == x and v.axes == (0,) and v.correction == 0
    for other in (((x - mu) ** 2).mean(axis=1),           # the mean over other axes than the deviation's
                  ((x - mu) ** 2).sum(axis=0) / 3,          # divided by 3, not the 4 entries summed
                  ((x - mu) ** 3).mean(axis=0),
                  ((x - x.mean(axis=1, keepdims=True)) ** 2).mean(axis=0)):
        assert not any(isinstance(e, Variance) for e in sp.preorder_traversal(with_variances(other))), other
