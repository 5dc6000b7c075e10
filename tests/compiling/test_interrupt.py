"""Ctrl-C in sg.train (issue 13, point 6): training stops at a step boundary and returns the History,
the values and the checkpoint are those of a step boundary, a second Ctrl-C aborts without a
half-written checkpoint.

The oracle is `Trajectory`: train's schedule (a permutation of the samples per epoch from
default_rng(seed), minibatches in order) replayed step by step with the same compiled program, its
values and optimizer state kept after every step. An interrupted run must end exactly (bit for bit)
on one of them. The 50 random trials send a real SIGINT from a timer thread at a random moment.
"""
import copy
import os
import random
import signal
import sys
import threading

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling import training as T
from symgrad.compiling import training_checkpoint
from symgrad.compiling.training import accuracy, load, mean_loss, train
from standin_program import blobs

DATA, VAL = blobs(40), blobs(20, sample_seed=7)
BATCH = 8                            # 5 steps per epoch: checkpoint saves and metrics are frequent
PER_EPOCH = 5
W, b = sp.MatrixSymbol("W", 3, 4), sp.MatrixSymbol("b", 3, 1)
x, t = sp.MatrixSymbol("x", 4, 1), sp.MatrixSymbol("t", 3, 1)


@pytest.fixture(scope="module")
def program():
    """A compiled NumPy program: its step updates the arrays it is given in place."""
    prog = sg.compile(sg.cross_entropy(W * x + b, t), params=[W, b], inputs=[x, t], outputs=[W * x + b],
                      optimizer=sg.optim.Adam(lr=0.05), dtype="float64")
    assert prog.in_place
    return prog


@pytest.fixture
def default_sigint():
    """Python's own SIGINT handler while the test runs (a test runner may have its own)."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def initial():
    return T.init_values([W, b], seed=3)


class Trajectory:
    """The values and optimizer state after 0, 1, 2, ... steps of train's schedule for ``seed``."""

    def __init__(self, program, seed):
        self.program, self.rng = program, np.random.default_rng(seed)
        v0 = initial()
        self.values, self.states, self.pending = [v0], [program.init_state(v0)], []

    def at(self, k):
        while len(self.values) <= k:
            if not self.pending:
                order = self.rng.permutation(len(DATA["x"]))
                self.pending = [order[i:i + BATCH] for i in range(0, len(order), BATCH)]
            idx = self.pending.pop(0)
            v, s = self.program.step(copy.deepcopy(self.values[-1]), copy.deepcopy(self.states[-1]),
                                     {k_: a[idx] for k_, a in DATA.items()})
            self.values.append(copy.deepcopy(v))
            self.states.append(copy.deepcopy(s))
        return self.values[k], self.states[k]


def assert_at_step(values, state, traj, k):
    want_v, want_s = traj.at(k)
    for name in ("W", "b"):
        assert np.isfinite(values[name]).all()
        np.testing.assert_array_equal(values[name], want_v[name], err_msg=f"{name} at step {k}")
    if state is not None:
        assert state["t"] == want_s["t"] == k
        for slot in ("exp_avg", "exp_avg_sq"):
            for name in ("W", "b"):
                np.testing.assert_array_equal(state[slot][name], want_s[slot][name])


def assert_no_temp_files(folder, keep=("ck.npz",)):
    assert sorted(set(os.listdir(folder)) - set(keep)) == []


def run(program, seed, checkpoint, epochs=4000, **kw):
    return train(program, DATA, epochs=epochs, batch_size=BATCH, seed=seed, validation=VAL,
                 metrics={"loss": mean_loss, "accuracy": accuracy("t")}, progress=False,
                 checkpoint=checkpoint, **kw)


