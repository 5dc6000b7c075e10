"""``sp.Piecewise`` of tensors with more than two pieces and with And / Or / Not conditions
(2026-11-30, tenth session): a lecture writes the Huber loss, a clipped spline or a soft
threshold as ``sp.Piecewise((q**2/2, sp.Abs(q) <= d), ...)`` or with ``(q >= -1) & (q < 1)``;
each was "symgrad lowers two pieces" where ``sg.where`` nested by hand worked. Now they lower as
nested wheres over 0/1 masks (`symgrad/core/lower_tensor.py`), checked against torch.autograd and
central differences; a Piecewise of scalars keeps its two-piece rule, its error naming the nesting."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)

CASES = {
    "three pieces, And": (
        lambda q: sp.Piecewise((0, q < -1), (q**2, (q >= -1) & (q < 1)), (q, True)),
        lambda q: torch.where(q < -1, torch.zeros_like(q), torch.where(q < 1, q**2, q))),
    "Or": (lambda q: sp.Piecewise((q, (q > 1) | (q < -1)), (q**3 / 4, True)),
           lambda q: torch.where((q > 1) | (q < -1), q, q**3 / 4)),
    "Not": (lambda q: sp.Piecewise((q, sp.Not(q > 0.5)), (2 * q - 0.5, True)),
            lambda q: torch.where(~(q > 0.5), q, 2 * q - 0.5)),
    "four pieces": (lambda q: sp.Piecewise((-1, q < -1), (q, q < 0), (q**2, q < 1), (1, True)),
                    lambda q: torch.where(q < -1, -torch.ones_like(q), torch.where(
                        q < 0, q, torch.where(q < 1, q**2, torch.ones_like(q))))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_pieces_match_torch_and_differences(name):
    ours, theirs = CASES[name]
    z, w = sg.tensor("z", (N, 3)), sg.tensor("w", (3,))
    prog = sg.compile(ours(z * w).sum(axis=1).mean(), [w], [z], dtype="float64")
    zv, wv = np.random.default_rng(5).normal(size=(7, 3)) * 2, np.array([0.7, -1.1, 1.3])
    t = torch.tensor(wv, requires_grad=True)
    want = theirs(torch.tensor(zv) * t).sum(1).mean()
    want.backward()
    assert prog.loss({"w": wv}, {"z": zv}) == pytest.approx(want.item(), abs=1e-13)
    grad = prog.grad({"w": wv}, {"z": zv})["w"]
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-12, atol=1e-13)
    for i in range(3):
        d = np.zeros(3)
        d[i] = 1e-6
        fd = (prog.loss({"w": wv + d}, {"z": zv}) - prog.loss({"w": wv - d}, {"z": zv})) / 2e-6
        assert abs(grad[i] - fd) < 1e-6


def test_huber_by_hand_is_torch_s():
    a, b = sg.tensor("a", (N,)), sg.tensor("b", (N,))
    e = a - b
    huber = sp.Piecewise((e**2 / 2, sp.Abs(e) <= 1), (sp.Abs(e) - sp.Rational(1, 2), True)).mean()
    av, bv = np.array([0.3, 2.0, -1.5, 0.9]), np.array([0.0, 0.1, 0.2, 0.9])
    ta = torch.tensor(av, requires_grad=True)
    want = torch.nn.functional.huber_loss(ta, torch.tensor(bv), delta=1.0)
    want.backward()
    g = sg.grad(huber, a)
    assert float(sg.numeric(huber, {a: av, b: bv})) == pytest.approx(want.item(), abs=1e-15)
    np.testing.assert_allclose(np.asarray(sg.numeric(g, {a: av, b: bv}), dtype=float), ta.grad.numpy(), atol=1e-15)


def test_refusals_name_the_rule():
    z = sg.tensor("z", (N, 3))
    with pytest.raises(sg.UnsupportedError, match=r"last piece must be \(b, True\)"):
        sg.grad(sp.Piecewise((z, z > 0), (0, sp.Eq(z, 0) | (z < -3))).sum(), z)
    x = sp.Symbol("x")
    with pytest.raises(sg.UnsupportedError, match="nest them"):
        sg.grad(sp.Piecewise((0, x < -1), (x**2, x < 1), (x, True)), x)
