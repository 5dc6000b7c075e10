"""The new torch spellings on the Triton target (under TRITON_INTERPRET=1 without a GPU): those built
of what the kernels run (bce_with_logits with pos_weight, nll_loss, hardswish of F.normalize) give
the NumPy target's loss and gradient to float32 precision; those built of what they do not
(conv_transpose2d, F.pad) are refused by name, pointing to target='numpy'."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import UnsupportedError

pytest.importorskip("triton")
N = sp.Symbol("N", integer=True, positive=True)
y, W, h, t = (sg.tensor("y", (N,), integer=True), sg.tensor("W", (5, 4)), sg.tensor("h", (N, 4)),
              sg.tensor("t", (N, 5)))


@pytest.mark.parametrize("name, loss, inputs", [
    ("bce_with_logits", sg.bce_with_logits(h @ W.T, t, pos_weight=2.0), [h, t]),
    ("nll_loss", sg.nll_loss(sg.log_softmax(h @ W.T, axis=1), y), [h, y]),
    ("hardswish_normalize", sg.cross_entropy(sg.hardswish(sg.normalize(h @ W.T)), y), [h, y]),
])
def test_runs_on_triton_as_on_numpy(name, loss, inputs):
    rng = np.random.default_rng(0)
    vals = {"W": rng.normal(size=(5, 4))}
    data = {"h": rng.normal(size=(6, 4)), "y": rng.integers(0, 5, 6), "t": rng.integers(0, 2, (6, 5)).astype(float)}
    d = {v.name: data[v.name] for v in inputs}
    ref, tri = sg.compile(loss, [W], inputs, dtype="float64"), sg.compile(loss, [W], inputs, target="triton")
    g = tri.grad(vals, d)["W"]
    g = g.cpu().numpy() if hasattr(g, "cpu") else np.asarray(g)
    assert abs(ref.loss(vals, d) - float(tri.loss(vals, d))) < 1e-5
    np.testing.assert_allclose(g, ref.grad(vals, d)["W"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("loss, params, inputs, words", [
    (sg.sum(sg.conv_transpose2d(sg.tensor("x", (N, 2, 4, 4)), sg.tensor("w", (2, 3, 3, 3)), stride=2) ** 2),
     [sg.tensor("w", (2, 3, 3, 3))], [sg.tensor("x", (N, 2, 4, 4))], ["target='numpy'", "flip(w, (2, 3))"]),
    (sg.cross_entropy(sg.pad(h @ W.T, (1, 1)), y), [W], [h, y], ["pad"]),
])
def test_refused_on_triton_by_name(loss, params, inputs, words):
    with pytest.raises(UnsupportedError) as e:
        sg.compile(loss, params, inputs, target="triton")
    for w in words:
        assert w in str(e.value)