@pytest.mark.slow
def test_sigint_at_random_moments_stops_at_a_step_boundary(program, default_sigint, tmp_path):
    """50 trials: a SIGINT at a random moment (up to 0.12 s, a few epochs in) of a run that would
    last far longer. Each ends at a step boundary: values, optimizer state and checkpoint are those
    after the step the history reports, the caller's dict is untouched, no temporary file is left."""
    trajectories = {s: Trajectory(program, s) for s in range(3)}
    delays = random.Random(13)
    outcomes = {"interrupted": 0, "before the loop": 0, "lost by Python": 0}
    for trial in range(50):
        seed, delay = trial % 3, delays.uniform(0.0, 0.12)
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        ck = folder / "ck.npz"
        given = initial()
        timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
        # A SIGINT before train installs its handler raises KeyboardInterrupt from Python's default
        # one; if that lands inside a garbage collector's weakref callback, Python prints "Exception
        # ignored" and drops it (CI saw it once under load): recorded here, never symgrad's doing.
        lost, hook = [], sys.unraisablehook
        sys.unraisablehook = lambda u: lost.append(u) if isinstance(u.exc_value, KeyboardInterrupt) else hook(u)
        try:
            timer.start()                     # inside the try: under load the signal can come
            h = run(program, seed, ck, values=given)     # before start() returns
        except KeyboardInterrupt:             # the signal came before train installed its handler
            timer.join()
            outcomes["before the loop"] += 1
            assert not ck.exists()
            assert_at_step(given, None, trajectories[seed], 0)
            continue
        finally:
            sys.unraisablehook = hook
        timer.join()
        context = f"trial {trial}, seed {seed}, delay {delay:.3f}s: {h.message}"
        if lost and not h.interrupted:        # Python dropped the KeyboardInterrupt before the loop
            outcomes["lost by Python"] += 1
            assert len(h.epochs) == 4000 and h.step == len(h.loss) and not h.message, context   # ran to its end
            continue
        assert h.interrupted, context
        outcomes["interrupted"] += 1
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert len(h.loss) == h.step and len(h.epochs) == h.step // PER_EPOCH
        assert_at_step(h.values, h.state, trajectories[seed], h.step)
        assert_at_step(given, None, trajectories[seed], 0)    # the caller's arrays: never written
        ckpt = load(ck)
        assert ckpt.step == h.step and ckpt.epoch == len(h.epochs), context
        assert_at_step(ckpt.values, ckpt.state, trajectories[seed], ckpt.step)
        assert_no_temp_files(folder)
    assert outcomes["interrupted"] >= 40, outcomes


class Interrupting:
    """Wraps a program; at step ``at`` its step writes NaN into the copies it was given (half of
    them), then runs ``then`` (sends SIGINT, raises KeyboardInterrupt) and, when that returns,
    undoes the NaN and finishes the step."""

    def __init__(self, program, at, then):
        self.program, self.at, self.then, self.steps = program, at, then, 0
        self.in_place = True

    def __getattr__(self, name):
        return getattr(self.program, name)

    def step(self, values, state, batch):
        self.steps += 1
        if self.steps == self.at:
            kept = values["W"].copy()
            values["W"][...] = np.nan         # half-updated, as an interrupted in-place step would be
            self.then()                       # when this raises, the copies stay half-updated
            values["W"][...] = kept
        return self.program.step(values, state, batch)


def kill():
    os.kill(os.getpid(), signal.SIGINT)


def test_a_keyboard_interrupt_raised_inside_a_step_keeps_the_step_before(program, tmp_path):
    """The fallback without the handler (another thread, another handler): a KeyboardInterrupt in
    the middle of an in-place step is the first Ctrl-C; the half-updated copies are dropped."""
    def boom():
        raise KeyboardInterrupt
    traj = Trajectory(program, 0)
    for at in (1, 5, 13):
        h = run(Interrupting(program, at, boom), 0, tmp_path / "ck.npz", epochs=10, values=initial())
        assert h.interrupted and h.step == at - 1 and "interrupted" in h.message
        assert_at_step(h.values, h.state, traj, at - 1)
        assert_at_step(load(tmp_path / "ck.npz").values, None, traj, at - 1)


