"""sg.grid_sample and sg.affine_grid — a spatial transformer network's sampler, torch's
F.grid_sample / F.affine_grid — compared with torch.autograd in float64 (2026-11-30, ninth
session; before, refused by name). The gradient reaches the image and, through the grid and
affine_grid, the localisation network that predicts θ."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import compare_with_torch

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B, C, H, W, Ho, Wo = 2, 2, 5, 6, 4, 3


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("mode, padding", [("bilinear", "zeros"), ("bilinear", "border"), ("nearest", "zeros")])
def test_spatial_transformer_against_torch(align, mode, padding):
    rng = np.random.default_rng(7)
    img = sg.tensor("img", (N, C, H, W))
    p = {"Wloc": sg.tensor("Wloc", (6, C * H * W)), "bloc": sg.tensor("bloc", (6,)),
         "Wl": sg.tensor("Wl", (C * Ho * Wo, 3))}

    def stn(t, d, F, n):                     # written once, run with torch's F and with sg
        theta = F.linear(d["img"].flatten(1), t["Wloc"], t["bloc"]).view(-1, 2, 3)   # the localisation net
        grid = F.affine_grid(theta, (n, C, Ho, Wo), align_corners=align)
        out = F.grid_sample(d["img"], grid, mode=mode, padding_mode=padding, align_corners=align)
        return (F.tanh(out.flatten(1) @ t["Wl"]) ** 2).sum()
    vals = {"Wloc": 0.1 * rng.normal(size=(6, C * H * W)), "bloc": np.array([1.1, 0.2, 0.1, -0.3, 0.9, 0.2]),
            "Wl": rng.normal(size=(C * Ho * Wo, 3))}
    data = {"img": rng.normal(size=(B, C, H, W))}
    with warnings.catch_warnings():          # nearest: no gradient reaches θ (as torch), said by compile
        warnings.simplefilter("ignore")
        compare_with_torch(torch, (stn(p, {"img": img}, sg, N), list(p.values()), [img], vals, data,
                                   lambda t, d: stn(t, d, F, B)), rng)


def test_a_grid_given_as_an_input_some_positions_outside_the_image():
    rng = np.random.default_rng(3)
    x, g, c = sg.tensor("x", (N, C, H, W)), sg.tensor("g", (N, Ho, Wo, 2)), sg.tensor("c", (N, C, Ho, Wo))
    gv = rng.uniform(-1.3, 1.3, size=(B, Ho, Wo, 2))          # some outside [-1, 1]: zeros padding
    xv, cv = rng.normal(size=(B, C, H, W)), rng.normal(size=(B, C, Ho, Wo))
    for name in ("x", "g"):
        wrt = {"x": x, "g": g}[name]
        got = sg.numeric(sg.grad(sg.sum(sg.grid_sample(x, g, align_corners=False) * c), wrt),
                         {"x": xv, "g": gv, "c": cv})
        xt, gt = torch.tensor(xv, requires_grad=True), torch.tensor(gv, requires_grad=True)
        (F.grid_sample(xt, gt, align_corners=False) * torch.tensor(cv)).sum().backward()
        np.testing.assert_allclose(got, {"x": xt, "g": gt}[name].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_what_is_refused_names_what_there_is():
    x, g = sg.tensor("x", (N, C, H, W)), sg.tensor("g", (N, Ho, Wo, 2))
    with pytest.raises(sg.ArgumentError, match="'bilinear', 'nearest'"):
        sg.grid_sample(x, g, mode="bicubic")
    with pytest.raises(sg.ArgumentError, match="'zeros', 'border'"):
        sg.grid_sample(x, g, padding_mode="reflection")
    with pytest.raises(sg.ShapeError, match=r"\(N, Ho, Wo, 2\)"):
        sg.grid_sample(x, sg.tensor("g3", (N, Ho, Wo, 3)))
    with pytest.raises(sg.ShapeError, match=r"\(N, 2, 3\)"):
        sg.affine_grid(sg.tensor("th", (N, 3, 3)), (N, C, Ho, Wo))
