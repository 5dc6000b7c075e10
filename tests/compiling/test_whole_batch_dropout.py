"""sg.dropout in declarations over the batch (a symbolic N): a mask of the tensor's shape, N
included, drawn afresh by every .grad and .step from the program's seeded generator (inverted
dropout: kept entries scaled by 1/(1 − p)); off in .loss and .forward. Gradients are torch's with
the same mask."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from dropout_stand_in import GivenUniforms as _Given, assert_evaluation_draws_nothing
from symgrad.errors import UnsupportedError

N = sp.Symbol("N", integer=True, positive=True)


def _masked_sum(p, width):
    """L = Σ_{n,d} dropout(x ⊙ w, p)[n, d]: ∂L/∂w_d = Σ_n x[n, d]·M[n, d] shows the mask."""
    x, w = sg.tensor("x", (N, width)), sg.tensor("w", (width,))
    return sg.sum(sg.dropout(x * w, p)), [w], [x]


def test_mask_keeps_one_minus_p_scaled_by_its_inverse():
    p, width = 0.3, 20000
    loss, params, inputs = _masked_sum(p, width)
    prog = sg.compile(loss, params, inputs, dtype="float64", seed=5)
    values = {"w": np.ones(width)}
    # one example of ones: the gradient is the mask itself
    g = prog.grad(values, {"x": np.ones((1, width))})["w"]
    kept = g != 0
    np.testing.assert_array_equal(g[kept], 1 / (1 - p))        # inverted dropout: kept entries × 1/(1 − p)
    assert abs(kept.mean() - (1 - p)) < 0.015                   # 5 standard deviations of the fraction
    # three examples, x[n] = 2ⁿ: (1 − p)·∂L/∂w_d = Σ_n 2ⁿ·[M[n, d] kept] spells each example's mask
    code = np.rint(prog.grad(values, {"x": np.array([[1.0], [2.0], [4.0]]) * np.ones(width)})["w"] * (1 - p))
    bits = np.array([(code.astype(int) >> n) & 1 for n in range(3)])
    for row in bits:
        assert abs(row.mean() - (1 - p)) < 0.015
    # drawn per entry and per example: two examples agree where both are kept or both dropped,
    # p² + (1 − p)² of the entries, not all of them
    assert abs((bits[0] == bits[1]).mean() - (p ** 2 + (1 - p) ** 2)) < 0.02
    # drawn afresh on every call, and reproducible from the seed
    again = prog.grad(values, {"x": np.ones((1, width))})["w"]
    assert (again != g).mean() > 0.3
    twin = sg.compile(loss, params, inputs, dtype="float64", seed=5)
    np.testing.assert_array_equal(twin.grad(values, {"x": np.ones((1, width))})["w"], g)


def _mlp(p1, p2):
    x, y = sg.tensor("x", (N, 5)), sg.tensor("y", (N,), integer=True)
    W1, b1 = sg.tensor("W1", (5, 8)), sg.tensor("b1", (8,))
    W2, b2 = sg.tensor("W2", (8, 6)), sg.tensor("b2", (6,))
    W3 = sg.tensor("W3", (6, 3))
    h1 = sg.dropout(sg.relu(x @ W1 + b1), p1)
    h2 = sg.dropout(sp.tanh(h1 @ W2 + b2), p2)
    logits = sg.as_tensor(h2) @ W3
    return sg.cross_entropy(logits, y), logits, [W1, b1, W2, b2, W3], [x, y]


def _torch_mlp(values, x, y, masks):
    t = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    h1 = torch.relu(torch.tensor(x) @ t["W1"] + t["b1"])
    if masks:
        h1 = h1 * torch.tensor(masks[0])
    h2 = torch.tanh(h1 @ t["W2"] + t["b2"])
    if masks:
        h2 = h2 * torch.tensor(masks[1])
    logits = h2 @ t["W3"]
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y).long())
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}, logits.detach().numpy()


def _data(rng, n):
    return rng.standard_normal((n, 5)), rng.integers(0, 3, n).astype(float)


def test_gradient_equals_torch_with_the_same_masks():
    p1, p2 = 0.5, 0.25
    loss, _, params, inputs = _mlp(p1, p2)
    prog = sg.compile(loss, params, inputs, dtype="float64")
    rng = np.random.default_rng(1)
    values = {p.name: rng.standard_normal(tuple(p.shape)) * 0.5 for p in params}
    x, y = _data(rng, 11)
    u1, u2 = rng.random((11, 8)), rng.random((11, 6))
    prog.rng = _Given(u1, u2)
    got = prog.grad(values, {"x": x, "y": y})
    assert prog.rng.shapes == [(11, 8), (11, 6)]               # one draw per mask, N included
    masks = [(u1 >= p1) / (1 - p1), (u2 >= p2) / (1 - p2)]
    _, want, _ = _torch_mlp(values, x, y, masks)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12, err_msg=k)
    # the step takes the same gradient (SGD, lr 0.01) and reports the loss with the masks on
    prog.rng = _Given(u1, u2)
    stepped, _ = prog.step({k: v.copy() for k, v in values.items()}, None, {"x": x, "y": y})
    want_loss, _, _ = _torch_mlp(values, x, y, masks)
    assert prog.last_loss == pytest.approx(want_loss, rel=1e-12)
    for k in want:
        np.testing.assert_allclose(stepped[k], values[k] - 0.01 * want[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_loss_and_forward_have_no_dropout():
    loss, logits, params, inputs = _mlp(0.5, 0.5)
    prog = sg.compile(loss, params, inputs, outputs=[logits], dtype="float64", seed=2)
    rng = np.random.default_rng(4)
    values = {p.name: rng.standard_normal(tuple(p.shape)) * 0.5 for p in params}
    x, y = _data(rng, 9)
    want_loss, _, want_logits = _torch_mlp(values, x, y, None)
    assert_evaluation_draws_nothing(prog, values, x, y, want_loss, want_logits)


def test_a_small_mlp_with_dropout_trains():
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((3, 5)) * 3
    y = rng.integers(0, 3, 300)
    x = centers[y] + rng.standard_normal((300, 5))
    loss, logits, params, inputs = _mlp(0.2, 0.1)
    prog = sg.compile(loss, params, inputs, outputs=[logits], optimizer=sg.optim.Adam(lr=0.02), seed=0)
    values = {p.name: (rng.standard_normal(tuple(p.shape)) * 0.3).astype(np.float32) for p in params}
    h = sg.train(prog, {"x": x.astype(np.float32), "y": y.astype(np.float32)}, epochs=15, batch_size=32,
                 values=values, progress=False, seed=0)
    assert h.loss[-1] < h.loss[0] / 3
    pred = prog.forward(h.values, {"x": x.astype(np.float32)})[0].argmax(1)
    assert (pred == y).mean() > 0.95


def test_dropout_of_a_matrix_in_a_declaration_over_the_batch_is_refused():
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3,))
    A = sp.MatrixSymbol("A", 2, 2)
    with pytest.raises(UnsupportedError, match="dropout of a matrix.*apply it to a tensor"):
        sg.compile(sg.mean((x @ w) ** 2) + sg.dropout(A, 0.5)[0, 0], [w], [x])


def test_dropout_of_a_scalar_parameter_over_the_batch():
    """A scalar Symbol parameter and a scalar input next to the tensors; dropout of the scalar draws
    one mask for the step: ∂L/∂a is 0 or 2·mean((xw)²)·c, nothing else."""
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3,))
    a, c = sp.Symbol("a"), sp.Symbol("c")
    prog = sg.compile(sg.mean((x @ w) ** 2) * sg.dropout(a, 0.5) * c, [w, a], [x, c], dtype="float64", seed=1)
    rng = np.random.default_rng(0)
    values, batch = {"w": rng.standard_normal(3), "a": 1.5}, {"x": rng.standard_normal((6, 3)), "c": 2.0}
    plain = np.mean((batch["x"] @ values["w"]) ** 2)
    assert prog.loss(values, batch) == pytest.approx(plain * 1.5 * 2.0, rel=1e-12)     # dropout off
    seen = {round(float(prog.grad(values, batch)["a"]) / (plain * 2.0), 12) for _ in range(40)}
    assert seen == {0.0, 2.0}