def test_interrupt_in_another_thread_is_caught_without_a_handler(program):
    """Signals reach only the main thread, so train installs no handler in another one; a metric
    that raises KeyboardInterrupt there stops training after that epoch's steps."""
    calls = []

    def metric(prog, values, data):
        calls.append(1)
        if len(calls) == 4:                   # the probe, then epochs 1 and 2; interrupt in epoch 3
            raise KeyboardInterrupt
        return 0.0
    result = {}

    def work():
        result["h"] = train(program, DATA, epochs=10, batch_size=BATCH, seed=1, metrics={"m": metric},
                            progress=False, values=initial())
        result["handler"] = signal.getsignal(signal.SIGINT)
    before = signal.getsignal(signal.SIGINT)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    h = result["h"]
    assert h.interrupted and h.step == 3 * PER_EPOCH and len(h.epochs) == 2
    assert_at_step(h.values, h.state, Trajectory(program, 1), h.step)
    assert result["handler"] is before


def test_second_sigint_aborts_with_keyboard_interrupt_and_a_whole_checkpoint(program, default_sigint,
                                                                           tmp_path):
    """Two SIGINTs inside step 13 (epoch 3): the first asks to stop, the second aborts at once. The
    checkpoint keeps the last completed save (after epoch 2); the error carries the history."""
    def twice():
        kill()
        kill()
    ck = tmp_path / "ck.npz"
    with pytest.raises(KeyboardInterrupt) as e:
        run(Interrupting(program, 13, twice), 0, ck, epochs=10, values=initial())
    assert e.value.history.step == 12
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ckpt = load(ck)
    assert ckpt.step == 2 * PER_EPOCH and ckpt.epoch == 2
    assert_at_step(ckpt.values, ckpt.state, Trajectory(program, 0), ckpt.step)
    assert_no_temp_files(tmp_path)


def test_second_sigint_during_the_interrupt_save_leaves_the_previous_checkpoint(
        program, default_sigint, tmp_path, monkeypatch):
    """The first SIGINT in step 8 stops training; the second lands while that stop's checkpoint is
    being written: KeyboardInterrupt (not a missing temporary file), and the file on disk is still
    the whole save of epoch 1."""
    armed = []
    real = training_checkpoint.atomic_write

    def atomic_write(path, data, **kw):
        def write(f):
            data(f)
            if armed:
                kill()                        # the second Ctrl-C: the handler raises right here
        real(path, write, **kw)
    monkeypatch.setattr(training_checkpoint, "atomic_write", atomic_write)   # what save calls
    ck = tmp_path / "ck.npz"
    with pytest.raises(KeyboardInterrupt) as e:
        run(Interrupting(program, 8, lambda: (kill(), armed.append(1))), 0, ck, epochs=10,
            values=initial())
    assert not isinstance(e.value.__context__, FileNotFoundError)
    assert e.value.history.step == 8 and e.value.history.interrupted
    ckpt = load(ck)
    assert ckpt.step == PER_EPOCH and ckpt.epoch == 1
    assert_at_step(ckpt.values, ckpt.state, Trajectory(program, 0), ckpt.step)
    assert_no_temp_files(tmp_path)


def test_sigint_during_the_metrics_finishes_the_epoch_then_stops(program, default_sigint, tmp_path):
    calls = []

    def metric(prog, values, data):
        calls.append(1)
        if len(calls) == 3:                   # the probe, epoch 1, then SIGINT during epoch 2's
            kill()
        return 1.0
    h = train(program, DATA, epochs=10, batch_size=BATCH, seed=2, metrics={"m": metric},
              progress=False, values=initial(), checkpoint=tmp_path / "ck.npz")
    assert h.interrupted and h.step == 2 * PER_EPOCH and [e["epoch"] for e in h.epochs] == [1, 2]
    assert h.message.startswith("training interrupted (Ctrl-C) at step 10, after epoch 2")
    assert load(tmp_path / "ck.npz").epoch == 2


def test_the_interrupt_message_goes_to_stderr_with_the_progress_bar(program, default_sigint, capsys):
    h = train(Interrupting(program, 7, kill), DATA, epochs=10, batch_size=BATCH, values=initial())
    err = capsys.readouterr().err
    assert h.interrupted and h.step == 7
    assert err.rstrip().splitlines()[-1] == h.message
    assert "in epoch 2, after 2 of its 5 steps" in h.message and "nothing was saved" in h.message
