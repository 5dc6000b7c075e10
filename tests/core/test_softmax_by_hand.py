"""A softmax typed by hand, ``sp.exp(z) / sp.exp(z).sum(axis=1, keepdims=True)`` (2026-11-30,
tenth session): as a lecture writes it, exp overflows for a logit above ~710 in float64 and the
loss was NaN where torch's ``F.cross_entropy`` (and symgrad's ``sg.softmax``) are finite. It is now
read as the IR's softmax exp(z − lse(z)) (`symgrad/core/stable_logs.py`, `softmax_by_hand`), and
its log then as the log-softmax, in ``sg.compile``, ``sg.grad`` and ``sg.numeric``; compared with
torch.autograd in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)
C = 3
Z = np.array([[800.0, 1.0, -5.0], [3.0, 900.0, 2.0], [0.1, -0.2, 0.3]])   # two rows overflow exp
Y = np.array([1, 1, 2])
W = np.array([1.0, 0.5, -1.0])


def _torch_loss_and_grad():
    t = torch.tensor(W, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(torch.tensor(Z) * t, torch.tensor(Y))
    loss.backward()
    return loss.item(), t.grad.numpy()


@pytest.mark.parametrize("keepdims", [True, False])
def test_whole_batch_softmax_by_hand_is_torch_s(keepdims):
    z, y, w = sg.tensor("z", (N, C)), sg.tensor("y", (N,), integer=True), sg.tensor("w", (C,))
    e = sp.exp(z * w)
    p = e / (e.sum(axis=1, keepdims=True) if keepdims else e.sum(axis=-1)[:, None])
    loss = -(sg.one_hot(y, C) * sp.log(p)).sum(axis=1).mean()
    want, want_grad = _torch_loss_and_grad()
    prog = sg.compile(loss, [w], [z, y], dtype="float64")
    assert prog.loss({"w": W}, {"z": Z, "y": Y}) == pytest.approx(want, rel=1e-14)
    np.testing.assert_allclose(prog.grad({"w": W}, {"z": Z, "y": Y})["w"], want_grad, rtol=1e-13, atol=1e-13)
    at = {z: Z, y: Y, w: W}
    assert float(sg.numeric(loss, at)) == pytest.approx(want, rel=1e-14)
    np.testing.assert_allclose(np.asarray(sg.numeric(sg.grad(loss, w), at), dtype=float), want_grad,
                               rtol=1e-13, atol=1e-13)


def test_per_example_vector_softmax_by_hand():
    z, t, w = sg.tensor("z", (C,)), sg.tensor("t", (C,)), sg.tensor("w", (C,))
    p = sp.exp(z * w) / sp.exp(z * w).sum()
    loss = -(t * sp.log(p)).sum()
    prog = sg.compile(loss, [w], [z, t], dtype="float64")
    want, want_grad = _torch_loss_and_grad()
    data = {"z": Z, "t": np.eye(C)[Y]}
    assert prog.loss({"w": W}, data) == pytest.approx(want, rel=1e-14)
    np.testing.assert_allclose(prog.grad({"w": W}, data)["w"], want_grad, rtol=1e-13, atol=1e-13)


def test_matrix_column_softmax_by_hand():
    z, t = sp.MatrixSymbol("z", C, 1), sp.MatrixSymbol("t", C, 1)
    p = sg.exp(z) / sg.sum(sg.exp(z))
    at = {z: Z[0][:, None], t: np.eye(C)[:, [1]]}
    np.testing.assert_allclose(np.ravel(sg.numeric(p, at)), [1.0, 0.0, 0.0], atol=1e-300)
    g = sg.grad(-sg.sum(sp.hadamard_product(t, sg.log(p))), z)
    np.testing.assert_allclose(np.ravel(sg.numeric(g, at)), [1.0, -1.0, 0.0], atol=1e-300)


def test_other_quotients_are_left_alone():
    """exp(z) / Σ exp(w) of another tensor, or Σ over all entries of a matrix, is no softmax."""
    z, v = sg.tensor("z", (2, C)), sg.tensor("v", (2, C))
    at = {z: np.log([[1.0, 2.0, 3.0], [1.0, 1.0, 2.0]]), v: np.zeros((2, C))}
    got = sg.numeric(sp.exp(z) / sp.exp(v).sum(axis=1, keepdims=True), at)
    np.testing.assert_allclose(got, [[1 / 3, 2 / 3, 1.0], [1 / 3, 1 / 3, 2 / 3]])
    np.testing.assert_allclose(sg.numeric(sp.exp(z) / sp.exp(z).sum(), at), np.exp(at[z]) / 10)


@pytest.mark.parametrize("keepdims", [True, False])
def test_logsumexp_by_hand_is_torch_s(keepdims):
    """log Σ exp(z) typed by hand (a logit above ~710 made it inf, its gradient NaN) is logsumexp."""
    z, w = sg.tensor("z", (N, C)), sg.tensor("w", (C,))
    lse = sp.log(sp.exp(z * w).sum(axis=1, keepdims=keepdims))
    loss = lse.sum() / lse.shape[0] if not keepdims else lse.mean()
    t = torch.tensor(W, requires_grad=True)
    want = torch.logsumexp(torch.tensor(Z) * t, 1).mean()
    want.backward()
    prog = sg.compile(loss, [w], [z], dtype="float64")
    assert prog.loss({"w": W}, {"z": Z}) == pytest.approx(want.item(), rel=1e-14)
    np.testing.assert_allclose(prog.grad({"w": W}, {"z": Z})["w"], t.grad.numpy(), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(np.ravel(sg.numeric(lse, {z: Z, w: W})),
                               torch.logsumexp(torch.tensor(Z * W), 1).numpy(), rtol=1e-14)


def test_logsumexp_of_a_vector_by_hand():
    v = sg.tensor("v", (C,))
    assert float(sg.numeric(sp.log(sp.exp(v).sum()), {v: Z[1]})) == pytest.approx(900.0, rel=1e-15)
