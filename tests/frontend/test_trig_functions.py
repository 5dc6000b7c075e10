"""sg.sin, sg.cos, sg.tan, sg.sinh, sg.cosh, sg.asin, sg.acos, sg.atan as torch.sin ... (2026-12-01,
twelfth session): a rotary embedding with learned frequencies written against torch,
``x * torch.cos(theta) + rotate(x) * torch.sin(theta)``, became ``sg.cos(theta)``, an
AttributeError. Of a tensor they are tensor expressions, of a matrix entry by entry, of a scalar
SymPy's own; values and gradients against torch.autograd in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")

NAMES = ["sin", "cos", "tan", "sinh", "cosh", "asin", "acos", "atan"]


@pytest.mark.parametrize("name", NAMES)
def test_of_a_tensor_as_torchs(name):
    x = sg.tensor("x", (2, 3))
    f = getattr(sg, name)(x * 0.5)
    assert f.shape == (2, 3)
    xv = np.random.default_rng(0).uniform(-1, 1, size=(2, 3))
    t = torch.tensor(xv, requires_grad=True)
    (getattr(torch, name)(t * 0.5) ** 2).sum().backward()
    g = sg.grad((f ** 2).sum(), x)
    np.testing.assert_allclose(np.asarray(sg.numeric(g, {x: xv}), float), t.grad.numpy(), rtol=1e-12)


def test_rotary_embedding_with_learned_frequencies_compiles():
    q, theta = sg.tensor("q", (3, 4)), sg.tensor("theta", (3, 2))
    c, s = sg.cos(theta).repeat(1, 2), sg.sin(theta).repeat(1, 2)
    q1, q2 = q[:, :2], q[:, 2:]
    loss = ((q * c + sg.concat([-q2, q1], axis=1) * s) ** 2).sum()
    rng = np.random.default_rng(1)
    qv, thv = rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    tq, tth = torch.tensor(qv), torch.tensor(thv, requires_grad=True)
    tc, ts = torch.cos(tth).repeat(1, 2), torch.sin(tth).repeat(1, 2)
    ((tq * tc + torch.cat([-tq[:, 2:], tq[:, :2]], 1) * ts) ** 2).sum().backward()
    prog = sg.compile(loss, params=[theta], inputs=[q], dtype="float64")
    np.testing.assert_allclose(prog.grad({"theta": thv}, {"q": qv[None]})["theta"], tth.grad.numpy(), rtol=1e-12)


def test_of_a_matrix_entry_by_entry_and_named_for_sympys():
    W, x = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("x", 3, 1)
    assert sg.grad(sg.sum(sg.cos(W * x)), W) == -sg.sin(W * x) * x.T
    assert sg.sin(sp.Symbol("t")) == sp.sin(sp.Symbol("t"))
    M = sp.MatrixSymbol("M", 2, 2)
    with pytest.raises(sg.UnsupportedError, match=r"write sg\.cosh\(M\)"):
        sg.grad(sg.sum(sp.cosh(M)), M)
