"""sg.prod / sg.cumprod and x.prod(), x.cumprod() as NumPy's and torch's (2026-12-01, twelfth
session: AttributeErrors) — NeRF's transmittance cumprod(1 - alpha), a product with zero entries
(the gradient the product rule's, not prod/x) — against torch.autograd in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
rng = np.random.default_rng(13)


def _compare(f_sg, f_torch, xv):
    """Values, and the gradient of Σ f ⊙ c for a random c (each output entry weighted differently)."""
    x = sg.tensor("x", xv.shape)
    f = f_sg(x)
    t = torch.tensor(xv, requires_grad=True)
    want = f_torch(t)
    assert tuple(f.shape) == tuple(want.shape)
    np.testing.assert_allclose(np.asarray(sg.numeric(f, {x: xv}), float), want.detach().numpy(), rtol=1e-12)
    cv = rng.normal(size=tuple(want.shape))
    c = sg.tensor("c", tuple(want.shape)) if want.dim() else sp.Symbol("c")
    (want * torch.tensor(cv)).sum().backward()
    g = sg.grad(sg.sum(f * c), x)
    np.testing.assert_allclose(np.asarray(sg.numeric(g, {x: xv, c: cv if want.dim() else float(cv)}), float),
                               t.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"dim": -1, "keepdim": True}])
def test_prod_as_torchs_with_a_zero_entry(kw):
    xv = rng.normal(size=(3, 4))
    xv[1, 2] = 0.0
    _compare(lambda x: x.prod(**kw), lambda t: t.prod(**kw), xv)


def test_prod_of_every_entry_with_keepdims_keeps_every_axis_as_numpys():
    # np.prod(x, keepdims=True) of a (3, 4) x is (1, 1); it was (1,) (the flattened x's one axis)
    xv = rng.normal(size=(3, 4))
    assert np.prod(xv, keepdims=True).shape == (1, 1)
    _compare(lambda x: sg.prod(x, keepdims=True), lambda t: t.prod().reshape(1, 1), xv)
    _compare(lambda x: x.prod(keepdims=True), lambda t: t.prod().reshape(1, 1), xv)


@pytest.mark.parametrize("axis,keepdims", [((0, 2), False), ((2, -3), True), ((1,), False)])
def test_prod_over_several_axes_as_numpys(axis, keepdims):
    # np.prod(x, axis=(0, 2)) (it was refused, "as torch's", though sg.prod is NumPy's name too)
    xv = rng.normal(size=(2, 3, 4))
    xv[1, 0, 3] = 0.0
    want = np.prod(xv, axis=axis, keepdims=keepdims)

    def torch_prod(t):          # torch's prod takes one dim: one after the other, the highest first
        for a in sorted({a % 3 for a in axis}, reverse=True):
            t = t.prod(a, keepdim=True)
        return t.reshape(want.shape)
    _compare(lambda x: sg.prod(x, axis=axis, keepdims=keepdims), torch_prod, xv)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_as_torchs(dim):
    xv = rng.normal(size=(3, 4))
    xv[0, 1] = 0.0
    _compare(lambda x: sg.cumprod(x, dim=dim), lambda t: torch.cumprod(t, dim), xv)


def test_nerf_transmittance_compiles():
    N = sp.Symbol("N", integer=True, positive=True)
    sigma, rgb = sg.tensor("sigma", (N, 5)), sg.tensor("rgb", (N, 5))
    w = sg.tensor("w", (5,))
    alpha = 1 - sg.exp(-sg.relu(sigma * w))
    T = sg.concat([sg.ones((N, 1)), (1 - alpha + 1e-10).cumprod(-1)[:, :-1]], axis=1)
    loss = (((T * alpha) * rgb).sum(-1) - 0.5).pow(2).mean()
    sv, cv, wv = rng.normal(size=(4, 5)), rng.uniform(size=(4, 5)), rng.uniform(0.5, 1.5, size=5)
    tw = torch.tensor(wv, requires_grad=True)
    ta = 1 - torch.exp(-torch.relu(torch.tensor(sv) * tw))
    tT = torch.cat([torch.ones(4, 1, dtype=torch.float64), torch.cumprod(1 - ta + 1e-10, -1)[:, :-1]], 1)
    (((tT * ta) * torch.tensor(cv)).sum(-1) - 0.5).pow(2).mean().backward()
    prog = sg.compile(loss, params=[w], inputs=[sigma, rgb], dtype="float64")
    np.testing.assert_allclose(prog.grad({"w": wv}, {"sigma": sv, "rgb": cv})["w"], tw.grad.numpy(), rtol=1e-10)


def test_a_symbolic_axis_is_refused_by_name():
    N = sp.Symbol("N", integer=True, positive=True)
    with pytest.raises(sg.ShapeError, match="symbolic size N; a product of its entries needs a fixed size"):
        sg.tensor("x", (N, 3)).prod(0)
