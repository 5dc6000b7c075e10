"""sg.dropout in per-example declarations of tensors (fixed shapes, batched by
`symgrad.compiling.batching`): the mask of one example's tensor of shape s is drawn as (B, *s), so
every example has its own mask, afresh in every .grad and .step from the program's seeded generator
(inverted dropout: kept entries scaled by 1/(1 − p)); off in .loss and .forward. Gradients are
torch's with the same masks."""
import numpy as np
import pytest
import torch

import symgrad as sg
from dropout_stand_in import GivenUniforms as _Given, assert_evaluation_draws_nothing

F = torch.nn.functional


def test_each_example_draws_its_own_mask():
    """L_b = Σ_d dropout(x ⊙ w, p)[d] per example, summed over the batch: ∂L/∂w_d = Σ_b x_b[d]·M_b[d],
    so with x_b = 2ᵇ the gradient spells each example's mask, bit b."""
    p, D = 0.3, 20000
    x, w = sg.tensor("x", (D,)), sg.tensor("w", (D,))
    loss = sg.sum(sg.dropout(x * w, p))
    prog = sg.compile(loss, [w], [x], dtype="float64", reduction="sum", seed=3)
    values = {"w": np.ones(D)}
    g = prog.grad(values, {"x": np.ones((1, D))})["w"]           # one example: the mask itself
    kept = g != 0
    np.testing.assert_array_equal(g[kept], 1 / (1 - p))
    assert abs(kept.mean() - (1 - p)) < 0.015                   # 5 standard deviations of the fraction
    code = np.rint(prog.grad(values, {"x": np.array([[1.0], [2.0], [4.0]]) * np.ones(D)})["w"] * (1 - p))
    assert set(np.unique(code)) <= set(range(8))
    bits = np.array([(code.astype(int) >> b) & 1 for b in range(3)])
    for row in bits:
        assert abs(row.mean() - (1 - p)) < 0.015
    # independent per example: two examples agree on p² + (1 − p)² of the entries (one mask shared
    # over the batch would make them agree everywhere)
    assert abs((bits[0] == bits[2]).mean() - (p ** 2 + (1 - p) ** 2)) < 0.02
    # afresh on every call, reproducible from the seed
    assert (prog.grad(values, {"x": np.ones((1, D))})["w"] != g).mean() > 0.3
    twin = sg.compile(loss, [w], [x], dtype="float64", reduction="sum", seed=3)
    np.testing.assert_array_equal(twin.grad(values, {"x": np.ones((1, D))})["w"], g)


D, H1, H2, C = 5, 8, 6, 3


def _mlp(p1, p2):
    """One example's MLP: x (D,), a label y (); two dropout layers."""
    x, y = sg.tensor("x", (D,)), sg.tensor("y", (), integer=True)
    W1, b1 = sg.tensor("W1", (H1, D)), sg.tensor("b1", (H1,))
    W2, b2 = sg.tensor("W2", (H2, H1)), sg.tensor("b2", (H2,))
    W3 = sg.tensor("W3", (C, H2))
    h1 = sg.dropout(sg.relu(W1 @ x + b1), p1)
    h2 = sg.dropout(sg.tanh(W2 @ h1 + b2), p2)
    logits = W3 @ h2
    return sg.cross_entropy(logits, y), logits, [W1, b1, W2, b2, W3], [x, y]


def _torch_mlp(values, x, y, masks):
    """The same network written over the batch in torch (rows are examples)."""
    t = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    h1 = torch.relu(torch.tensor(x) @ t["W1"].T + t["b1"])
    if masks:
        h1 = h1 * torch.tensor(masks[0])
    h2 = torch.tanh(h1 @ t["W2"].T + t["b2"])
    if masks:
        h2 = h2 * torch.tensor(masks[1])
    logits = h2 @ t["W3"].T
    loss = F.cross_entropy(logits, torch.tensor(y).long())
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}, logits.detach().numpy()


def _values(rng, params):
    return {p.name: rng.standard_normal(tuple(p.shape)) * 0.5 for p in params}


def test_gradient_and_step_equal_torch_with_the_same_masks():
    p1, p2 = 0.5, 0.25
    loss, _, params, inputs = _mlp(p1, p2)
    prog = sg.compile(loss, params, inputs, dtype="float64")
    rng = np.random.default_rng(1)
    values = _values(rng, params)
    x, y = rng.standard_normal((11, D)), rng.integers(0, C, 11)
    u1, u2 = rng.random((11, H1)), rng.random((11, H2))
    prog.rng = _Given(u1, u2)
    got = prog.grad(values, {"x": x, "y": y})
    assert prog.rng.shapes == [(11, H1), (11, H2)]              # one draw per mask, (B, *s)
    masks = [(u1 >= p1) / (1 - p1), (u2 >= p2) / (1 - p2)]
    want_loss, want, _ = _torch_mlp(values, x, y, masks)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12, err_msg=k)
    prog.rng = _Given(u1, u2)
    stepped, _ = prog.step({k: v.copy() for k, v in values.items()}, None, {"x": x, "y": y})
    assert prog.last_loss == pytest.approx(want_loss, rel=1e-12)    # the loss with the masks on
    for k in want:
        np.testing.assert_allclose(stepped[k], values[k] - 0.01 * want[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_loss_and_forward_have_no_dropout():
    loss, logits, params, inputs = _mlp(0.5, 0.5)
    prog = sg.compile(loss, params, inputs, outputs=[logits], dtype="float64", seed=2)
    rng = np.random.default_rng(4)
    values = _values(rng, params)
    x, y = rng.standard_normal((9, D)), rng.integers(0, C, 9)
    want_loss, _, want_logits = _torch_mlp(values, x, y, None)
    assert_evaluation_draws_nothing(prog, values, x, y, want_loss, want_logits)


def test_dropout_of_a_per_example_scalar_draws_one_number_per_example():
    """dropout of a scalar (a per-example loss term): a mask of shape (B,), 0 or 1/(1 − p) each."""
    x, w = sg.tensor("x", (3,)), sg.tensor("w", (3,))
    prog = sg.compile(sg.dropout((w @ x) ** 2, 0.5), [w], [x], dtype="float64", reduction="sum", seed=0)
    u = np.array([0.9, 0.1, 0.7, 0.2])
    prog.rng = _Given(u)
    xs = np.arange(12.0).reshape(4, 3)
    g = prog.grad({"w": np.ones(3)}, {"x": xs})["w"]
    assert prog.rng.shapes == [(4,)]
    m = (u >= 0.5) * 2.0
    np.testing.assert_allclose(g, (m * 2 * xs.sum(1)) @ xs, rtol=1e-12)      # Σ_b M_b·2(w·x_b)·x_b


def test_a_small_mlp_with_dropout_trains():
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((C, D)) * 3
    y = rng.integers(0, C, 300)
    x = centers[y] + rng.standard_normal((300, D))
    loss, logits, params, inputs = _mlp(0.2, 0.1)
    prog = sg.compile(loss, params, inputs, outputs=[logits], optimizer=sg.optim.Adam(lr=0.02), seed=0)
    values = {p.name: (rng.standard_normal(tuple(p.shape)) * 0.3).astype(np.float32) for p in params}
    h = sg.train(prog, {"x": x.astype(np.float32), "y": y.astype(np.float32)}, epochs=15, batch_size=32,
                 values=values, progress=False, seed=0)
    assert h.loss[-1] < h.loss[0] / 3
    pred = prog.forward(h.values, {"x": x.astype(np.float32)})[0].argmax(1)
    assert (pred == y).mean() > 0.95
