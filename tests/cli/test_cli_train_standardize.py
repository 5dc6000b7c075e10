"""`symgrad train --standardize`: the features standardized by the training samples' mean and
standard deviation (StandardScaler's), the statistics saved in the checkpoints, and `evaluate` and
`predict` standardizing their data alike. Oracles: the same run on a table standardized by NumPy
beforehand, and the program's forward on data standardized by NumPy."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import cli
from symgrad.cli.train import split_off
from standin_program import LABELS_MODEL_FILE

MODEL = LABELS_MODEL_FILE + "optimizer = sg.optim.Adam(lr=0.05)\n"


def _write(path, x, y):
    path.write_text("a,b,c,d,label\n" + "".join(",".join(repr(float(v)) for v in row) + f",{k}\n"
                                                for row, k in zip(x, y)))


@pytest.fixture
def files(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    rng = np.random.default_rng(0)
    scales = np.array([1.0, 1e4, 0.01, 50.0])                 # mixed scales, as a table's columns are
    x = rng.normal(size=(40, 4)) * scales + np.array([0.0, 3e4, 1.0, -20.0])
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 3e4)
    _write(tmp_path / "train.csv", x[:30], y[:30])
    _write(tmp_path / "val.csv", x[30:], y[30:])
    return tmp_path, x, y


def _train(path, *argv, data="train.csv"):
    return cli.main(["train", str(path / "model.py"), "--data", str(path / data), "--no-progress", "--epochs", "3",
                     "--batch-size", "8", "--dtype", "float64", *argv])


def test_the_run_is_the_run_on_a_table_standardized_beforehand(files, capsys):
    path, x, y = files
    mean, std = x[:30].mean(axis=0), x[:30].std(axis=0)
    _write(path / "scaled.csv", (x[:30] - mean) / std, y[:30])
    _write(path / "scaled_val.csv", (x[30:] - mean) / std, y[30:])
    assert _train(path, "--standardize", "--validation", str(path / "val.csv"), "--checkpoint",
                  str(path / "a.npz")) == 0
    out_a = capsys.readouterr().out
    assert _train(path, "--validation", str(path / "scaled_val.csv"), "--checkpoint", str(path / "b.npz"),
                  data="scaled.csv") == 0
    out_b = capsys.readouterr().out
    a, b = sg.load_checkpoint(path / "a.npz"), sg.load_checkpoint(path / "b.npz")
    for name in ("W", "b"):
        np.testing.assert_allclose(a.values[name], b.values[name], rtol=1e-9, atol=1e-12)
    assert out_a.splitlines()[:3] == out_b.splitlines()[:3]       # the same val_loss each epoch
    np.testing.assert_allclose(a.standardized["x"]["mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(a.standardized["x"]["scale"], std, rtol=1e-12)
    assert b.standardized is None and "y" not in a.standardized       # labels are not standardized


def test_the_split_standardizes_by_the_training_part_only(files, capsys):
    path, x, _ = files
    assert _train(path, "--standardize", "--validation-split", "0.25", "--checkpoint", str(path / "ck.npz")) == 0
    err = capsys.readouterr().err
    assert "standardizing 'x' (4 columns) by the mean and standard deviation of each column over the 22 training " \
           "samples" in err, err
    got = sg.load_checkpoint(path / "ck.npz").standardized["x"]
    kept, held = split_off({"x": x[:30]}, 0.25, 0)           # the split the run drew (--seed 0)
    assert len(held["x"]) == 8
    np.testing.assert_allclose(got["mean"], kept["x"].mean(axis=0), rtol=1e-12)   # the held-out 8 did not count
    np.testing.assert_allclose(got["scale"], kept["x"].std(axis=0), rtol=1e-12)
    assert not np.allclose(got["mean"], x[:30].mean(axis=0))


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_evaluate_and_predict_standardize_as_the_run_did(files, capsys, command):
    path, x, y = files
    assert _train(path, "--standardize", "--checkpoint", str(path / "ck.npz")) == 0
    ck = sg.load_checkpoint(path / "ck.npz")
    import sys
    sys.path.insert(0, str(path))
    try:
        import model
    finally:
        sys.path.remove(str(path))
        sys.modules.pop("model", None)
    prog = sg.compile(model.loss, model.params, model.inputs, outputs=model.outputs, dtype="float64")
    scaled = (x[30:] - x[:30].mean(axis=0)) / x[:30].std(axis=0)            # NumPy's, not symgrad's
    argv = [command, str(path / "model.py"), str(path / "ck.npz"), "--data", str(path / "val.csv"), "--dtype", "float64"]
    capsys.readouterr()
    if command == "predict":
        assert cli.main(argv + ["-o", str(path / "p.csv")]) == 0
        got = np.loadtxt(path / "p.csv", delimiter=",", skiprows=1)[:, :3]
        (want,) = prog.forward(ck.values, {"x": scaled})
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    else:
        assert cli.main(argv) == 0
    said = capsys.readouterr()
    if command == "evaluate":
        loss = float(said.out.split("loss ")[1].split()[0])
        assert loss == pytest.approx(prog.loss(ck.values, {"x": scaled, "y": y[30:]}), rel=1e-5)
    assert f"standardizing 'x' of --data with the means and scales {path / 'ck.npz'} was trained with" in said.err


def test_a_resumed_run_keeps_the_first_runs_statistics(files, capsys):
    path, x, _ = files
    assert _train(path, "--standardize", "--checkpoint", str(path / "ck.npz")) == 0
    first = sg.load_checkpoint(path / "ck.npz").standardized["x"]["mean"]
    # resumed over the validation file: its own statistics would differ; the checkpoint's are kept
    assert _train(path, "--resume", str(path / "ck.npz"), "--checkpoint", str(path / "ck.npz"), data="val.csv") == 0
    assert "standardizing 'x' with the means and scales of --resume" in capsys.readouterr().err
    np.testing.assert_array_equal(sg.load_checkpoint(path / "ck.npz").standardized["x"]["mean"], first)


def test_refusals(files, capsys):
    path, _, _ = files
    assert _train(path, "--checkpoint", str(path / "raw.npz")) == 0
    assert _train(path, "--standardize", "--resume", str(path / "raw.npz")) == 2
    assert "trained on data that were not standardized" in capsys.readouterr().err
    (path / "no_outputs.py").write_text(MODEL.replace("outputs = [x @ W + b]\n", "")
                                        .replace("params, inputs, target = [W, b], [x, y], y",
                                                 "params, inputs = [W, b], [x, y]"))
    assert cli.main(["train", str(path / "no_outputs.py"), "--data", str(path / "train.csv"), "--standardize",
                     "--no-progress", "--epochs", "1"]) == 2
    assert "defines no outputs" in capsys.readouterr().err
