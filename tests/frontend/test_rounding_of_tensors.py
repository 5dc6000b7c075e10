"""``sp.floor`` / ``sp.ceiling`` / ``sp.frac`` of a tensor (2026-11-30, tenth session).
``sp.floor(z)`` of an ``sg.tensor`` was silently 0: SymPy's floor asks whether ``(I*z).is_real`` to
take an imaginary part apart, and ``I*z`` was an elementwise tensor expression, which says it is
real — so z counted as imaginary and floor(z) became floor(im z)·I = 0. And once built, floor had no
derivative ("SymPy left Derivative(floor(a0), a0)"), so the straight-through estimator
``x + stop_gradient(floor(x) − x)`` (quantisation-aware training, VQ) did not differentiate.
Now floor and ceiling are steps (derivative 0 almost everywhere, as Heaviside and sign), frac's
derivative is 1; compared with torch.autograd in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize("f", [sp.floor, sp.ceiling, sp.frac])
def test_rounding_of_a_tensor_is_kept(f):
    z = sg.tensor("z", (N, 3))
    e = f(z)
    assert type(e) is f and e.args == (z,) and e.shape == (N, 3)
    assert f(2 * z + 1).shape == (N, 3) and f(sg.tanh(z)) != 0


def test_straight_through_estimator_matches_torch():
    rng = np.random.default_rng(7)
    z, w = sg.tensor("z", (N, 3)), sg.tensor("w", (3,))
    q = z * w
    ste = q + sg.stop_gradient(sp.floor(q) - q)
    loss = (ste ** 2).sum(axis=1).mean() + sp.ceiling(q).mean() + sp.frac(q).mean()

    def twin(t, d):
        q = d["z"] * t["w"]
        ste = q + (torch.floor(q) - q).detach()
        return (ste ** 2).sum(1).mean() + torch.ceil(q).mean() + (q - torch.floor(q)).mean()
    # torch.autograd only: the estimator is not the derivative of the loss's values, so central
    # differences (0 between the jumps) do not check it
    wv, zv = np.array([0.5, 1.3, -2.0]), 3 * rng.normal(size=(5, 3))
    prog = sg.compile(loss, [w], [z], dtype="float64")
    t = torch.tensor(wv, requires_grad=True)
    want = twin({"w": t}, {"z": torch.tensor(zv)})
    want.backward()
    assert prog.loss({"w": wv}, {"z": zv}) == pytest.approx(want.item(), abs=1e-12)
    np.testing.assert_allclose(prog.grad({"w": wv}, {"z": zv})["w"], t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_scalar_rounding_derivatives():
    x = sp.Symbol("x")
    assert sg.grad(sp.floor(x) ** 2 + sp.ceiling(3 * x), x) == 0
    assert sg.grad(sp.frac(2 * x), x) == 2
