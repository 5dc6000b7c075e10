"""More of a cs231n student's batch norm slips in `sg.check_backward`: dgamma written as dbeta's
dout.sum(axis=0) (a copied line), dgamma and dbeta returned swapped, and dx without the mean's path.
The right backward is checked against torch.autograd (float64) first, so that each slip is wrong
by construction."""
from __future__ import annotations

import numpy as np
import torch

import symgrad as sg

from test_student_trial import EPS, _batchnorm, batchnorm_backward_alt
from verdicts import wrong


def _torch_batchnorm(x, gamma, beta, dout):
    ts = [torch.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    xt, g, b = ts
    mu, var = xt.mean(0), xt.var(0, unbiased=False)
    (g * (xt - mu) / torch.sqrt(var + EPS) + b).backward(torch.tensor(dout))
    return [t.grad.numpy() for t in ts]


def test_the_right_backward_is_torchs():
    rng = np.random.default_rng(4)
    x, gamma, beta, dout = (rng.normal(size=s) for s in ((6, 4), (4,), (4,), (6, 4)))
    for got, want in zip(batchnorm_backward_alt(dout, x, gamma, beta), _torch_batchnorm(x, gamma, beta, dout)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_dgamma_written_as_dbetas_sum_is_named():
    out, wrt = _batchnorm()

    def copied(dout, x, gamma, beta):
        dx, dgamma, dbeta = batchnorm_backward_alt(dout, x, gamma, beta)
        return dx, dout.sum(axis=0), dbeta               # dgamma = np.sum(dout, axis=0), as dbeta
    r = wrong(sg.check_backward(out, wrt, copied),
              "another variable's gradient: the claim for gamma is ∂f/∂beta")
    assert r.counterexample.param == "gamma" and "(x, gamma, beta)" in r.hint


def test_dgamma_and_dbeta_returned_swapped_is_named():
    out, wrt = _batchnorm()

    def swapped(dout, x, gamma, beta):
        dx, dgamma, dbeta = batchnorm_backward_alt(dout, x, gamma, beta)
        return dx, dbeta, dgamma
    r = wrong(sg.check_backward(out, wrt, swapped), "gradients swapped: the claim for")
    assert "∂f/∂beta" in r.hint and "∂f/∂gamma" in r.hint
    assert "wrt's order (x, gamma, beta)" in r.hint


def test_dx_without_the_means_path_is_a_missing_path():
    out, wrt = _batchnorm()

    def no_mean_path(dout, x, gamma, beta):
        n = x.shape[0]
        xmu = x - x.mean(axis=0)
        std = np.sqrt((xmu ** 2).mean(axis=0) + EPS)
        dxhat = dout * gamma
        dvar = (dxhat * xmu).sum(axis=0) * -0.5 * std ** -3
        dx = dxhat / std + dvar * 2 * xmu / n            # the mean's path (dmu) left out
        return dx, (dout * xmu / std).sum(axis=0), dout.sum(axis=0)
    r = wrong(sg.check_backward(out, wrt, no_mean_path), "fan-out")
    assert r.counterexample.param == "x" and "x.mean(axis=0)" in r.hint


def test_a_right_backward_is_not_given_the_hint():
    out, wrt = _batchnorm()
    assert sg.check_backward(out, wrt, batchnorm_backward_alt)
