"""A graph layer's mean aggregation and degrees as torch writes them (thirteenth session):
``x.index_reduce(0, dst, msg, "mean", include_self=)``, ``x.scatter_reduce(0, dst.unsqueeze(-1)
.expand_as(msg), msg, "sum" | "mean", include_self=)`` and ``torch.bincount(dst, minlength=N)`` were
AttributeErrors. Values and gradients against torch in float64, with a node no edge reaches; one
compiled to the NumPy target."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

pytestmark = pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")

N = sp.Symbol("N", integer=True, positive=True)
E = sp.Symbol("E", integer=True, positive=True)
RNG = np.random.default_rng(11)
DST = np.array([0, 2, 0, 3, 2, 0])            # node 1 gets no message
M, X = RNG.normal(size=(6, 3)), RNG.normal(size=(4, 3))


def _both(spell, reduce, include_self):
    m, x, dst = sg.tensor("m", (E, 3)), sg.tensor("x", (N, 3)), sg.tensor("dst", (E,), integer=True)
    tm, tx, td = (torch.tensor(M, requires_grad=True), torch.tensor(X, requires_grad=True), torch.tensor(DST))
    if spell == "index_reduce":
        f = x.index_reduce(0, dst, m, reduce, include_self=include_self)
        t = tx.index_reduce(0, td, tm, reduce, include_self=include_self)
    else:
        f = x.scatter_reduce(0, dst.unsqueeze(-1).expand_as(m), m, reduce, include_self=include_self)
        t = tx.scatter_reduce(0, td.unsqueeze(-1).expand_as(tm), tm, reduce, include_self=include_self)
    return (m, x, f), (tm, tx, t)


@pytest.mark.parametrize("spell, reduce", [("index_reduce", "mean"), ("scatter_reduce", "mean"),
                                           ("scatter_reduce", "sum")])
@pytest.mark.parametrize("include_self", [True, False])
def test_values_and_gradients_as_torch(spell, reduce, include_self):
    (m, x, f), (tm, tx, t) = _both(spell, reduce, include_self)
    w = RNG.normal(size=(4, 3))
    at = {"m": M, "x": X, "dst": DST, "w": w}
    np.testing.assert_allclose(sg.numeric(f, at), t.detach().numpy(), rtol=1e-13)
    (t * torch.tensor(w)).sum().backward()
    gm, gx = sg.grad((f * sg.tensor("w", (N, 3))).sum(), [m, x])
    np.testing.assert_allclose(sg.numeric(gm, at), tm.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sg.numeric(gx, at), tx.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_bincount_as_torch_and_a_compiled_mean_aggregation():
    dst = sg.tensor("dst", (E,), integer=True)
    np.testing.assert_array_equal(sg.numeric(sg.bincount(dst, minlength=N), {"dst": DST, N: 5}),
                                  torch.bincount(torch.tensor(DST), minlength=5).numpy())
    np.testing.assert_allclose(sg.numeric(dst.bincount(weights=sg.tensor("w", (E,)), minlength=4),
                                          {"dst": DST, "w": M[:, 0]}),
                               torch.bincount(torch.tensor(DST), weights=torch.tensor(M[:, 0]), minlength=4).numpy())
    W, x = sg.tensor("W", (3, 3)), sg.tensor("x", (N, 3))
    src = sg.tensor("src", (E,), integer=True)
    h = sg.zeros((N, 3)).index_reduce(0, dst, x[src] @ W, "mean", include_self=False)
    prog = sg.compile((sg.tanh(h) ** 2).mean(), params=[W], inputs=[x, src, dst], dtype="float64")
    Wv, S = RNG.normal(size=(3, 3)), np.array([1, 0, 3, 2, 1, 1])
    tW = torch.tensor(Wv, requires_grad=True)
    th = torch.zeros(4, 3, dtype=torch.float64).index_reduce(0, torch.tensor(DST), torch.tensor(X)[S] @ tW, "mean",
                                                            include_self=False)
    want = (torch.tanh(th) ** 2).mean()
    want.backward()
    data = {"x": X, "src": S, "dst": DST}
    assert np.isclose(prog.loss({"W": Wv}, data), want.item(), rtol=1e-12)
    np.testing.assert_allclose(prog.grad({"W": Wv}, data)["W"], tW.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_refusals_name_what_is_taken():
    x, m, dst = sg.tensor("x", (N, 3)), sg.tensor("m", (E, 3)), sg.tensor("dst", (E,), integer=True)
    with pytest.raises(sg.ArgumentError, match="reduce='amax' is not supported; 'sum' and 'mean'"):
        x.index_reduce(0, dst, m, "amax")
    with pytest.raises(sg.ArgumentError, match="minlength="):
        sg.bincount(dst)
    with pytest.raises(sg.ArgumentError, match="in place"):
        x.index_reduce_(0, dst, m, "mean")
