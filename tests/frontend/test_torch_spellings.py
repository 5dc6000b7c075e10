"""torch's spellings of a tensor's moves (permute, view, flatten, unsqueeze, size) on sg.tensor:
the same functions as NumPy's, checked against torch.autograd on a layer copied from a torch model."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.errors import AxisError, ShapeError

N = sp.Symbol("N", integer=True, positive=True)


def test_spellings_are_numpys_moves():
    x = sg.tensor("x", (N, 3, 4, 5))
    assert x.permute(0, 2, 3, 1) == x.transpose(0, 2, 3, 1)
    assert x.permute((0, 2, 3, 1)).shape == (N, 4, 5, 3)
    assert x.view(N, -1).shape == x.reshape(N, -1).shape
    assert x.flatten(1).shape == (N, 60)
    assert x.flatten(1, 2).shape == (N, 12, 5)
    assert x.flatten(-2).shape == (N, 3, 20)
    assert x.unsqueeze(1).shape == (N, 1, 3, 4, 5)
    assert x.unsqueeze(-1).shape == (N, 3, 4, 5, 1)
    assert x.size() == x.shape and x.size(0) == N and x.size(-1) == 5


def test_bad_axes_are_named():
    x = sg.tensor("x", (N, 3))
    with pytest.raises(AxisError, match="flatten"):
        x.flatten(1, 4)
    with pytest.raises(ShapeError, match="start_dim comes after end_dim"):
        x.flatten(1, 0)
    with pytest.raises(AxisError, match="size"):
        x.size(2)


def test_a_torch_layer_as_written_equals_torch_autograd():
    # a conv-map head written the torch way: (N, C, H, W) -> channels last -> flatten -> linear
    x = sg.tensor("x", (N, 2, 3, 3))
    W, b = sg.tensor("W", (4, 18)), sg.tensor("b", (4,))
    y = sg.tensor("y", (N,), integer=True)
    h = x.permute(0, 2, 3, 1).flatten(1)                 # (N, 18)
    s = (h.unsqueeze(1) * W.unsqueeze(0)).sum(axis=2) + b.view(1, 4)
    loss = sg.cross_entropy(sg.tanh(s), y)
    prog = sg.compile(loss, [W, b], [x, y], dtype="float64")
    rng = np.random.default_rng(3)
    vals = {"W": rng.normal(size=(4, 18)), "b": rng.normal(size=4)}
    data = {"x": rng.normal(size=(5, 2, 3, 3)), "y": rng.integers(0, 4, 5)}
    got, got_loss = prog.grad(vals, data), prog.loss(vals, data)

    tW, tb = (torch.tensor(vals[k], requires_grad=True) for k in ("W", "b"))
    tx = torch.tensor(data["x"])
    th = tx.permute(0, 2, 3, 1).flatten(1)
    ts = (th.unsqueeze(1) * tW.unsqueeze(0)).sum(2) + tb.view(1, 4)
    tl = torch.nn.functional.cross_entropy(torch.tanh(ts), torch.tensor(data["y"]))
    tl.backward()
    assert got_loss == pytest.approx(tl.item(), rel=1e-12)
    np.testing.assert_allclose(got["W"], tW.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got["b"], tb.grad.numpy(), rtol=1e-10, atol=1e-12)
