"""`symgrad train` under SIGTERM (kill, timeout, a job scheduler, docker stop): it stops at the next
step boundary, saves --checkpoint and exits 143 with one line, as after Ctrl-C; it was killed where
it stood, the epoch under way lost. Also when the job runs with SIGINT ignored (in the background)."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from symgrad.compiling.training import load
from standin_program import SOFTMAX_MODEL_FILE, blobs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("sigint", [signal.SIG_DFL, signal.SIG_IGN])
def test_sigterm_saves_the_checkpoint_and_exits_143(tmp_path, sigint):
    (tmp_path / "model.py").write_text(SOFTMAX_MODEL_FILE)
    np.savez(tmp_path / "d.npz", **blobs(100000))    # 12500 steps an epoch of batches of 8
    out = tmp_path / "out.txt"
    with open(out, "wb") as f:
        p = subprocess.Popen([sys.executable, "-m", "symgrad", "train", "model.py", "--data", "d.npz", "--epochs",
                              "100000", "--batch-size", "8", "--checkpoint", "ck.npz"],
                             cwd=tmp_path, env=dict(os.environ, PYTHONPATH=ROOT), stdout=f, stderr=subprocess.PIPE,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, sigint))
        try:
            end = time.monotonic() + 120
            while b"epoch 2 " not in out.read_bytes() and time.monotonic() < end:
                time.sleep(0.01)
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
    err = err.decode()
    assert p.returncode == 143, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("symgrad train: training interrupted (SIGTERM) at step "), err
    step = int(err.split(" at step ")[1].split(",")[0])
    # the checkpoint is at the step it names, and that step is the one under way when the signal came
    # (within epoch 3), not the end of epoch 3 (37500) that waiting for the epoch would give; the
    # signal may arrive at step 25000 itself, the boundary after epoch 2's line
    assert load(tmp_path / "ck.npz").step == step and 25000 <= step < 37500
