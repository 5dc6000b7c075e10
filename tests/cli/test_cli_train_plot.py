"""`symgrad train --plot curves.png`: the training curves drawn when training ends — a student's
small CNN on 8×8 images with integer labels, checked through the figure drawn against the --log
file's numbers and through the PNG written; a bad --plot is refused before training."""
import csv
import re
import struct
import sys
import textwrap

import numpy as np
import pytest

from symgrad import cli
from symgrad.compiling import training_plot

CNN = """
import sympy as sp, symgrad as sg
N = sp.Symbol("N", integer=True, positive=True)
x, y = sg.tensor("x", (N, 1, 8, 8)), sg.tensor("y", (N,), integer=True)
w, b = sg.tensor("w", (4, 1, 3, 3)), sg.tensor("b", (4,))
W2, b2 = sg.tensor("W2", (4 * 4 * 4, 3)), sg.tensor("b2", (3,))
h = sg.max_pool2d(sg.relu(sg.conv2d(x, w, b, padding=1)), 2)
logits = h.reshape(N, 4 * 4 * 4) @ W2 + b2
loss = sg.cross_entropy(logits, y)
params, inputs, outputs, target = [w, b, W2, b2], [x, y], [logits], y
optimizer = sg.optim.Adam(lr=0.01)
"""


@pytest.fixture
def files(tmp_path):
    """The model file and (N, 1, 8, 8) images of three classes: a bright row, column or diagonal."""
    (tmp_path / "cnn.py").write_text(textwrap.dedent(CNN))
    rng = np.random.default_rng(0)

    def images(n):
        y = rng.integers(0, 3, size=n)
        x = 0.2 * rng.random((n, 1, 8, 8))
        for i, k in enumerate(y):
            j = rng.integers(1, 7)
            if k == 0:
                x[i, 0, j, :] += 1
            elif k == 1:
                x[i, 0, :, j] += 1
            else:
                x[i, 0, np.arange(8), np.arange(8)] += 1
        return x.astype(np.float32), y
    for name, n in (("train", 90), ("val", 30)):
        x, y = images(n)
        np.savez(tmp_path / f"{name}.npz", x=x, y=y)
    return tmp_path


@pytest.fixture
def drawn(monkeypatch):
    """The figures the command drew (plot_history wrapped to keep what it returns)."""
    figures = []
    real = training_plot.plot_history

    def keep(*a, **k):
        figures.append(real(*a, **k))
        return figures[-1]
    monkeypatch.setattr(training_plot, "plot_history", keep)
    return figures


def _png_size(path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_the_picture_holds_the_logged_epochs_and_marks_the_best(files, drawn, capsys):
    out = files / "plots" / "curves.png"           # a folder not there yet is made, as for --checkpoint
    code = cli.main(["train", str(files / "cnn.py"), "--data", str(files / "train.npz"), "--validation",
                     str(files / "val.npz"), "--epochs", "8", "--batch-size", "10", "--no-progress",
                     "--patience", "2", "--monitor", "val_accuracy", "--best", str(files / "best.npz"),
                     "--log", str(files / "log.csv"), "--plot", str(out)])
    assert code == 0
    said = capsys.readouterr().out
    assert f"training curves drawn to {out}" in said
    assert _png_size(out) == (int(2 * 6.4 * 100), int(4.2 * 100))
    rows = list(csv.DictReader(open(files / "log.csv", newline="")))
    fig, = drawn
    loss_ax, acc_ax = fig.axes
    lines = {l.get_label(): l for ax in fig.axes for l in ax.get_lines()}
    epochs = [int(r["epoch"]) for r in rows]
    for name, ax in (("val_loss", loss_ax), ("val_accuracy", acc_ax)):
        line = lines[name]
        assert line.axes is ax and list(line.get_xdata()) == epochs
        assert np.allclose(line.get_ydata(), [float(r[name]) for r in rows])
    assert np.allclose(lines["loss (mean over the epoch's minibatches)"].get_ydata(), [float(r["loss"]) for r in rows])
    best = int(said.split("best val_accuracy (larger is better) at epoch ")[1].split()[0])
    marks = [l for l in acc_ax.get_lines() if l.get_label().startswith("best epoch")]
    assert [list(m.get_xdata()) for m in marks] == [[best, best]]
    assert acc_ax.get_ylabel() == "accuracy" and loss_ax.get_xlabel() == "epoch"


def test_a_diverged_run_draws_the_epochs_that_ran(tmp_path, drawn, capsys):
    (tmp_path / "m.py").write_text(textwrap.dedent("""
        import sympy as sp, symgrad as sg
        N = sp.Symbol("N", integer=True, positive=True)
        x, t, W = sg.tensor("x", (N, 2)), sg.tensor("t", (N, 1)), sg.tensor("W", (2, 1))
        loss = sg.mean((x @ W - t) ** 2)
        params, inputs = [W], [x, t]
        optimizer = sg.optim.SGD(lr=3.0)          # past 2 / the curvature: each step overshoots more
        """))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 2))
    np.savez(tmp_path / "d.npz", x=x, t=rng.normal(size=(40, 1)))
    code = cli.main(["train", str(tmp_path / "m.py"), "--data", str(tmp_path / "d.npz"), "--epochs", "200",
                     "--batch-size", "10", "--no-progress", "--plot", str(tmp_path / "c.png")])
    assert code == 1
    out, err = capsys.readouterr()
    ran = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert (tmp_path / "c.png").exists() and len(drawn) == 1 and len(ran) >= 2     # (stopped at 1e8 times the start)
    ax, = drawn[0].axes
    line, = [l for l in ax.get_lines() if l.get_label().startswith("loss (mean")]
    assert list(line.get_xdata()) == list(range(1, len(ran) + 1))
    assert np.allclose(line.get_ydata(), [float(r.split()[3]) for r in ran], rtol=1e-5)
    assert ax.get_yscale() == "log"                  # a loss growing over decades
    step = re.search(r"training diverged at step (\d+) \(epoch (\d+)\)", err)
    assert drawn[0].get_suptitle() == f"training: {len(ran)} epochs, then diverged at step {step[1]} (epoch {step[2]})"
    assert int(step[2]) == len(ran) + 1


