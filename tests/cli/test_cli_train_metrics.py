"""`symgrad train --metrics loss,mae,mse`: a regression's epoch lines with its mean absolute and squared
errors (Keras's metrics=["mae"]). Before: a regression's only metric was its loss, and a model file
naming a real-valued target was refused ("a regression's targets have no accuracy")."""
import csv

import numpy as np
import pytest

from symgrad import cli
from symgrad.compiling.training import load

MODEL = """
import sympy as sp, symgrad as sg
N = sp.Symbol("N", integer=True, positive=True)
x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,))
w, b = sg.tensor("w", (3,)), sg.tensor("b", ())
pred = sg.tanh(x @ w) + b
loss = sg.mean((pred - y) ** 2)
params, inputs, outputs, target = [w, b], [x, y], [pred], y
optimizer = sg.optim.Adam(lr=0.05)
"""


def test_mae_and_mse_of_a_regression_are_those_of_its_predictions(tmp_path, capsys):
    (tmp_path / "model.py").write_text(MODEL)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3))
    Y = np.tanh(X @ np.array([0.5, -1.0, 2.0])) + 0.3 + 0.1 * rng.normal(size=150)
    np.savez(tmp_path / "d.npz", x=X[:100], y=Y[:100])
    np.savez(tmp_path / "v.npz", x=X[100:], y=Y[100:])
    base = ["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "d.npz"), "--validation",
            str(tmp_path / "v.npz"), "--epochs", "3", "--batch-size", "10", "--no-progress", "--dtype", "float64"]
    # the default, with a target of real numbers: refused, saying what to give
    assert cli.main(base) == 2
    assert "or give --metrics loss,mae" in capsys.readouterr().err
    ck, log = tmp_path / "ck.npz", tmp_path / "log.csv"
    assert cli.main(base + ["--metrics", "loss,mae,MSE", "--checkpoint", str(ck), "--log", str(log)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("epoch 1  loss ") and "  val_mae " in out and "  val_mse " in out
    last = list(csv.DictReader(open(log, newline="")))[-1]
    v = load(ck).values                    # the values after the last epoch, where its metrics were taken
    d = np.tanh(X[100:] @ v["w"]) + v["b"] - Y[100:]
    assert np.isclose(float(last["val_mae"]), np.mean(np.abs(d)), rtol=1e-9)
    assert np.isclose(float(last["val_mse"]), np.mean(d ** 2), rtol=1e-9)
    assert np.isclose(float(last["val_loss"]), np.mean(d ** 2), rtol=1e-9)


def test_an_unknown_metric_is_refused_with_the_names(tmp_path, capsys):
    (tmp_path / "model.py").write_text(MODEL)
    assert cli.main(["train", str(tmp_path / "model.py"), "--data", "d.npz", "--metrics", "mae,r2"]) == 2
    assert "'r2' is no metric: give some of loss, accuracy, precision, recall, f1, auc, mae, mse" in capsys.readouterr().err


def test_monitor_val_mae_without_metrics_says_to_record_it(tmp_path, capsys):
    (tmp_path / "model.py").write_text(MODEL.replace(", target = [w, b], [x, y], [pred], y", " = [w, b], [x, y], [pred]"))
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(20, 3)), y=rng.normal(size=20))
    argv = ["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "d.npz"), "--epochs", "1", "--no-progress",
            "--patience", "2", "--monitor", "train_mae"]
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.rstrip().endswith("; give --metrics loss,mae to record it")
    assert cli.main(argv + ["--metrics", "loss,mae"]) == 0


def test_evaluate_takes_the_same_metrics(tmp_path, capsys):
    """Before: a regression model file naming its target was refused by evaluate, in sg.train's words
    (use metrics=['loss'])."""
    (tmp_path / "model.py").write_text(MODEL)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    Y = np.tanh(X @ np.array([0.5, -1.0, 2.0]))
    np.savez(tmp_path / "d.npz", x=X, y=Y)
    ck = tmp_path / "ck.npz"
    assert cli.main(["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "d.npz"), "--epochs", "1",
                     "--no-progress", "--metrics", "mae", "--checkpoint", str(ck), "--dtype", "float64"]) == 0
    capsys.readouterr()
    argv = ["evaluate", str(tmp_path / "model.py"), str(ck), "--data", str(tmp_path / "d.npz"), "--dtype", "float64"]
    assert cli.main(argv) == 2
    assert "a regression's targets have no accuracy: give --metrics loss,mae" in capsys.readouterr().err
    assert cli.main(argv + ["--metrics", "mae,mse"]) == 0
    words = capsys.readouterr().out.split()
    v = load(ck).values
    d = np.tanh(X @ v["w"]) + v["b"] - Y
    assert words[0::2] == ["samples", "loss", "mae", "mse"] and words[1] == "40"
    assert np.isclose(float(words[5]), np.mean(np.abs(d)), rtol=1e-5)
    assert np.isclose(float(words[7]), np.mean(d ** 2), rtol=1e-5)


