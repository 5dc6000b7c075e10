"""`symgrad train` stops a run whose loss explodes while finite (`--max-loss-growth`, default 1e8
times the first step's), exits 1 and saves the values of the lowest minibatch loss to --checkpoint.
Before: the run went through every epoch, its epoch lines at 1e20 and up, and exited 0."""
import numpy as np

from symgrad import cli
from symgrad.compiling.training import load
from symgrad.compiling.training_checkpoint import save

MODEL = """
import sympy as sp, symgrad as sg
N = sp.Symbol("N", integer=True, positive=True)
x, y, w = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("w", (3,))
loss = sg.mean((x @ w - y) ** 2)
params, inputs = [w], [x, y]
optimizer = sg.optim.SGD(lr=1.1)          # a little past 2 / the curvature: the loss grows each step
"""


def _files(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    np.savez(tmp_path / "d.npz", x=X, y=X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=200))
    return ["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "d.npz"), "--epochs", "60",
            "--batch-size", "20", "--no-progress", "--dtype", "float64"]


def test_an_exploding_loss_stops_the_run_and_keeps_the_lowest(tmp_path, capsys):
    base = _files(tmp_path)
    ck = tmp_path / "ck.npz"
    assert cli.main(base + ["--checkpoint", str(ck)]) == 1
    out, err = capsys.readouterr()
    epochs = [float(line.split()[3]) for line in out.splitlines() if line.startswith("epoch ")]
    assert 0 < len(epochs) < 60 and max(epochs) < 1e10
    line, = err.strip().splitlines()
    assert line.startswith("symgrad train: training diverged at step ") and "more than 1e8 times it " \
        "(--max-loss-growth)" in line and "lr=1.1" in line, line
    said = line.split("the values from before step ")[1]
    kept = int(said.split(",")[0])
    assert said.endswith(f"was the lowest, are saved to {ck}"), line
    saved = load(ck)
    assert saved.step == kept - 1 and saved.epoch == 0          # in the first epoch, for this seed
    assert np.all(np.isfinite(saved.values["w"])) and np.abs(saved.values["w"]).max() < 10
    # off: the run goes through every epoch as before
    assert cli.main(base + ["--max-loss-growth", "off"]) == 0
    assert len([l for l in capsys.readouterr().out.splitlines() if l.startswith("epoch ")]) == 60


def test_the_option_takes_a_number_above_one_or_off(tmp_path, capsys):
    for bad in ("1", "0.5", "lots", "inf"):
        assert cli.main(_files(tmp_path) + ["--max-loss-growth", bad]) == 2
        assert "--max-loss-growth: expected a number > 1" in capsys.readouterr().err


def test_a_first_minibatch_fitted_exactly_is_no_reference_and_the_message_names_the_option(tmp_path, capsys):
    """Resumed at the exact weights, the first minibatch (epoch 1's, seed 0) exact and the rest
    with outliers of size 1e3: the first step's loss 0 does not set the limit (before: stopped at
    step 2, "grew from 0"); at lr=1.1 the run still diverges, measured from the largest of the first
    10 steps' losses, and the message names the command's option."""
    (tmp_path / "model.py").write_text(MODEL)
    rng = np.random.default_rng(0)
    X, wt = rng.normal(size=(200, 3)), np.array([1.0, -2.0, 0.5])
    noise = 1e3 * np.random.default_rng(1).normal(size=200)
    noise[np.random.default_rng(0).permutation(200)[:20]] = 0
    np.savez(tmp_path / "d.npz", x=X, y=X @ wt + noise)
    save(tmp_path / "start.npz", {"w": wt}, None, seed=0, samples=200)
    ck = tmp_path / "ck.npz"
    assert cli.main(["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "d.npz"), "--epochs", "60",
                     "--batch-size", "20", "--no-progress", "--dtype", "float64",
                     "--resume", str(tmp_path / "start.npz"), "--checkpoint", str(ck)]) == 1
    line, = [l for l in capsys.readouterr().err.splitlines() if "training diverged" in l]
    step = int(line.split("training diverged at step ")[1].split()[0])
    assert step > 10, line
    assert "(the largest of the first 10 steps')" in line and "more than 1e4 times it (the square root of " \
        "--max-loss-growth, as the first step's loss, 0, is far below it)" in line, line
    assert np.array_equal(load(ck).values["w"], wt)           # the lowest loss, 0: the starting weights