def test_one_epoch_draws_the_step_losses_it_ran(files, drawn, capsys):
    code = cli.main(["train", str(files / "cnn.py"), "--data", str(files / "train.npz"), "--validation",
                     str(files / "val.npz"), "--epochs", "1", "--batch-size", "10", "--no-progress",
                     "--log", str(files / "log.csv"), "--plot", str(files / "one.png")])
    assert code == 0
    fig, = drawn
    ax, = fig.axes
    assert ax.get_xlabel() == "step"       # 9 steps, not one dot at epoch 1
    line, = [l for l in ax.get_lines() if l.get_label() == "loss (minibatch)"]
    assert list(line.get_xdata()) == list(range(1, 10))
    row, = csv.DictReader(open(files / "log.csv", newline=""))
    assert np.mean(line.get_ydata()) == pytest.approx(float(row["loss"]), rel=1e-5)
    assert f"val_accuracy {float(row['val_accuracy']):.4g}" in ax.get_title()
    assert fig.get_suptitle() == "training: 1 epoch (9 steps)"


@pytest.mark.parametrize("plot, said", [
    ("curves.txt", "--plot curves.txt: its suffix .txt is not a picture format matplotlib writes; give a .png"),
    ("curves", "--plot curves: no suffix; name a picture file: a .png, .pdf or .svg"),
    ("val.npz", "--plot val.npz: its suffix .npz is not a picture format"),
])
def test_a_plot_name_matplotlib_cannot_write_is_refused_before_training(files, drawn, capsys, plot, said, monkeypatch):
    monkeypatch.chdir(files)
    code = cli.main(["train", "cnn.py", "--data", "train.npz", "--epochs", "1", "--no-progress", "--plot", plot])
    out, err = capsys.readouterr()
    assert code == 2 and said in err and "epoch 1" not in out and not drawn


def test_without_matplotlib_the_command_says_how_to_install_it_before_training(files, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = cli.main(["train", str(files / "cnn.py"), "--data", str(files / "train.npz"), "--epochs", "1",
                     "--no-progress", "--plot", str(files / "c.png")])
    out, err = capsys.readouterr()
    assert code == 2 and "pip install matplotlib" in err and "epoch 1" not in out


def test_a_resumed_run_with_its_log_draws_the_whole_curve(files, drawn, capsys):
    base = ["train", str(files / "cnn.py"), "--data", str(files / "train.npz"), "--validation",
            str(files / "val.npz"), "--batch-size", "10", "--no-progress", "--epochs", "2",
            "--checkpoint", str(files / "ck.npz"), "--log", str(files / "log.jsonl"), "--plot", str(files / "c.png")]
    assert cli.main(base) == 0
    assert cli.main(base + ["--resume", str(files / "ck.npz")]) == 0
    printed = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]
    assert [int(p[1]) for p in printed] == [1, 2, 3, 4]
    line, = [l for l in drawn[-1].axes[0].get_lines() if l.get_label() == "val_loss"]
    assert list(line.get_xdata()) == [1, 2, 3, 4]
    assert np.allclose(line.get_ydata(), [float(p[p.index("val_loss") + 1]) for p in printed], rtol=1e-5)
    assert drawn[-1].get_suptitle() == "training: 4 epochs"
    # without --log, the resumed run's own epochs
    assert cli.main(base[:-4] + ["--plot", str(files / "c.png"), "--resume", str(files / "ck.npz")]) == 0
    assert [l for l in drawn[-1].axes[0].get_lines() if l.get_label() == "val_loss"][0].get_xdata().tolist() == [5, 6]
