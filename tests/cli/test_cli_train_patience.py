"""`symgrad train --patience N [--monitor NAME]`: sg.train's early stopping from the command line."""
import numpy as np
import pytest

from symgrad import cli
from standin_program import SOFTMAX_MODEL_FILE, softmax_run_files


@pytest.fixture
def files(tmp_path):
    return softmax_run_files(tmp_path)


def _argv(files, *more):
    return ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--validation",
            str(files / "val.npz"), "--batch-size", "16", "--no-progress", *more]


def test_patience_stops_when_the_monitored_metric_stops_improving(files, capsys):
    assert cli.main(_argv(files, "--epochs", "60", "--patience", "1", "--monitor", "val_accuracy")) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    epochs = [ln for ln in lines if ln.startswith("epoch ")]
    acc = [float(ln.split("val_accuracy")[1].split()[0]) for ln in epochs]
    assert len(epochs) < 60                                  # stopped early
    assert acc[-1] <= max(acc[:-1])                          # the last epoch did not improve on the best
    best = 1 + int(np.argmax(acc))
    assert f"stopped early after epoch {len(epochs)}; best val_accuracy (larger is better) at epoch {best}" \
        in lines[-2]
    # the closing loss is the last epoch's, and says so: the kept values are another epoch's
    assert lines[-1].startswith(f"final loss (mean over the last epoch, epoch {len(epochs)}, not the kept "
                                f"epoch {best}'s): "), lines[-1]


def test_a_monitor_no_epoch_records_exits_2_with_the_closest(files, capsys):
    assert cli.main(_argv(files, "--epochs", "2", "--patience", "2", "--monitor", "val_acuracy")) == 2
    err = capsys.readouterr().err
    assert "did you mean 'val_accuracy'" in err and "Traceback" not in err


def test_best_saves_the_best_epochs_values_as_a_checkpoint(files, capsys):
    from symgrad.compiling.training import load
    best, last = files / "best.npz", files / "last.npz"
    argv = _argv(files, "--epochs", "60", "--patience", "1", "--monitor", "val_accuracy", "--best", str(best),
                 "--checkpoint", str(last))
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    epochs = [ln for ln in out.splitlines() if ln.startswith("epoch ")]
    acc = [float(ln.split("val_accuracy")[1].split()[0]) for ln in epochs]
    k = 1 + int(np.argmax(acc))
    ck, end = load(best), load(last)
    assert ck.epoch == k and ck.step == k * 8 and end.epoch == len(epochs)       # 120 samples / 16: 8 steps
    # the oracle: the same command for exactly k epochs, without early stopping
    assert cli.main(_argv(files, "--epochs", str(k), "--checkpoint", str(files / "k.npz"))) == 0
    for name, v in load(files / "k.npz").values.items():
        np.testing.assert_array_equal(ck.values[name], v)


def test_best_without_patience_exits_2(files, capsys):
    assert cli.main(_argv(files, "--epochs", "2", "--best", str(files / "b.npz"))) == 2
    assert "give --patience" in capsys.readouterr().err


def test_mode_min_minimizes_the_monitor_and_says_so(files, capsys):
    # --mode did not exist: a metric was maximized only when its name held "acc"
    assert cli.main(_argv(files, "--epochs", "60", "--patience", "2", "--monitor", "val_accuracy",
                          "--mode", "min")) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    acc = [float(ln.split("val_accuracy")[1].split()[0]) for ln in lines if ln.startswith("epoch ")]
    best = 1 + int(np.argmin(acc))
    assert f"best val_accuracy (smaller is better) at epoch {best}" in lines[-2]


def test_mode_without_patience_exits_2(files, capsys):
    assert cli.main(_argv(files, "--epochs", "2", "--mode", "max")) == 2
    assert "give --patience" in capsys.readouterr().err


DIVERGING_MODEL = '''
import sympy as sp, symgrad as sg
N = sp.Symbol("N", integer=True, positive=True)
x, y, W = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("W", (3,))
loss = sg.mean((x @ W - y) ** 2)
params, inputs = [W], [x, y]
optimizer = sg.optim.SGD(lr=lambda t: sp.Piecewise((0.01, t <= 30), (5.0, True)))   # blows up after epoch 3
'''


