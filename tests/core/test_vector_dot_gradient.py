"""The gradient of a vector dot product reads as the other vector (2026-12-01, eleventh session):
sg.grad(x @ y, x) printed (ones((1, 1)) @ y.reshape(3, 1).T).reshape(3) — the reverse pass's seed 1
reshaped to (1, 1) times yᵀ. Values are checked against torch.autograd in float64."""
from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg

torch = pytest.importorskip("torch")


def test_dot_of_two_vectors():
    x, y = sg.tensor("x", (3,)), sg.tensor("y", (3,))
    assert sg.grad(x @ y, x) == y
    assert sg.grad(y @ x, x) == y
    assert sg.grad(x.dot(y), y) == x


def test_quadratic_form_values_are_torchs():
    x, A = sg.tensor("x", (3,)), sg.tensor("A", (3, 3))
    g = sg.grad(x @ (A @ x), x)
    assert "ones((1, 1))" not in str(g), g
    rng = np.random.default_rng(0)
    vals = {"x": rng.normal(size=3), "A": rng.normal(size=(3, 3))}
    t = torch.tensor(vals["x"], requires_grad=True)
    (t @ (torch.tensor(vals["A"]) @ t)).backward()
    np.testing.assert_allclose(np.asarray(sg.numeric(g, vals), dtype=float), t.grad.numpy(), rtol=1e-12)


def test_compiled_dot_gradient_matches_torch():
    """The simplification is in the IR, so a compiled program sees it too: its gradient is torch's."""
    w, x = sg.tensor("w", (4,)), sg.tensor("x", (4,))
    prog = sg.compile(sg.softplus(-(w @ x)), params=[w], inputs=[x])
    rng = np.random.default_rng(1)
    wv, xv = rng.normal(size=4), rng.normal(size=(5, 4))
    got = prog.grad({"w": wv}, {"x": xv})
    got = got["w"] if isinstance(got, dict) else got[0]
    tw = torch.tensor(wv, requires_grad=True)
    torch.nn.functional.softplus(-(torch.tensor(xv) @ tw)).mean().backward()
    np.testing.assert_allclose(np.asarray(got, dtype=float), tw.grad.numpy(), rtol=1e-5)   # the program computes in float32
