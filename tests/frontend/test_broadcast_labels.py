"""Labels broadcast to more axes (2026-11-30, tenth session): ``y.unsqueeze(0).expand(T, N)`` — the
same labels at every step — was not an integer tensor, so cross_entropy refused it as labels. The
oracle is torch's F.cross_entropy with the expanded labels; the compiled program still range-checks
the labels through the broadcast."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


def test_expanded_labels_are_labels_as_torch():
    T, C = 3, 4
    s, y = sg.tensor("s", (T, N, C)), sg.tensor("y", (N,), integer=True)
    W = sg.tensor("W", (C,))
    target = y.unsqueeze(0).expand(T, -1)
    assert target.is_integer_tensor
    loss = sg.cross_entropy((s * W).reshape(-1, C), target.reshape(-1))
    prog = sg.compile(loss, [W], [s, y], dtype="float64")
    rng = np.random.default_rng(0)
    vals, data = {"W": rng.normal(size=C)}, {"s": rng.normal(size=(T, 2, C)), "y": np.array([1, 3])}
    w = torch.tensor(vals["W"], requires_grad=True)
    yt = torch.tensor(data["y"]).unsqueeze(0).expand(T, -1)
    want = torch.nn.functional.cross_entropy((torch.tensor(data["s"]) * w).reshape(-1, C), yt.reshape(-1))
    want.backward()
    assert abs(prog.loss(vals, data) - want.item()) < 1e-12
    np.testing.assert_allclose(prog.grad(vals, data)["W"], w.grad.numpy(), rtol=1e-10)
    with pytest.raises(sg.LabelRangeError):
        prog.loss(vals, {**data, "y": np.array([1, 4])})


def test_a_real_tensor_broadcast_is_still_real():
    assert not sg.tensor("x", (N,)).unsqueeze(0).expand(3, -1).is_integer_tensor
