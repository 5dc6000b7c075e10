"""An elementwise function of a flattened convolution map on the Triton target: ``sg.tanh(h.reshape(N,
-1))`` and ``sg.dropout(h.reshape(N, -1), p)`` between the flatten and the classifier
(`symgrad/compiling/kernel_resize.flat_ewise`).

Until 2026-11-30 (eighth session) both were refused ("an elementwise operation on the input image or
on the flattened convolution output"), though a dropout before the classifier is what a CNN in torch
usually has. Oracles: the NumPy target (under the same masks, read back from a program whose
gradient is its mask, as tests/codegen/test_triton_dropout.py does) and torch.autograd.
"""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

from tests.dropout_stand_in import GivenUniforms  # noqa: E402

F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B = 3


def _declaration():
    x, y = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("y", (N,), integer=True)
    w, b, V, c = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,)), sg.tensor("V", (8, 3)), sg.tensor("c", (3,))
    h = sg.max_pool2d(sg.relu(sg.conv2d(x, w, b, padding=1)), 2)        # (2, 2, 2): F·P = 8 entries
    return h, [w, b, V, c], [x, y]


def _values_and_batch():
    rng = np.random.default_rng(4)
    values = {"w": rng.normal(0, 0.5, (2, 1, 3, 3)), "b": rng.normal(0, 0.1, 2), "V": rng.normal(0, 0.5, (8, 3)),
              "c": rng.normal(0, 0.1, 3)}
    batch = {"x": rng.normal(0, 1, (B, 1, 4, 4)), "y": rng.integers(0, 3, B)}
    return values, batch


def _torch_map(p, X):
    return F.max_pool2d(F.relu(F.conv2d(X, p["w"], p["b"], padding=1)), 2).reshape(X.shape[0], -1)


def test_tanh_of_the_flattened_map_equals_numpy_and_torch():
    h, params, (x, y) = _declaration()
    V, c = params[2], params[3]
    loss = sg.cross_entropy(sg.tanh(h.reshape(N, -1)) @ V + c, y)
    tri = sg.compile(loss, params, [x, y], target="triton")
    num = sg.compile(loss, params, [x, y])
    values, batch = _values_and_batch()
    g, want = tri.grad(values, batch), num.grad(values, batch)
    p = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    ref = F.cross_entropy(torch.tanh(_torch_map(p, torch.tensor(batch["x"]))) @ p["V"] + p["c"],
                          torch.tensor(batch["y"]))
    ref.backward()
    assert tri.loss(values, batch) == pytest.approx(ref.item(), rel=1e-5)
    for k in want:
        np.testing.assert_allclose(np.asarray(g[k]), want[k], rtol=1e-4, atol=1e-6, err_msg=k)
        np.testing.assert_allclose(np.asarray(g[k]), p[k].grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=f"torch {k}")


def test_dropout_of_the_flattened_map_equals_numpy_under_the_same_mask():
    h, params, (x, y) = _declaration()
    V, c = params[2], params[3]
    p_drop = 0.4
    loss = sg.cross_entropy(sg.dropout(h.reshape(N, -1), p_drop) @ V + c, y)
    tri = sg.compile(loss, params, [x, y], target="triton")
    num = sg.compile(loss, params, [x, y])
    values, batch = _values_and_batch()
    g = tri.grad(values, batch, dropout_seed=5)
    # the mask Triton drew: example b's entries b·8 + n, shown by one example of B·8 entries
    xm, wm = sg.tensor("x", (B * 8,)), sg.tensor("w", (B * 8,))
    shows = sg.compile(sg.sum(sg.dropout(wm * xm, p_drop)), [wm], [xm], target="triton")
    m = np.asarray(shows.grad({"w": np.ones(B * 8, np.float32)}, {"x": np.ones((1, B * 8), np.float32)},
                              dropout_seed=5)["w"]).reshape(B, 8)
    assert 0 < np.count_nonzero(m) < m.size                 # some kept, some dropped: the mask matters
    num.rng = GivenUniforms((m != 0).astype(np.float64))
    want = num.grad(values, batch)
    assert num.rng.shapes == [(B, 8)]
    for k in want:
        np.testing.assert_allclose(np.asarray(g[k]).reshape(want[k].shape), want[k], rtol=1e-4, atol=1e-6, err_msg=k)
    assert tri.loss(values, batch) == pytest.approx(num.loss(values, batch), rel=1e-5)     # dropout off