def test_best_is_saved_when_training_diverges_after_the_best_epoch(tmp_path, capsys):
    """Before: exit 1 with --best not written (and no epoch lines): the best epoch's values, which
    --best promises, were lost to a later divergence."""
    from symgrad.compiling.training import load
    (tmp_path / "model.py").write_text(DIVERGING_MODEL)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    np.savez(tmp_path / "d.npz", x=X, y=X @ np.array([1.0, -2.0, 0.5]))
    base = ["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "d.npz"), "--validation",
            str(tmp_path / "d.npz"), "--epochs", "20", "--batch-size", "20", "--patience", "5", "--no-progress"]
    assert cli.main(base + ["--best", str(tmp_path / "best.npz")]) == 1
    out, err = capsys.readouterr()
    val = [float(line.split("val_loss ")[1]) for line in out.splitlines() if line.startswith("epoch ")]
    # (epoch 4's loss grows past 1e8 times the first step's: --max-loss-growth stops it there)
    assert len(val) >= 3 and 1 + int(np.argmin(val)) == 3
    assert "training diverged" in err and len(err.strip().splitlines()) == 1
    assert f"the values of epoch 3, the best by val_loss (smaller is better), are saved to {tmp_path / 'best.npz'}" in err
    best = load(tmp_path / "best.npz")
    assert (best.epoch, best.step) == (3, 30)
    w = best.values["W"]
    assert np.mean((X @ w - X @ np.array([1.0, -2.0, 0.5])) ** 2) == pytest.approx(val[2], rel=1e-4)
    # without --best the message says how to keep them
    assert cli.main(base) == 1
    assert "pass --best BEST.npz to keep the best epoch's values (epoch 3 here)" in capsys.readouterr().err


def test_monitor_messages_speak_the_commands_options(files, capsys):
    """Before: "monitor='val_loss' without patience: give patience=<epochs> ...", sg.train's
    keywords, and no word of what records an accuracy."""
    assert cli.main(_argv(files, "--epochs", "2", "--monitor", "val_loss")) == 2
    assert "--monitor val_loss names what --patience watches: give --patience EPOCHS too" in capsys.readouterr().err
    (files / "plain.py").write_text(SOFTMAX_MODEL_FILE.replace("params, inputs, target = [W, b], [x, t], t",
                                                               "params, inputs = [W, b], [x, t]"))
    argv = _argv(files, "--epochs", "2", "--patience", "2", "--monitor", "val_accuracy")
    argv[1] = str(files / "plain.py")
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("symgrad train: error: --monitor val_accuracy: not recorded in each epoch")
    assert "defines outputs and target" in err and "monitor=" not in err


def test_best_is_saved_when_ctrl_c_ends_training(files, capsys, monkeypatch):
    """Before: Ctrl-C (exit 130) left --best unwritten, though the best epoch so far was known."""
    from symgrad.compiling import training as T
    calls = {"n": 0}
    real = T.mean_loss

    def loss_then_ctrl_c(program, values, data, **kw):       # a Ctrl-C during epoch 4's evaluation
        calls["n"] += 1
        if calls["n"] == 5:                                  # the probe, then epochs 1..3
            raise KeyboardInterrupt
        return real(program, values, data, **kw)
    monkeypatch.setattr(T, "mean_loss", loss_then_ctrl_c)
    best = files / "best.npz"
    assert cli.main(_argv(files, "--epochs", "10", "--patience", "5", "--best", str(best))) == 130
    out, err = capsys.readouterr()
    val = [float(line.split("val_loss ")[1].split()[0]) for line in out.splitlines() if line.startswith("epoch ")]
    assert len(val) == 3
    want = 1 + int(np.argmin(val))
    assert f"the values of epoch {want}, the best by val_loss (smaller is better), are saved to {best}" in err
    from symgrad.compiling.training import load
    ck = load(best)
    assert ck.epoch == want and ck.step == want * 8                 # 120 samples in batches of 16
