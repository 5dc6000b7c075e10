"""JAX is an optional peer of the bench scripts: without it every script's peer setup gives way
cleanly ("not installed"); with it, each script's jax.jit step computes our loss and gradients, and
its SGD step lands where ours does (small sizes; no timing)."""
from __future__ import annotations

import importlib.util
import io
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

import symgrad as sg

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _script(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def no_jax(monkeypatch):
    """``import jax`` fails, as where it is not installed (a None in sys.modules makes the import
    raise ImportError, whether or not jax was imported before)."""
    for name in ("jax", "jax.numpy", "jaxlib"):
        monkeypatch.setitem(sys.modules, name, None)


def _need_jax():
    try:
        import jax  # noqa: F401
    except ImportError as e:
        pytest.skip(f"jax is not installed ({e}): the equality with our step needs it")


# -------------------------------------------------------------------------------------------------
# without jax


def test_without_jax_every_script_skips_its_column(no_jax):
    peer = _script("jax_peer")
    assert peer.load() is None
    assert peer.version() == "jax not installed"
    every = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    assert peer.one_xla_thread() == "jax not installed"
    if every is not None:
        assert os.sched_getaffinity(0) == every          # nothing pinned for a peer that is absent
    cpu = _script("cpu_step")
    X, T, _, params = cpu.data((3, 5, 2), 8)
    assert cpu.jax_step_fn((3, 5, 2), params, X, T) is None
    t = {"generated": 1e-4, "hand": 1e-4, "torch": 2e-4}
    row = cpu._row((3, 5, 2), 8, t, {"hand": 1.0, "torch": 0.5}, 1024, 2048)
    assert row.count("not installed") == 2                # the jax.jit time and gen/jax
    assert row.count("|") == cpu.HEADER.count("|")        # still one cell per header column
    assert _script("tensor_step").jax_step_fn({}, 1) is None
    assert _script("cnn_step").jax_step_fn({}, np.zeros((1, 1, 8, 8), np.float32), np.zeros(1, np.int32)) is None
    assert _script("grad_speed").bn_mlp_jax(1) is None


def test_cpu_step_by_cpu_time_times_every_method_on_this_thread_and_says_why_jax_is_left_out():
    """``bench/cpu_step.py --cpu-time``: the per-round clock is this thread's CPU time, and the jax.jit
    column (XLA steps on a thread of its own) says "skipped (--cpu-time)", not "not installed"."""
    import time
    cpu = _script("cpu_step")
    assert cpu.CLOCK is time.perf_counter
    cpu.CLOCK = time.thread_time

    def busy():                     # on the CPU: two ms of both clocks
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 2e-3:
            pass

    def sleepy():
        time.sleep(2e-3)            # off the CPU: no CPU time, two ms of the wall clock
    med, ratio = cpu.time_steps({"generated": busy, "sleepy": sleepy}, rounds=3, per_round=2)
    assert med["sleepy"] < 0.25 * med["generated"]
    row = cpu._row((3, 5, 2), 8, {"generated": 1e-4, "hand": 1e-4, "torch": 2e-4}, {"hand": 1.0, "torch": 0.5},
                   1024, 2048)
    assert row.count("skipped (--cpu-time)") == 2 and "not installed" not in row


def test_without_jax_tensor_step_runs_and_says_so(no_jax):
    out = io.StringIO()
    with redirect_stdout(out):
        _script("tensor_step").main(["--rounds", "1", "--layers", "1", "--width", "6", "--batch", "8"])
    text = out.getvalue()
    assert "jax.jit: not installed" in text and "jax not installed" in text
    assert "compiled / torch eager" in text                # the other peers ran


def test_without_jax_jax_costs_says_so_and_stops(no_jax):
    out = io.StringIO()
    with redirect_stdout(out):
        _script("jax_costs").main(["--rounds", "1"])
    assert out.getvalue().splitlines()[-1] == "jax not installed: nothing to measure"


def test_without_jax_the_first_value_row_times_symgrad_alone(no_jax):
    t_ours, t_jax = _script("grad_speed").first_gradient_value(1, 4, batch=8)
    assert t_jax is None and t_ours[0] > 0


# -------------------------------------------------------------------------------------------------
# with jax: its step is ours


def test_the_gradient_check_can_fail():
    peer = _script("jax_peer")
    g = {"W": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.25, -0.125])}
    peer.assert_same("same", 1.5, g, 1.5 * (1 + 1e-5), {k: v * (1 + 1e-5) for k, v in g.items()})
    with pytest.raises(AssertionError, match="gradient of W"):
        peer.assert_same("one entry off", 1.5, g, 1.5, {"W": g["W"] + [[0, 0], [0, 0.01]], "b": g["b"]})
    with pytest.raises(AssertionError, match="loss"):
        peer.assert_same("loss off", 1.5, g, 1.51, g)
    with pytest.raises(AssertionError):
        peer.assert_same("a gradient missing", 1.5, g, 1.5, {"W": g["W"]})


