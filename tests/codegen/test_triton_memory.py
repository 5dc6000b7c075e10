"""The Triton step allocates no more than PyTorch eager's step on the same network (issue 6), for
both schedules, measured as bench/step_memory.py does: the generated host code on CPU tensors with
the kernel launches intercepted (the kernels allocate nothing), against eager PyTorch on the CPU.
In a subprocess: the kernels must be real @triton.jit functions (this process interprets them)."""
import os
import subprocess
import sys

import pytest

pytest.importorskip("triton")
pytest.importorskip("torch")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = """
import sys, torch
sys.path.insert(0, "bench")
from step_memory import ours_peak, eager_peak
torch.manual_seed(0)
for width in (32, 128):
    X, Y = torch.randn(2048, 32), torch.randn(2048, 16)
    print(width, ours_peak(torch, width, X, Y, 128), ours_peak(torch, width, X, Y, 0), eager_peak(torch, width, X, Y))
"""


def test_step_allocates_less_than_eager(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env.update(SYMGRAD_TRITON_AUTOTUNE="0", SYMGRAD_CACHE=str(tmp_path),
               PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    rows = [list(map(int, ln.split())) for ln in run.stdout.splitlines() if ln[:1].isdigit()]
    assert [r[0] for r in rows] == [32, 128]
    for width, fused, per_product, eager in rows:
        # the batch's activations dominate: at least one (B, width) array in each, so nothing is 0
        assert 2048 * width * 4 <= fused <= eager, (width, fused, eager)
        assert 2048 * width * 4 <= per_product <= eager, (width, per_product, eager)
