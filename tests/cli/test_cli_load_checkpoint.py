"""A checkpoint that `symgrad train` writes, read back in Python by the public `sg.load_checkpoint`.

Before: there was no public way to read one (`sg.load` was an AttributeError), and the command's
hint named `symgrad.compiling.training.load('CK.npz')`, an internal module.
"""
import re

import numpy as np
import pytest

import symgrad as sg
from symgrad import cli
from symgrad.cli import _model
from standin_program import blobs, softmax_run_files


@pytest.fixture
def files(tmp_path):
    return softmax_run_files(tmp_path, 60)


def _program(files):
    model = _model.load_model(str(files / "model.py"))
    return _model.compile_program(model, "numpy", model.optimizer, "float32")


def test_a_checkpoint_the_command_writes_loads_with_sg_load_checkpoint(files, capsys):
    ck = files / "ck.npz"
    assert cli.main(["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--epochs", "3",
                     "--batch-size", "20", "--no-progress", "--checkpoint", str(ck)]) == 0
    out = capsys.readouterr().out
    got = sg.load_checkpoint(ck)
    assert (got.epoch, got.step) == (3, 9)                       # 3 epochs of 60 / 20 minibatches
    assert sorted(got.values) == ["W", "b"]
    assert got.values["W"].shape == (3, 4) and got.values["b"].shape == (3, 1)
    # the trained values: the loss over the data at them is the one the command printed for epoch 3
    prog, data = _program(files), blobs(60, seed=0)
    printed = float(re.search(r"epoch 3 .*train_loss ([0-9.]+)", out).group(1))
    assert prog.loss(got.values, data) == pytest.approx(printed, rel=1e-5)
    # and it resumes sg.train: its step count goes on from the checkpoint's
    h = sg.train(prog, data, epochs=1, batch_size=20, progress=False, values=got)
    assert h.step == 12


def test_the_hint_without_checkpoint_names_the_public_function_and_it_runs(files, capsys):
    argv = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--epochs", "1",
            "--no-progress"]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    said = re.search(r"(sg\.load_checkpoint\('CK\.npz'\)\.values)", err)
    assert said, err
    assert "symgrad.compiling" not in err
    # what it says to write reads the file that --checkpoint CK.npz writes
    assert cli.main(argv + ["--checkpoint", str(files / "CK.npz")]) == 0
    values = eval(said.group(1).replace("CK.npz", str(files / "CK.npz")), {"sg": sg})  # noqa: S307
    assert sorted(values) == ["W", "b"]


def test_the_best_checkpoint_loads_too(files, capsys):
    best = files / "best.npz"
    assert cli.main(["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--validation",
                     str(files / "val.npz"), "--epochs", "4", "--batch-size", "20", "--no-progress",
                     "--patience", "2", "--best", str(best)]) == 0
    out = capsys.readouterr().out
    got = sg.load_checkpoint(best)
    assert f"the values of epoch {got.epoch} saved to {best}" in out
    assert got.step == 3 * got.epoch


def test_sg_load_names_load_checkpoint():
    with pytest.raises(AttributeError, match=r"sg\.load_checkpoint\(path\)"):
        sg.load  # noqa: B018
    from symgrad.compiling.training import load, load_checkpoint
    assert load is load_checkpoint is sg.load_checkpoint


def test_a_missing_file_is_a_checkpoint_error(tmp_path):
    from symgrad.compiling.training import CheckpointError
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        sg.load_checkpoint(tmp_path / "nothing.npz")


def test_a_checkpoint_at_the_prompt_is_one_line(tmp_path):
    """Before: the dataclass's repr printed every array of the values and of Adam's two slots."""
    from symgrad.compiling.training import save
    rng = np.random.default_rng(0)
    values = {"W1": rng.normal(size=(64, 32)), "b1": np.zeros((32, 1))}
    state = {"t": 7, "exp_avg": {k: np.zeros_like(v) for k, v in values.items()},
             "exp_avg_sq": {k: np.zeros_like(v) for k, v in values.items()}}
    save(tmp_path / "ck.npz", values, state, step=7, epoch=1)
    got = repr(sg.load_checkpoint(tmp_path / "ck.npz"))
    assert got == ("<Checkpoint: epoch 1, step 7; values W1 (64, 32), b1 (32, 1); optimizer state t, exp_avg, "
                   "exp_avg_sq>")