@pytest.mark.parametrize("widths", [(3, 5, 1), (3, 5, 4)], ids=["mse", "cross-entropy"])
def test_cpu_step_jax_equals_ours(widths):
    _need_jax()
    cpu = _script("cpu_step")
    _, prog = cpu.make_program(widths)
    X, T, _, params = cpu.data(widths, 8)
    batch = {"x": X, "t": T}
    step, (loss, grads) = cpu.jax_step_fn(widths, params, X, T)
    cpu.jax_peer.assert_same("cpu_step", prog.loss(params, batch), prog.grad(params, batch), loss, grads)
    values, state = {k: v.copy() for k, v in params.items()}, None
    for _ in range(2):                                    # the second loss: after the same update
        values, state = prog.step(values, state, batch)
        theirs = step()
        assert theirs == pytest.approx(prog.last_loss, rel=1e-4)


def test_tensor_step_jax_equals_ours():
    _need_jax()
    ts = _script("tensor_step")
    loss, params, inputs = ts.declare(2, 6)
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=ts.LR), dtype="float32")
    rng = np.random.default_rng(1)
    start = ts.init(params, rng)
    X = rng.standard_normal((8, 6)).astype(np.float32)
    Y = rng.integers(0, ts.CLASSES, 8)
    batch = {"x": X, "y": Y.astype(np.float32)}
    step, first = ts.jax_step_fn({k: v.copy() for k, v in start.items()}, 2)
    ts.jax_peer.assert_same("tensor_step", prog.loss(start, batch), prog.grad(start, batch), *first(start, X, Y))
    values, state = {k: v.copy() for k, v in start.items()}, None
    for _ in range(2):
        values, state = prog.step(values, state, batch)
        assert step(X, Y) == pytest.approx(prog.last_loss, rel=1e-4)


@pytest.mark.slow                                         # two compiles of a CNN: ~15 s on a busy machine
def test_cnn_step_jax_equals_ours():
    _need_jax()
    cnn = _script("cnn_step")
    _, loss, params, inputs = cnn.lenet(c1=2, c2=3)
    prog = sg.compile(loss, params=params, inputs=inputs, optimizer=sg.optim.SGD(lr=cnn.LR), dtype="float32")
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (4, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, 4)
    values = cnn.init(params, seed=2)
    batch = {"x": x, "y": y}
    step, (jloss, jgrads) = cnn.jax_step_fn(values, x, y.astype(np.int32))
    cnn.jax_peer.assert_same("cnn_step", prog.loss(values, batch), prog.grad(values, batch), jloss, jgrads)
    ours, state = {k: v.copy() for k, v in values.items()}, None
    for _ in range(2):
        ours, state = prog.step(ours, state, batch)
        assert step() == pytest.approx(prog.last_loss, rel=1e-4)


def test_the_float64_check_puts_jax_back_in_float32():
    _need_jax()
    import jax
    import jax.numpy as jnp
    peer = _script("jax_peer")
    assert jnp.asarray(np.ones(2)).dtype == np.float32               # jax's default
    with peer.float64_check():
        assert jnp.asarray(np.ones(2)).dtype == np.float64
        assert jnp.asarray(np.ones(2, np.float32)).dtype == np.float32
    assert not jax.config.jax_enable_x64 and jnp.asarray(np.ones(2)).dtype == np.float32


def test_grad_speed_first_values_agree():
    _need_jax()
    # first_gradient_value checks jax's loss and gradients against ours before it returns
    t_ours, t_jax = _script("grad_speed").first_gradient_value(2, 5, batch=8)
    assert t_jax is not None and t_jax[0] > 0 and t_ours[0] > 0


def test_grad_speed_jax_loss_is_the_declared_loss():
    """Independently of symgrad's compiler: the JAX loss at a point is the declaration's value,
    evaluated by SymPy-free NumPy from the same formula the docstring states."""
    _need_jax()
    import jax.numpy as jnp
    gs = _script("grad_speed")
    depth, width = 1, 3
    _, params = gs.bn_mlp(depth, width)
    rng = np.random.default_rng(4)
    v = {p.name: rng.standard_normal(tuple(int(d) for d in p.shape)) for p in params}
    x, y = rng.standard_normal((5, 64)), rng.integers(0, 10, 5)
    z = x @ v["W0"] + v["b0"]
    h = np.maximum(v["gamma0"] * (z - z.mean(0)) / np.sqrt(z.var(0) + 1e-5) + v["beta0"], 0)
    s = h @ v["Wout"] + v["bout"]
    want = np.mean(np.log(np.exp(s).sum(1)) - s[np.arange(5), y])
    got = gs.bn_mlp_jax(depth)({k: jnp.asarray(a, jnp.float32) for k, a in v.items()},
                               jnp.asarray(x, jnp.float32), jnp.asarray(y))
    assert float(got) == pytest.approx(want, rel=1e-4)
