"""sg.dropout compiled for target="triton": the rows kernels draw the masks (tl.rand of the seed,
the device's step count and each entry's index b·N + n), grad and step with dropout on, loss and
forward off. Kernels under TRITON_INTERPRET=1 (tests/conftest.py): small sizes.

A mask is observable: L = Σ_n (w ⊙ x ⊙ M)_n with w = x = 1 and one example has ∂L/∂w = M. One
example of D·B entries reads the offsets 0 … D·B − 1, the same as B examples of D entries, so a
program of width D·B shows the masks another program of width D draws for B examples (one mask,
the same seed)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

from tests.dropout_stand_in import GivenUniforms  # noqa: E402


def _mask_program(width, p, **kw):
    x, w = sg.tensor("x", (width,)), sg.tensor("w", (width,))
    return sg.compile(sg.sum(sg.dropout(w * x, p)), [w], [x], target="triton", **kw)


def _ones(width):
    return {"w": np.ones(width, np.float32)}, {"x": np.ones((1, width), np.float32)}


def _mask(prog, width, **kw):
    v, b = _ones(width)
    return np.asarray(prog.grad(v, b, **kw)["w"].cpu())


def test_keep_rate_and_exact_scale():
    p, width = 0.3, 256
    prog = _mask_program(width, p)
    m = np.concatenate([_mask(prog, width, dropout_seed=s) for s in range(4)])
    kept = m != 0
    assert abs(kept.mean() - (1 - p)) < 0.05                  # 1024 entries: σ ≈ 0.014
    np.testing.assert_array_equal(m[kept], np.float32(1 / (1 - p)))     # kept entries scaled exactly
    assert set(np.unique(m)) == {0.0, np.float32(1 / (1 - p))}


def test_same_seed_same_mask_new_call_or_step_new_mask():
    width = 128
    prog = _mask_program(width, 0.5)
    a, b = _mask(prog, width, dropout_seed=7), _mask(prog, width, dropout_seed=7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, _mask(prog, width, dropout_seed=8))
    assert not np.array_equal(_mask(prog, width), _mask(prog, width))     # the program's generator: fresh
    # step: with SGD(lr=1) and w = x = 1, each step subtracts that step's mask from w
    masks = []
    for _ in range(2):
        step = _mask_program(width, 0.5, optimizer=sg.optim.SGD(lr=1.0), seed=3)
        v, bt = _ones(width)
        w = torch.tensor(v["w"])
        state = None
        seen = []
        for _ in range(3):
            before = w.clone()
            _, state = step.step({"w": w}, state, bt)
            seen.append((before - w).numpy())
        masks.append(seen)
    for s in masks[0]:
        assert set(np.unique(s)) <= {0.0, 2.0} and 0.3 < (s != 0).mean() < 0.7
    assert not np.array_equal(masks[0][0], masks[0][1]) and not np.array_equal(masks[0][1], masks[0][2])
    np.testing.assert_array_equal(np.array(masks[0]), np.array(masks[1]))     # the same seed: the same masks


def test_gradient_equals_numpy_target_under_the_same_mask():
    B, D, H, C, p = 5, 8, 16, 3, 0.5
    x, y = sg.tensor("x", (D,)), sg.tensor("y", (), integer=True)
    V1, V2 = sg.tensor("V1", (H, D)), sg.tensor("V2", (C, H))
    loss = sg.cross_entropy(V2 @ sg.dropout(sg.relu(V1 @ x), p), y)
    tri = sg.compile(loss, [V1, V2], [x, y], target="triton")
    num = sg.compile(loss, [V1, V2], [x, y])
    rng = np.random.default_rng(0)
    values = {"V1": rng.normal(0, 0.5, (H, D)).astype(np.float32),
              "V2": rng.normal(0, 0.5, (C, H)).astype(np.float32)}
    batch = {"x": rng.normal(0, 1, (B, D)).astype(np.float32), "y": rng.integers(0, C, B).astype(np.float32)}
    g = tri.grad(values, batch, dropout_seed=11)
    # the mask Triton drew, shown by a program of one example of B·H entries (the same offsets)
    m = _mask(_mask_program(B * H, p), B * H, dropout_seed=11).reshape(B, H)
    assert 0 < (m != 0).sum() < m.size
    num.rng = GivenUniforms((m != 0).astype(np.float64))     # u ≥ p kept: u = 1 kept, 0 dropped
    want = num.grad({k: v.astype(np.float64) for k, v in values.items()},
                    {"x": batch["x"].astype(np.float64), "y": batch["y"].astype(np.int64)})
    assert num.rng.shapes == [(B, H)]
    for k in ("V1", "V2"):
        np.testing.assert_allclose(np.asarray(g[k].cpu()), want[k], rtol=1e-4, atol=1e-6)
    # a mask = 1 everywhere would give another gradient: the mask matters
    ones = sg.compile(sg.cross_entropy(V2 @ sg.relu(V1 @ x), y), [V1, V2], [x, y])
    assert not np.allclose(ones.grad(values, batch)["V1"], want["V1"], rtol=1e-3)


def test_two_masks_gradient_equals_numpy_target_under_the_same_masks():
    B, D, H, C = 4, 8, 16, 3
    x, y = sg.tensor("x", (D,)), sg.tensor("y", (), integer=True)
    V1, V2, V3 = sg.tensor("V1", (H, D)), sg.tensor("V2", (H, H)), sg.tensor("V3", (C, H))
    loss = sg.cross_entropy(V3 @ sg.dropout(sg.tanh(V2 @ sg.dropout(sg.relu(V1 @ x), 0.5)), 0.2), y)
    tri = sg.compile(loss, [V1, V2, V3], [x, y], target="triton")
    num = sg.compile(loss, [V1, V2, V3], [x, y])
    # both masks read back: mask k of a program with two masks has the seed drop_base + k
    a1, w1, a2, w2 = (sg.tensor(n, (B * H,)) for n in ("a1", "w1", "a2", "w2"))
    show = sg.compile(sg.sum(sg.dropout(w1 * a1, 0.5)) + sg.sum(sg.dropout(w2 * a2, 0.2)), [w1, w2], [a1, a2],
                      target="triton")
    one = np.ones((1, B * H), np.float32)
    g = show.grad({"w1": one[0], "w2": one[0]}, {"a1": one, "a2": one}, dropout_seed=5)
    m1, m2 = (np.asarray(g[k].cpu()).reshape(B, H) for k in ("w1", "w2"))
    assert not np.array_equal(m1 != 0, m2 != 0)
    rng = np.random.default_rng(0)
    values = {"V1": rng.normal(0, .5, (H, D)), "V2": rng.normal(0, .5, (H, H)), "V3": rng.normal(0, .5, (C, H))}
    batch = {"x": rng.normal(0, 1, (B, D)), "y": rng.integers(0, C, B)}
    num.rng = GivenUniforms((m1 != 0).astype(np.float64), (m2 != 0).astype(np.float64))
    want = num.grad(values, batch)
    got = tri.grad(values, batch, dropout_seed=5)
    for k in want:
        np.testing.assert_allclose(np.asarray(got[k].cpu()).reshape(want[k].shape), want[k], rtol=1e-4, atol=1e-6)


def test_loss_and_forward_without_dropout_loss_with_seed_with_it():
    width = 64
    x, w = sg.tensor("x", (width,)), sg.tensor("w", (width,))
    d = sg.dropout(w * x, 0.5)
    prog = sg.compile(sg.sum(d), [w], [x], target="triton", outputs=[d])
    v, b = _ones(width)
    assert prog.loss(v, b) == width                            # M = 1: Σ w·x
    np.testing.assert_array_equal(np.asarray(prog.forward(v, b)[0].cpu()).reshape(-1), np.ones(width))
    assert "tl.rand" not in prog.source.split("def eval_kernel")[1].split("def train_kernel")[0]
    # with dropout_seed: the training loss under grad's masks (Σ M)
    m = _mask(prog, width, dropout_seed=4)
    assert prog.loss(v, b, dropout_seed=4) == pytest.approx(float(m.sum()), rel=1e-6)


def test_a_dropout_over_the_batch_equals_the_numpy_target_under_the_same_mask():
    N = sp.Symbol("N", integer=True, positive=True)
    B, D, H, C, p = 6, 5, 16, 4, 0.4
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    W1, W2, b2 = sg.tensor("W1", (D, H)), sg.tensor("W2", (H, C)), sg.tensor("b2", (C,))
    loss = sg.cross_entropy(sg.dropout(sg.relu(x @ W1), p) @ W2 + b2, y)
    tri = sg.compile(loss, [W1, W2, b2], [x, y], target="triton")
    num = sg.compile(loss, [W1, W2, b2], [x, y])
    rng = np.random.default_rng(1)
    values = {"W1": rng.normal(0, 0.5, (D, H)), "W2": rng.normal(0, 0.5, (H, C)), "b2": rng.normal(0, 0.1, C)}
    batch = {"x": rng.normal(0, 1, (B, D)), "y": rng.integers(0, C, B)}
    g = tri.grad(values, batch, dropout_seed=2)
    m = _mask(_mask_program(B * H, p), B * H, dropout_seed=2).reshape(B, H)      # example b's: row b
    num.rng = GivenUniforms((m != 0).astype(np.float64))
    want = num.grad(values, batch)
    assert num.rng.shapes == [(B, H)]
    for k in want:
        np.testing.assert_allclose(np.asarray(g[k].cpu()).reshape(want[k].shape), want[k], rtol=1e-4, atol=1e-6)
    assert tri.loss(values, batch) == pytest.approx(num.loss(values, batch), rel=1e-5)     # dropout off


def test_a_matrix_mask_per_example_is_refused_with_the_way_out():
    x, W = sp.MatrixSymbol("x", 3, 2), sp.MatrixSymbol("W", 2, 3)
    with pytest.raises(sg.UnsupportedError, match="matrix per example"):
        sg.compile(sg.sum(sg.dropout(W * x, 0.5)), [W], [x], target="triton")


def test_a_dropout_step_runs_no_torch_op_on_the_host_and_never_waits(monkeypatch):
    from torch.utils._python_dispatch import TorchDispatchMode

    from tests.codegen.test_triton_host_path import SyncCounter, _stubbed

    class Ops(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.append(func.overloadpacket.__name__)
            return func(*args, **(kwargs or {}))

    D, H, C = 5, 8, 3
    x, y = sg.tensor("x", (D,)), sg.tensor("y", (), integer=True)
    V1, V2 = sg.tensor("V1", (H, D)), sg.tensor("V2", (C, H))
    prog = sg.compile(sg.cross_entropy(V2 @ sg.dropout(sg.relu(V1 @ x), 0.5), y), [V1, V2], [x, y],
                      target="triton", optimizer=sg.optim.Adam(lr=0.01))
    log = _stubbed(prog, monkeypatch)
    values = {"V1": torch.randn(H, D), "V2": torch.randn(C, H)}
    batch = {"x": torch.randn(16, D), "y": torch.randint(0, C, (16,)).float()}
    values, state = prog.step(values, None, batch)           # the first step makes the buffers
    with SyncCounter() as counter, Ops() as ops:
        for _ in range(3):
            values, state = prog.step(values, state, batch)
    assert counter.syncs == [] and ops.ops == [], (counter.syncs, ops.ops)
    n = len(log) // 4
    per_step = [log[i:i + n] for i in range(0, len(log), n)]
    assert per_step[1] == per_step[2] == per_step[3]         # the same launch arguments: the count is on the device
    assert any(prog._drop_seed in scalars for _, scalars, _ in per_step[1])   # the masks' seed is passed
