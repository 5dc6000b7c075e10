"""prog.as_torch() and the module's calls do not import torch._dynamo (1.5 to 3 s on this machine,
most of what as_torch() and its first call took until 2026-11-30, seventh session); torch.compile of a
model holding the module still breaks its graph there (tests/codegen/test_torch_layer.py)."""
import os
import subprocess
import sys

SCRIPT = """
import sys, torch, sympy as sp, symgrad as sg
N = sp.Symbol("N", integer=True, positive=True)
x, t = sg.tensor("x", (N, 4)), sg.tensor("t", (N, 3))
W = sg.tensor("W", (4, 3))
mod = sg.compile(sg.mse(x @ W, t), [W], [x, t], outputs=[x @ W]).as_torch()
X = torch.randn(6, 4, requires_grad=True)
mod(X).sum().backward()
mod.loss(X, torch.randn(6, 3)).backward()
print("torch._dynamo" in sys.modules)
"""


def test_as_torch_and_its_calls_leave_dynamo_unimported():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, cwd=root,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
