"""An L2 normalisation's backward with the norm taken as a constant (dx = dout / ‖x‖), written out as
x / sqrt((x**2).sum(1)) or as sg.normalize (torch's F.normalize, its sqrt of a where): named, where it
read as a fan-out path of where(...) text; an L2 penalty's term left out stays a fan-out. The right
backward is torch's."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from verdicts import N, wrong


def normalize_backward(dout, x, slip=None):
    n = np.linalg.norm(x, axis=1, keepdims=True)
    y = x / n
    return dout / n if slip else (dout - y * (y * dout).sum(axis=1, keepdims=True)) / n


def test_the_right_backward_is_torchs():
    rng = np.random.default_rng(4)
    xa, da = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    xt = torch.tensor(xa, requires_grad=True)
    torch.nn.functional.normalize(xt, dim=1).backward(torch.tensor(da))
    np.testing.assert_allclose(normalize_backward(da, xa), xt.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("form", ["written out", "sg.normalize"])
def test_the_norm_held_constant_is_named(form):
    x = sg.tensor("x", (N, 4))
    out = x / sg.sqrt(sg.sum(x ** 2, axis=1, keepdims=True)) if form == "written out" else sg.normalize(x, axis=1)
    assert sg.check_backward(out, x, normalize_backward).verdict == "equal"
    r = wrong(sg.check_backward(out, x, lambda dout, x: normalize_backward(dout, x, slip=True)),
              "norm held constant: the claim treats ‖x‖ = sqrt((x**2).sum(axis=1, keepdims=True)) as a constant")
    assert "dx = (dout − y * (y * dout).sum(axis, keepdims=True)) / ‖x‖" in r.hint


def test_an_l2_penaltys_term_left_out_is_no_norm():
    x, W = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 2))
    loss = sg.sum(x @ W) / N + sp.Rational(1, 2) * sg.sum(W ** 2)
    r = wrong(sg.check_backward(loss, W, lambda dout, x, W: x.T @ np.ones((x.shape[0], 2)) / x.shape[0]))
    assert not r.hint.startswith("norm held constant"), r.hint
