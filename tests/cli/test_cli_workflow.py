"""The workflow of docs/training.md's command line, end to end, as a newcomer runs it: `symgrad
train` from a CSV with --validation-split and --log, Ctrl-C in the middle of an epoch, --resume with
the same options and --log, then `symgrad evaluate`. The run put together from its two halves is
checked against the same run that was never interrupted (values, log rows) and evaluate's line
against NumPy written here."""
import csv
import os
import signal

import numpy as np
import pytest

from symgrad import cli
from symgrad.cli import _model
from symgrad.compiling.training import load
from standin_program import LABELS_MODEL_FILE, blobs

STEP_OF_CTRL_C = 15         # 45 training samples in batches of 8: 6 steps an epoch; step 15 is epoch 3's 3rd


@pytest.fixture
def default_sigint():
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_split_log_ctrl_c_resume_evaluate(tmp_path, monkeypatch, capsys, default_sigint):
    (tmp_path / "model.py").write_text(LABELS_MODEL_FILE)
    d = blobs(60, seed=0)
    np.savetxt(tmp_path / "train.csv", np.c_[d["x"], d["t"].argmax(1)], delimiter=",", fmt="%.17g")
    test = blobs(30, sample_seed=9)
    x_test, y_test = test["x"], test["t"].argmax(1)
    np.savetxt(tmp_path / "test.csv", np.c_[x_test, y_test], delimiter=",", fmt="%.17g")

    def argv(ck, log, epochs, *more):
        return ["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "train.csv"),
                "--validation-split", "0.25", "--epochs", str(epochs), "--batch-size", "8", "--lr", "0.05",
                "--dtype", "float64", "--no-progress", "--checkpoint", str(tmp_path / ck),
                "--log", str(tmp_path / log), *more]

    assert cli.main(argv("ref.npz", "ref.csv", 4)) == 0               # never interrupted
    capsys.readouterr()

    real = _model.compile_program

    def with_ctrl_c(*args):                 # the real program; Ctrl-C arrives during one step
        program = real(*args)
        step, count = program.step, [0]

        def step_and_ctrl_c(*a, **k):
            count[0] += 1
            if count[0] == STEP_OF_CTRL_C:
                os.kill(os.getpid(), signal.SIGINT)
            return step(*a, **k)
        program.step = step_and_ctrl_c
        return program
    monkeypatch.setattr(_model, "compile_program", with_ctrl_c)
    assert cli.main(argv("ck.npz", "log.csv", 4)) == 130
    err = capsys.readouterr().err
    assert f"interrupted (Ctrl-C) at step {STEP_OF_CTRL_C}, in epoch 3, after 3 of its 6 steps" in err
    assert [r["epoch"] for r in _rows(tmp_path / "log.csv")] == ["1", "2"]      # finished epochs only
    ck = load(tmp_path / "ck.npz")
    assert (ck.step, ck.epoch, ck.seen, ck.seed) == (STEP_OF_CTRL_C, 2, 24, 0)
    monkeypatch.setattr(_model, "compile_program", real)

    # the rest of epoch 3 is one of the 2 epochs asked for: epochs 3 and 4, as the reference ran them
    assert cli.main(argv("ck.npz", "log.csv", 2, "--resume", str(tmp_path / "ck.npz"))) == 0
    out, err = capsys.readouterr()
    assert "saved 24 samples into epoch 3" in err and "the rest of epoch 3 and epoch 4 follow" in err
    assert [line.split()[:2] for line in out.splitlines() if line.startswith("epoch")] == \
        [["epoch", "3"], ["epoch", "4"]]
    done, ref = load(tmp_path / "ck.npz"), load(tmp_path / "ref.npz")
    assert (done.step, done.epoch, done.seen) == (ref.step, ref.epoch, 0) == (24, 4, 0)
    for name in ref.values:
        np.testing.assert_allclose(done.values[name], ref.values[name], rtol=1e-12, atol=1e-12)

    log, ref_log = _rows(tmp_path / "log.csv"), _rows(tmp_path / "ref.csv")
    assert list(log[0]) == ["epoch", "loss", "val_loss", "val_accuracy", "seconds"]
    assert [r["epoch"] for r in log] == ["1", "2", "3", "4"]         # one header, each epoch once
    assert [r["epoch"] for r in ref_log] == ["1", "2", "3", "4"]     # so that zip compares every row
    for row, want in zip(log, ref_log):                   # epoch 3's loss: the mean of its resumed part
        for key in ("val_loss", "val_accuracy") + (("loss",) if row["epoch"] != "3" else ()):
            assert float(row[key]) == pytest.approx(float(want[key]), rel=1e-9), (row["epoch"], key)

    assert cli.main(["evaluate", str(tmp_path / "model.py"), str(tmp_path / "ck.npz"), "--data",
                     str(tmp_path / "test.csv"), "--dtype", "float64"]) == 0
    words = capsys.readouterr().out.split()
    got = dict(zip(words[::2], map(float, words[1::2])))
    z = x_test @ done.values["W"] + done.values["b"]
    z = z - z.max(axis=1, keepdims=True)
    nll = -(z - np.log(np.exp(z).sum(axis=1, keepdims=True)))[np.arange(30), y_test]
    assert got == {"samples": 30, "loss": pytest.approx(nll.mean(), rel=1e-5),
                   "accuracy": pytest.approx(np.mean(z.argmax(1) == y_test), abs=1e-6)}
