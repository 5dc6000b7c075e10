"""`symgrad train` under Ctrl-C (issue 13, points 6 and 7), in subprocesses with the real compiler:
a SIGINT at a random moment of training ends the command with exit 130 (0 had it finished first), a
one-line message and no traceback, and the checkpoint holds the values after the step it names —
the values of the same model trained that many steps here, replayed with the same seed.
"""
import copy
import os
import random
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from symgrad.cli import _model
from symgrad.compiling.training import init_values, load
from standin_program import SOFTMAX_MODEL_FILE, blobs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BATCH = 8

MODEL = SOFTMAX_MODEL_FILE



def _sigint_as_at_a_terminal():
    """In the child: SIGINT at its default, as at a terminal. A suite started in the background
    (nohup, `cmd &` in a script) hands its children SIGINT ignored, and Python keeps it so."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)

def replay(program, params, data, seed, steps):
    """The values after ``steps`` steps of the command's schedule: init_values(params, seed), one
    permutation per epoch from default_rng(seed), minibatches of BATCH in order."""
    values = init_values(params, seed)
    state, rng, n = program.init_state(values), np.random.default_rng(seed), len(data["x"])
    done = 0
    while done < steps:
        order = rng.permutation(n)
        for i in range(0, n, BATCH):
            if done == steps:
                break
            idx = order[i:i + BATCH]
            values, state = program.step(copy.deepcopy(values), copy.deepcopy(state),
                                         {k: a[idx] for k, a in data.items()})
            done += 1
    return values


def wait_for_first_epoch(path, seconds):
    """Whether the command's stdout (the file ``path``) shows an epoch line within ``seconds``: its
    stderr is a pipe here, no terminal, so there is no progress bar to watch for."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if path.exists() and b"epoch 1 " in path.read_bytes():
            return True
        time.sleep(0.01)
    return False


class Stderr:
    """Reads a process's stderr in a thread."""

    def __init__(self, stream):
        self.text = ""
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for chunk in iter(lambda: stream.read1(4096), b""):
            self.text += chunk.decode("utf-8", "replace")


@pytest.mark.slow
def test_sigint_at_random_moments_of_symgrad_train(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    data = blobs(40)
    np.savez(tmp_path / "d.npz", **data)
    model = _model.load_model(tmp_path / "model.py")
    program = _model.compile_program(model, "numpy", model.optimizer, "float64")
    env = dict(os.environ, PYTHONPATH=ROOT)
    delays = random.Random(7)
    outcomes = []
    for trial in range(6):
        seed, delay = trial % 2, delays.uniform(0.0, 0.4)
        ck = tmp_path / f"ck{trial}.npz"
        with open(tmp_path / "out.txt", "wb") as out:
            p = subprocess.Popen([sys.executable, "-m", "symgrad", "train", "model.py", "--data", "d.npz",
                                  "--epochs", "3000", "--batch-size", str(BATCH), "--seed", str(seed),
                                  "--dtype", "float64", "--checkpoint", ck.name],
                                 cwd=tmp_path, env=env, stdout=out, stderr=subprocess.PIPE,
                                 preexec_fn=_sigint_as_at_a_terminal)
            err = Stderr(p.stderr)
            try:
                assert wait_for_first_epoch(tmp_path / "out.txt", 120), err.text
                time.sleep(delay)
                p.send_signal(signal.SIGINT)
                rc = p.wait(60)
            finally:
                if p.poll() is None:
                    p.kill()
            err.thread.join(10)
        context = f"trial {trial}, seed {seed}, delay {delay:.3f}s, exit {rc}:\n{err.text[-2000:]}"
        assert rc == 130, context
        assert "Traceback" not in err.text, context
        last = err.text.replace("\r", "\n").strip().splitlines()[-1].removeprefix("symgrad train: ")
        assert last.startswith("training interrupted (Ctrl-C) at step "), context
        step = int(last.split(" at step ")[1].split(",")[0])
        saved = load(ck)
        assert saved.step == step, context
        want = replay(program, model.params, data, seed, step)
        for name in ("W", "b"):
            assert np.isfinite(saved.values[name]).all()
            np.testing.assert_array_equal(saved.values[name], want[name], err_msg=context)
        outcomes.append(step)
    assert len(set(outcomes)) > 2, outcomes                      # the moments were different
