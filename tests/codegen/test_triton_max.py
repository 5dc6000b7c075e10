"""Max over a per-example axis on the Triton target (``symgrad.compiling.kernel_form``: max z is
z[argmax z], a row reduction ``tl.max`` then the first index that attains it; gather's VJP routes
the gradient to that first arg-max, the subgradient policy of DESIGN.md, ties included).

Each case is compared with the NumPy target (loss, gradients, 3 Adam steps) at float32 tolerance;
the policy itself is checked against an oracle written here with ``numpy.argmax`` (the first
index of the max). Tiny shapes: the kernels run under Triton's interpreter on the CPU.
"""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.frontend.tensor import argmax
from tests.codegen.test_triton_tensors import _close, _same_as_numpy, _values

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

N = sp.Symbol("N", integer=True, positive=True)
D, H, C = 8, 16, 4
W1, b1 = sg.tensor("W1", (D, H)), sg.tensor("b1", (H,))
W2, b2 = sg.tensor("W2", (H, C)), sg.tensor("b2", (C,))
ADAM = dict(optimizer=sg.optim.Adam(lr=0.05))


def _both(loss, params, inputs, **kw):
    return [sg.compile(loss, params, inputs, target=t, **ADAM, **kw) for t in ("triton", "numpy")]


def _tied_rows(rng, B):
    """Rows whose largest entry appears two or three times (and one row all equal)."""
    x = rng.integers(-3, 3, size=(B, D)).astype(np.float32)
    for b in range(B):
        top = x[b].max() + 1
        x[b, rng.choice(D, size=2 + b % 2, replace=False)] = top
    x[0] = 1.5
    return x


def test_a_row_max_over_the_batch_with_ties_routes_to_the_first_arg_max(rng):
    x, t, c = sg.tensor("x", (N, D)), sg.tensor("t", (N,)), sg.tensor("c", (D,))
    loss = sg.mean((sg.max(x + c, axis=1) - t) ** 2)
    tri, ref = _both(loss, [c], [x, t])
    B = 7
    batch = {"x": _tied_rows(rng, B), "t": rng.normal(size=B).astype(np.float32)}
    values = {"c": np.zeros(D, np.float32)}          # c = 0 keeps the ties
    # the oracle: ∂L/∂c = Σ_b 2(m_b − t_b)/B · e_{k_b}, k_b the FIRST index of row b's max
    k = np.argmax(batch["x"], axis=1)
    r = 2 * (batch["x"].max(axis=1) - batch["t"]) / B
    want = np.zeros(D)
    np.add.at(want, k, r)
    assert len(set(k)) > 1 and any((batch["x"][b] == batch["x"][b, k[b]]).sum() > 1 for b in range(B))
    _close(ref.grad(values, batch)["c"], want, "NumPy target: the first arg-max takes the gradient")
    _close(tri.grad(values, batch)["c"], want, "Triton target: the first arg-max takes the gradient")
    _same_as_numpy(tri, ref, values, batch)


def test_a_max_subtracted_softmax_written_by_hand_equals_numpy(rng):
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    s = sg.relu(x @ W1 + b1) @ W2 + b2
    z = s - sg.max(s, axis=1, keepdims=True)
    logp = z - sg.log(sg.sum(sg.exp(z), axis=1, keepdims=True))
    loss = -sg.mean(sg.sum(sg.one_hot(y, C) * logp, axis=1))
    tri, ref = _both(loss, [W1, b1, W2, b2], [x, y], outputs=[sg.max(s, axis=1), argmax(s, axis=1)])
    values = _values([W1, b1, W2, b2], rng)
    batch = {"x": rng.normal(size=(9, D)).astype(np.float32), "y": rng.integers(0, C, 9)}
    _same_as_numpy(tri, ref, values, batch)
    m, k = tri.forward(values, batch)
    m_ref, k_ref = ref.forward(values, batch)
    _close(m, m_ref, "max over the classes")
    np.testing.assert_array_equal(np.asarray(k.cpu()), np.asarray(k_ref))


def test_a_per_example_max_of_a_layer_equals_numpy(rng):
    x, t = sg.tensor("x", (D,)), sg.tensor("t", ())
    loss = sg.mse(sg.max(sg.tanh(x @ W1 + b1)), t) + sg.mse(sg.min(x @ W1), t)
    tri, ref = _both(loss, [W1, b1], [x, t])
    batch = {"x": rng.normal(size=(6, D)).astype(np.float32), "t": rng.normal(size=6).astype(np.float32)}
    _same_as_numpy(tri, ref, _values([W1, b1], rng), batch)


def test_the_multiclass_svm_loss_with_a_max_over_classes_equals_numpy(rng):
    # cs231n's margin: max over the classes of relu(s − s_y + 1) (the largest violation)
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    s = sg.relu(x @ W1 + b1) @ W2 + b2
    loss = sg.mean(sg.max(sg.relu(s - sg.take_along_axis(s, y[:, None], 1) + 1), axis=1))
    tri, ref = _both(loss, [W1, b1, W2, b2], [x, y])
    batch = {"x": rng.normal(size=(9, D)).astype(np.float32), "y": rng.integers(0, C, 9)}
    _same_as_numpy(tri, ref, _values([W1, b1, W2, b2], rng), batch)


def test_a_max_over_the_batch_or_of_a_matrix_stays_refused_in_the_users_words():
    x, xs = sg.tensor("x", (N, D)), sg.tensor("xs", (3, D))
    with pytest.raises(sg.UnsupportedError, match=r"batch statistics: a max over N"):
        sg.compile(sg.sum(sg.max(x @ W1, axis=0)), [W1], [x], target="triton")
    # (a max over either axis of a matrix per example compiles: test_triton_matrix_rows.py); its transpose not
    with pytest.raises(sg.UnsupportedError) as e:
        sg.compile(sg.sum(sg.max(xs.T @ sg.tensor("u", (3,)), axis=0)), [sg.tensor("u", (3,))], [xs], target="triton")
    assert re.search(r"matrix per example", str(e.value)) and not re.search(r"\bv\d+\b", str(e.value))


def test_a_row_max_with_minus_infinity_entries_equals_numpy(rng):
    # masked entries (−inf) beside the max: z at the arg-max is a select, not z·[n = k] (−inf·0 = NaN)
    x, t, c = sg.tensor("x", (N, 6)), sg.tensor("t", (N,)), sg.tensor("c", (6,))
    loss = sg.mean((sg.max(x + c, axis=1) - t) ** 2)
    tri, ref = (sg.compile(loss, [c], [x, t], target=tg) for tg in ("triton", "numpy"))
    X = rng.normal(size=(5, 6)).astype(np.float32)
    X[1, 3] = -np.inf
    X[2, :] = -np.inf
    X[2, 4] = 1.0
    batch, values = {"x": X, "t": rng.normal(size=5).astype(np.float32)}, {"c": np.zeros(6, np.float32)}
    assert np.isfinite(ref.loss(values, batch))
    _close(tri.loss(values, batch), ref.loss(values, batch), "loss")
    _close(tri.grad(values, batch)["c"], ref.grad(values, batch)["c"], "d loss / d c")
