"""Whole-batch declarations (a symbolic batch size N): compile, Program.loss/grad/step/forward and
sg.train, with the batch-norm MLP of examples/train_bn_digits.py as the acceptance case."""
import importlib.util
import pathlib
import re

import numpy as np
import pytest
import sympy as sp
import torch
from threadpoolctl import threadpool_limits

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
ROOT = pathlib.Path(__file__).resolve().parents[2]


def _example():
    spec = importlib.util.spec_from_file_location("train_bn_digits", ROOT / "examples" / "train_bn_digits.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _torch_bn_mlp(values, x, y, n_hidden, eps=1e-5):
    """The same network written by hand in torch (batch statistics, biased variance)."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    h = torch.tensor(x, dtype=torch.float64)
    for i in range(1, n_hidden + 1):
        z = h @ t[f"W{i}"] + t[f"b{i}"]
        zhat = (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + eps)
        h = torch.relu(t[f"gamma{i}"] * zhat + t[f"beta{i}"])
    k = n_hidden + 1
    logits = h @ t[f"W{k}"] + t[f"b{k}"]
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y).long())
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}, logits.detach().numpy()


def test_bn_mlp_gradients_equal_torch():
    ex = _example()
    loss, logits, params, inputs = ex.bn_mlp([64, 16, 12, 10])
    prog = sg.compile(loss, params, inputs, outputs=[logits], dtype="float64")
    rng = np.random.default_rng(7)
    values = {p.name: rng.standard_normal(tuple(p.shape)) * (0.3 if p.name[0] == "W" else 1.0) for p in params}
    for n in (9, 40):                                   # one program, any N
        x, y = rng.standard_normal((n, 64)), rng.integers(0, 10, n).astype(float)
        want_loss, want, want_logits = _torch_bn_mlp(values, x, y, n_hidden=2)
        assert prog.loss(values, {"x": x, "y": y}) == pytest.approx(want_loss, rel=1e-12)
        got = prog.grad(values, {"x": x, "y": y})
        assert set(got) == set(want)
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-9, atol=1e-9, err_msg=name)
        np.testing.assert_allclose(prog.forward(values, {"x": x})[0], want_logits, rtol=1e-9, atol=1e-12)


@pytest.mark.slow
def test_bn_mlp_trains_on_digits_to_097():
    ex = _example()
    with threadpool_limits(1):                          # BLAS threads fight over a loaded machine
        acc, history, program = ex.run(epochs=6, hidden=(128, 64), batch_size=64, lr=3e-3, seed=0,
                                       progress=False)
    assert acc >= 0.97
    assert history.loss[-1] < history.loss[0] / 10
    assert type(program).__name__ == "WholeBatchProgram"


def test_train_passes_minibatches_as_they_are():
    # whole-batch least squares: sg.train's minibatches of 4 rows are the N of each step, and the
    # step is w ← w − lr·(2/N)·xᵀ(xw − t), the mean over N being the one in the declaration
    x, t, w = sg.tensor("x", (N, 3)), sg.tensor("t", (N,)), sg.tensor("w", (3,))
    prog = sg.compile(sg.mean((x @ w - t) ** 2), [w], [x, t], optimizer=sg.optim.SGD(lr=0.1), dtype="float64")
    rng = np.random.default_rng(0)
    X, T = rng.standard_normal((12, 3)), rng.standard_normal(12)
    h = sg.train(prog, {"x": X, "t": T}, epochs=1, batch_size=4, shuffle=False, progress=False,
                 values={"w": np.zeros(3)})
    want, losses = np.zeros(3), []
    for s in range(0, 12, 4):
        xb, tb = X[s:s + 4], T[s:s + 4]
        r = xb @ want - tb
        losses.append(np.mean(r ** 2))
        want = want - 0.1 * 2 / 4 * xb.T @ r
    np.testing.assert_allclose(h.values["w"], want, rtol=1e-12)
    np.testing.assert_allclose(h.loss, losses, rtol=1e-12)


def test_step_updates_in_place_and_counts():
    x, w = sg.tensor("x", (N, 2)), sg.tensor("w", (2,))
    prog = sg.compile(sg.sum((x @ w - 1) ** 2) / N, [w], [x], optimizer=sg.optim.Adam(lr=0.1))
    values = {"w": np.zeros(2, np.float32)}
    w0 = values["w"]
    values, state = prog.step(values, None, {"x": np.ones((5, 2), np.float32)})
    assert values["w"] is w0 and state["t"] == 1
    assert prog.last_loss == pytest.approx(1.0)         # Σ (0 − 1)² / N, N = 5
    assert np.all(w0 > 0)


def test_size_written_in_the_loss_is_bound_from_the_arrays():
    x, w = sg.tensor("x", (N, 2)), sg.tensor("w", (2,))
    prog = sg.compile(sg.sum(x @ w) / N, [w], [x], dtype="float64")
    X = np.arange(10.0).reshape(5, 2)
    assert prog.loss({"w": np.array([1.0, 2.0])}, {"x": X}) == pytest.approx((X @ [1.0, 2.0]).mean())
    np.testing.assert_allclose(prog.grad({"w": np.zeros(2)}, {"x": X})["w"], X.mean(0))
    code = [ln.split("#")[0] for ln in prog.source.splitlines() if not ln.strip().startswith(('"', "'"))]
    assert not [ln for ln in code if re.search(r"\bN\b", ln)]             # generated names only (d0)
    assert any("d0 = x0.shape[0]" in ln for ln in code)


def test_saved_module_runs_without_symgrad(tmp_path):
    x, y, w = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True), sg.tensor("w", (4, 3))
    prog = sg.compile(sg.cross_entropy(x @ w, y), [w], [x, y], dtype="float64")
    path = tmp_path / "bn.py"
    prog.save(path)
    spec = importlib.util.spec_from_file_location("saved_whole_batch", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    X, Y, W = np.ones((3, 4)), np.array([0.0, 1.0, 2.0]), np.zeros((4, 3))
    assert mod.loss([W], [X, Y]) == pytest.approx(np.log(3))
    assert prog.loss({"w": W}, {"x": X, "y": Y}) == pytest.approx(np.log(3))


def test_saved_step_refuses_t_below_one_before_touching_anything(tmp_path):
    """The whole-batch module keeps the calling convention its docstring states: t counts from 1."""
    import importlib.util
    x, w = sg.tensor("x", (N, 2)), sg.tensor("w", (2,))
    prog = sg.compile(sg.sum((x @ w - 1) ** 2) / N, [w], [x], optimizer=sg.optim.Adam(lr=0.1))
    path = tmp_path / "wb_step.py"
    prog.save(path)
    spec = importlib.util.spec_from_file_location("wb_step", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    p, slots = np.zeros(2, np.float32), [np.ones(2, np.float32), np.ones(2, np.float32)]
    with pytest.raises(ValueError, match="counting from 1"):
        mod.step([p], slots, 0, [np.ones((5, 2), np.float32)])
    assert np.all(p == 0) and all(np.all(s == 1) for s in slots)
    mod.step([p], slots, 1, [np.ones((5, 2), np.float32)])
    assert np.all(p != 0)                               # and at t = 1 it steps
