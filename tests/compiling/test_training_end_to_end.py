"""The compiler, the optimizers and the training loop together (the unit tests of each use stand-ins).

- the compiled step's 20-step trajectory equals torch.optim's for every optimizer setting of
  tests/compiling/test_optim.py, with and without weight decay;
- a diverging run stops with TrainingDiverged and keeps the last finite values, although the
  compiled program updates its arrays in place;
- `symgrad compile` / `symgrad train` on a model file, end to end, in subprocesses;
- examples/train_digits.py reaches the issue's test accuracy.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
import test_optim as T
from standin_program import blobs
from symgrad import optim as O
from symgrad.compiling.training import TrainingDiverged, load, save

ROOT = Path(__file__).resolve().parents[2]


def compiled_path(opt):
    """The quadratic + quartic loss of test_optim as a compiled program over one (2, 3) parameter."""
    P = sp.MatrixSymbol("P", 2, 3)
    x = sp.Matrix(P).reshape(6, 1)
    A, B = sp.Matrix(T.A), sp.Matrix(T.B)
    loss = (x.T * A * x)[0] / 2 - (B.T * x)[0] + T.C * sum(e ** 4 for e in x) / 4
    d = sp.Symbol("d")          # an input the loss ignores: a batch of one
    prog = sg.compile(loss + 0 * d, params=[P], inputs=[d], optimizer=opt, dtype="float64")
    v, st = {"P": T.P0.copy()}, prog.init_state({"P": T.P0})
    path = []
    for _ in range(T.STEPS):
        v, st = prog.step(v, st, {"d": np.zeros(1)})
        path.append(v["P"].copy())
    return np.array(path)


@pytest.mark.parametrize("case", T.CASES, ids=T._id)
@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_compiled_step_trajectory_equals_torch(case, wd):
    ours_cls, torch_cls, kw = case
    kw = dict(kw, weight_decay=wd)
    want = T.torchs(lambda params: torch_cls(params, **kw))
    np.testing.assert_allclose(compiled_path(ours_cls(**kw)), want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("target, dtype, huge", [
    ("numpy", "float64", 1e200),
    ("triton", "float32", 1e20),          # torch tensors, under TRITON_INTERPRET=1 without a GPU
])
def test_divergence_keeps_the_last_finite_values_of_an_in_place_program(target, dtype, huge):
    if target == "triton":
        pytest.importorskip("triton")
    w, x, y = sp.symbols("w x y")
    prog = sg.compile((w * x - y) ** 2 / 2, params=[w], inputs=[x, y], optimizer=O.SGD(lr=1.0),
                      target=target, dtype=dtype)
    data = {"x": np.array([1.0, 2, 3, huge]), "y": np.array([1.0, 2, 3, 4])}   # huge² overflows
    with pytest.raises(TrainingDiverged) as e:
        sg.train(prog, data, epochs=1, batch_size=1, shuffle=False, progress=False, values={"w": 0.5})
    assert e.value.step == 4 and e.value.param == "w"
    w_ = 0.5                                  # three good SGD steps, by hand
    for xi, yi in [(1, 1), (2, 2), (3, 3)]:
        w_ -= (w_ * xi - yi) * xi
    assert float(e.value.values["w"]) == pytest.approx(w_, rel=1e-6)


def test_checkpoint_of_tensor_values_round_trips(tmp_path):
    values = {"W": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.zeros(2, 1)}
    save(tmp_path / "ck.npz", values, state={"t": 3}, step=3, epoch=1)
    back = load(tmp_path / "ck.npz")
    np.testing.assert_array_equal(back.values["W"], np.arange(6.0).reshape(2, 3))
    assert back.step == 3


MODEL = '''
import sympy as sp, symgrad as sg
net = sg.mlp([4, 8, 3])
t = sp.MatrixSymbol("t", 3, 1)
outputs = [net.output]
loss = sg.cross_entropy(net.output, t)
params, inputs, target = net.params, [net.input, t], t
optimizer = sg.optim.Adam(lr=0.02)
'''


def _run(args, cwd, env):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_cli_compile_and_train_end_to_end(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    np.savez(tmp_path / "d.npz", **blobs(200))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = _run(["-m", "symgrad", "compile", "model.py", "-o", "step.py"], tmp_path, env)
    assert r.returncode == 0, r.stderr
    r = _run(["-c", "import step"], tmp_path, {"PATH": os.environ["PATH"]})   # no symgrad needed
    assert r.returncode == 0, r.stderr
    r = _run(["-m", "symgrad", "train", "model.py", "--data", "d.npz", "--validation", "d.npz",
              "--epochs", "5", "--no-progress", "--checkpoint", "ck.npz"], tmp_path, env)
    assert r.returncode == 0, r.stderr
    acc = float(r.stdout.splitlines()[-2].split("val_accuracy")[1].split()[0])
    assert acc > 0.9, r.stdout
    r = _run(["-m", "symgrad", "train", "model.py", "--data", "d.npz", "--epochs", "1",
              "--no-progress", "--resume", "ck.npz"], tmp_path, env)
    assert r.returncode == 0, r.stderr


def test_train_digits_example_reaches_the_target_accuracy(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    r = _run([str(ROOT / "examples" / "train_digits.py"), "--out", str(tmp_path / "digits.png")],
             tmp_path, env)
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("test accuracy: ")
    assert float(last.split(": ")[1]) >= 0.95
    assert (tmp_path / "digits.png").stat().st_size > 10_000
