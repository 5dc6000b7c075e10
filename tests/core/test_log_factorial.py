"""log(y!) of a Poisson likelihood, written sp.log(sp.factorial(y)), lowers as loggamma(y + 1)
(2026-12-01, eleventh session): both printers refused factorial ("the NumPy target has no form for
factorial"), though loggamma(y + 1) is the same value for y > −1 and both print it. Checked
against torch's lgamma and autograd, and scipy's gammaln."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.core.lower import lower

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


def _poisson_nll(log_term):
    x, y, w = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("w", (3,))
    rate = sp.exp(x @ w)
    return (rate - y * sp.log(rate) + log_term(y)).sum() / N, w, x, y


def test_the_lowered_graph_holds_loggamma_of_y_plus_one_and_no_factorial():
    nll, w, x, y = _poisson_nll(lambda y: sp.log(sp.factorial(y)))
    graph, _, out = lower(nll)
    bodies = [q.params[0] for q in graph.ancestors([out]) if q.prim.name == "ewise"]
    assert not any(b.has(sp.factorial) for b in bodies)
    assert any(b.has(sp.loggamma) for b in bodies)


def test_compiled_poisson_nll_with_log_factorial_matches_torch():
    nll, w, x, y = _poisson_nll(lambda y: sp.log(sp.factorial(y)))
    prog = sg.compile(nll, [w], [x, y], dtype="float64")
    X = np.array([[0.1, 0.2, 0.3], [1.0, -1.0, 0.5], [-0.4, 0.7, 0.2]])
    Y, W = np.array([2.0, 0.0, 5.0]), np.array([0.5, 0.1, -0.2])
    tw = torch.tensor(W, requires_grad=True)
    tX, tY = torch.tensor(X), torch.tensor(Y)
    eta = tX @ tw
    want = (torch.exp(eta) - tY * eta + torch.lgamma(tY + 1)).mean()
    want.backward()
    assert prog.loss({"w": W}, {"x": X, "y": Y}) == pytest.approx(want.item(), rel=1e-13)
    got = sg.numeric(sg.grad(nll, w), {"x": X, "y": Y, "w": W})
    np.testing.assert_allclose(np.asarray(got, dtype=float).ravel(), tw.grad.numpy(), rtol=1e-12)


def test_log_factorial_of_a_scalar_is_scipys_gammaln_of_y_plus_one():
    special = pytest.importorskip("scipy.special")
    s = sp.Symbol("s", positive=True)
    for v in (0.0, 0.5, 3.0, 40.0):
        got = sg.numeric(sp.log(sp.factorial(s)), {s: v})
        assert float(got) == pytest.approx(special.gammaln(v + 1), rel=1e-13, abs=1e-15)