def test_the_help_does_not_call_loss_mae_a_regressions_default(capsys):
    """A model file naming a real-valued target is refused without --metrics (above); the help said
    "(default: loss, and accuracy when the model file names its target; a regression's: loss,mae)"."""
    for command in ("train", "evaluate"):
        assert cli.main([command, "--help"]) == 0
        said = " ".join(capsys.readouterr().out.split())
        assert "a regression's: loss,mae" not in said
        assert "a regression's real-valued target is refused: give loss,mae" in said, said


def test_an_imbalanced_classifiers_f1_and_auc_in_the_epoch_lines_and_evaluate(tmp_path, capsys):
    """precision, recall, f1 and auc by name (Keras's Precision, Recall, F1Score, AUC); before, 'f1' was
    'no metric', and an imbalanced target had only its accuracy, 0.9 for always answering 0."""
    skm = pytest.importorskip("sklearn.metrics")
    (tmp_path / "model.py").write_text(
        "import sympy as sp, symgrad as sg\nN = sp.Symbol('N', integer=True, positive=True)\n"
        "x, y = sg.tensor('x', (N, 2)), sg.tensor('y', (N,))\nw, b = sg.tensor('w', (2,)), sg.tensor('b', ())\n"
        "outputs = [x @ w + b]\nloss = sg.bce_with_logits(x @ w + b, y, pos_weight=9.0)\n"
        "params, inputs, target = [w, b], [x, y], y\noptimizer = sg.optim.Adam(lr=0.05)\n")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    Y = (X[:, 0] + 0.5 * rng.normal(size=200) > 1.3).astype(float)         # about 1 in 10
    np.savez(tmp_path / "d.npz", x=X, y=Y)
    assert cli.main(["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "d.npz"), "--no-progress",
                     "--epochs", "3", "--dtype", "float64", "--metrics", "loss,f1,auc,precision,recall",
                     "--checkpoint", str(tmp_path / "ck.npz")]) == 0
    last = capsys.readouterr().out.splitlines()[2].split()
    got = dict(zip(last[::2], map(float, last[1::2])))
    w = load(tmp_path / "ck.npz").values
    score = X @ w["w"] + w["b"]
    assert got["train_f1"] == pytest.approx(skm.f1_score(Y, score > 0), abs=1e-5)
    assert got["train_auc"] == pytest.approx(skm.roc_auc_score(Y, score), abs=1e-5)
    assert got["train_precision"] == pytest.approx(skm.precision_score(Y, score > 0, zero_division=0), abs=1e-5)
    assert got["train_recall"] == pytest.approx(skm.recall_score(Y, score > 0), abs=1e-5)
    assert cli.main(["evaluate", str(tmp_path / "model.py"), str(tmp_path / "ck.npz"), "--data",
                     str(tmp_path / "d.npz"), "--metrics", "auc", "--dtype", "float64"]) == 0
    assert float(capsys.readouterr().out.split("auc ")[1]) == pytest.approx(skm.roc_auc_score(Y, score), abs=1e-5)


def test_an_imbalanced_targets_accuracy_comes_with_a_note(tmp_path, capsys):
    """Before: 'val_accuracy 0.91' and nothing said that always answering 0 scores it."""
    (tmp_path / "model.py").write_text(
        "import sympy as sp, symgrad as sg\nN = sp.Symbol('N', integer=True, positive=True)\n"
        "x, y = sg.tensor('x', (N, 2)), sg.tensor('y', (N,))\nw, b = sg.tensor('w', (2,)), sg.tensor('b', ())\n"
        "outputs = [x @ w + b]\nloss = sg.bce_with_logits(x @ w + b, y)\n"
        "params, inputs, target = [w, b], [x, y], y\n")
    X = np.random.default_rng(0).normal(size=(100, 2))
    argv = ["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "d.npz"), "--no-progress", "--epochs", "1"]
    for positives, said in ((10, True), (50, False)):
        np.savez(tmp_path / "d.npz", x=X, y=(np.arange(100) < positives).astype(float))
        assert cli.main(argv) == 0
        err = capsys.readouterr().err
        assert ("note: 10 of the 100 training labels are 1 (10%): always answering 0 scores an accuracy of 0.90; "
                "--metrics loss,f1,auc gives class 1's F1 and the ROC AUC, and the model file's loss can weigh the "
                "classes (sg.bce_with_logits(..., pos_weight=9)" in err) is said, err
    np.savez(tmp_path / "d.npz", x=X, y=(np.arange(100) < 10).astype(float))
    assert cli.main(argv + ["--metrics", "loss,accuracy"]) == 0          # metrics chosen: nothing to say
    assert "note:" not in capsys.readouterr().err
