"""log(softmax(z)) read as log_softmax(z) in sg.grad and sg.numeric (2026-11-30, ninth session):
``sg.nll_loss(sg.log(sg.softmax(z, axis=1)), y)``, ``-(t * sg.log(sg.softmax(z)))`` and an entropy
``-(p * sg.log(p))`` were an infinite loss and NaN gradients once a logit was ~800 below the
largest (the softmax underflows to 0); torch's log_softmax is finite there, and so are these now.
Compared with torch.autograd's F.log_softmax in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)

X = np.array([[1.0, 0.0, 0.5], [-1.0, 0.3, 0.0], [0.2, 1.0, -0.4]])
W0 = np.array([[300.0, 0.0, 0.1, -600.0], [0.0, 1.0, 0.0, 0.0], [-700.0, 0.0, 0.0, 2.0]])   # logits ±1000
Y = np.array([3, 1, 0])
T = np.array([[0.0, 0.0, 0.5, 0.5], [1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])

x, W = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 4))
y, t = sg.tensor("y", (N,), integer=True), sg.tensor("t", (N, 4))
z = x @ W
p = sg.softmax(z, axis=1)
CASES = {
    "nll of log softmax": (sg.nll_loss(sg.log(p), y),
                           lambda Wt: F.nll_loss(F.log_softmax(torch.tensor(X) @ Wt, 1), torch.tensor(Y))),
    "soft target, sp.log": (-sg.sum(t * sp.log(p)) / N,
                            lambda Wt: -(torch.tensor(T) * F.log_softmax(torch.tensor(X) @ Wt, 1)).sum() / 3),
    "entropy": (-sg.sum(p * sg.log(p)),
                lambda Wt: -(F.softmax(torch.tensor(X) @ Wt, 1) * F.log_softmax(torch.tensor(X) @ Wt, 1)).sum()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_of_softmax_is_finite_where_torchs_log_softmax_is(name):
    loss, twin = CASES[name]
    Wt = torch.tensor(W0, requires_grad=True)
    want = twin(Wt)
    want.backward()
    vals = {"x": X, "W": W0, "y": Y, "t": T}
    assert np.isfinite(want.item()) and np.all(np.isfinite(Wt.grad.numpy()))
    assert abs(sg.numeric(loss, vals) - want.item()) <= 1e-12 * max(1, abs(want.item()))
    np.testing.assert_allclose(sg.numeric(sg.grad(loss, W), vals), Wt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_the_matrix_language_too():
    Wm, xm, tm = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("t", 3, 1)
    loss = -sg.sum(sp.HadamardProduct(tm, sg.log(sg.softmax(Wm * xm))))
    vals = {"W": np.array([[1000.0, 0], [0, 0], [-1000.0, 0]]), "x": np.array([[1.0], [0.5]]),
            "t": np.array([[0.0], [0.5], [0.5]])}
    Wt = torch.tensor(vals["W"], requires_grad=True)
    want = -(torch.tensor(vals["t"][:, 0]) * F.log_softmax(Wt @ torch.tensor(vals["x"][:, 0]), 0)).sum()
    want.backward()
    assert abs(sg.numeric(loss, vals) - want.item()) < 1e-9
    np.testing.assert_allclose(sg.numeric(sg.grad(loss, Wm), vals), Wt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_derive_keeps_the_softmax_the_user_wrote():
    """The derivation teaches softmax → log: its steps still go through the softmax."""
    d = sg.derive(-sg.sum(t * sg.log(p)) / N, [W])
    assert "softmax" in str(d) and "log(" in str(d)
