"""`symgrad evaluate` and `symgrad predict`: a checkpoint's values on a test file and on new data,
from the command line (before, both needed Python: import the model file, compile it, load the
checkpoint, call forward). The loss, accuracy and outputs are checked against NumPy written here."""
import numpy as np
import pytest

from symgrad import cli
from symgrad.compiling.training import save
from standin_program import LABELS_MODEL_FILE, SOFTMAX_MODEL_FILE, blobs


def _logsoftmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


@pytest.fixture
def run(tmp_path):
    """x (N, 4) and integer labels y: a test table with labels and a table of the features only, and
    a checkpoint of values drawn here (evaluation needs no training)."""
    (tmp_path / "model.py").write_text(LABELS_MODEL_FILE)
    rng = np.random.default_rng(3)
    values = {"W": rng.normal(size=(4, 3)), "b": rng.normal(size=(3,))}
    save(tmp_path / "ck.npz", values, {"t": 7}, step=7, epoch=1)
    d = blobs(25, seed=0)
    x, y = d["x"], d["t"].argmax(1)
    np.savetxt(tmp_path / "test.csv", np.c_[x, y], delimiter=",", fmt="%.17g", header="a,b,c,d,label",
               comments="")
    np.savetxt(tmp_path / "new.csv", x, delimiter=",", fmt="%.17g")
    return tmp_path, values, x, y


def test_evaluate_prints_the_loss_and_accuracy_of_the_checkpoint(run, capsys):
    path, v, x, y = run
    assert cli.main(["evaluate", str(path / "model.py"), str(path / "ck.npz"), "--data", str(path / "test.csv"),
                     "--dtype", "float64"]) == 0
    out, err = capsys.readouterr()
    words = out.split()
    got = dict(zip(words[::2], map(float, words[1::2])))
    z = x @ v["W"] + v["b"]
    assert got["samples"] == 25
    assert got["loss"] == pytest.approx(-_logsoftmax(z)[np.arange(25), y].mean(), rel=1e-5)
    assert got["accuracy"] == pytest.approx(np.mean(z.argmax(1) == y), abs=1e-6)
    assert "the values of" in err and "saved after epoch 1, step 7" in err


def test_evaluate_batches_give_the_same_numbers(run, capsys):
    path = run[0]
    lines = []
    for size in ("1024", "4"):
        assert cli.main(["evaluate", str(path / "model.py"), str(path / "ck.npz"), "--data",
                         str(path / "test.csv"), "--batch-size", size, "--dtype", "float64"]) == 0
        lines.append(capsys.readouterr().out.split())
    assert lines[0][:2] == lines[1][:2] and float(lines[0][3]) == pytest.approx(float(lines[1][3]), rel=1e-9)


@pytest.mark.parametrize("data", ["new.csv", "test.csv"])
def test_predict_writes_the_outputs_and_classes(run, capsys, data):
    # a table of the features only, or the test table with its labels (which predict leaves unused)
    path, v, x, _ = run
    assert cli.main(["predict", str(path / "model.py"), str(path / "ck.npz"), "--data", str(path / data),
                     "-o", str(path / "p.csv")]) == 0
    assert "wrote 25 rows (output_0, output_1, output_2, class)" in capsys.readouterr().err
    head = (path / "p.csv").read_text().splitlines()[0]
    assert head == "output_0,output_1,output_2,class"
    table = np.loadtxt(path / "p.csv", delimiter=",", skiprows=1)
    z = x @ v["W"] + v["b"]
    np.testing.assert_allclose(table[:, :3], z, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(table[:, 3], z.argmax(1))


def test_predict_to_stdout_and_to_npz(run, capsys):
    path, v, x, _ = run
    argv = ["predict", str(path / "model.py"), str(path / "ck.npz"), "--data", str(path / "new.csv"),
            "--dtype", "float64"]
    assert cli.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 26 and lines[0].endswith(",class")
    first = [float(c) for c in lines[1].split(",")[:3]]
    np.testing.assert_allclose(first, x[0] @ v["W"] + v["b"], rtol=1e-12)      # 17 digits: float64 exactly
    assert cli.main(argv + ["-o", str(path / "p.npz")]) == 0
    with np.load(path / "p.npz") as z:     # one array per output, (samples, scores) (it was output_0, ...)
        assert sorted(z.files) == ["class", "output"]
        np.testing.assert_allclose(z["output"], x @ v["W"] + v["b"], rtol=1e-12)
        assert z["class"].dtype.kind == "i"


def test_predict_with_one_hot_targets_from_an_npz_without_them(tmp_path, capsys):
    # a per-example MatrixSymbol model: the .npz of new data has x only (t, the labels, left out)
    (tmp_path / "model.py").write_text(SOFTMAX_MODEL_FILE)
    W, b = np.arange(12.0).reshape(3, 4) / 10, np.array([[0.5], [-1.0], [0.0]])
    save(tmp_path / "ck.npz", {"W": W, "b": b}, None)
    x = blobs(6, seed=1)["x"]
    np.savez(tmp_path / "new.npz", x=x)
    assert cli.main(["predict", str(tmp_path / "model.py"), str(tmp_path / "ck.npz"), "--data",
                     str(tmp_path / "new.npz"), "--dtype", "float64"]) == 0
    rows = np.loadtxt(capsys.readouterr().out.splitlines()[1:], delimiter=",")
    np.testing.assert_allclose(rows[:, :3], x @ W.T + b[:, 0], rtol=1e-12)


def test_mistakes_are_one_line_naming_the_fix(run, capsys, tmp_path):
    path = run[0]
    base = [str(path / "model.py"), str(path / "ck.npz")]
    np.savetxt(path / "three.csv", np.ones((2, 3)), delimiter=",")
    assert cli.main(["predict", *base, "--data", str(path / "three.csv")]) == 2
    err = capsys.readouterr().err
    assert ("its rows have 3 columns, but the model's inputs take 4 per sample without 'y' (4 for 'x'), or 5 "
            "with it") in err, err
    assert cli.main(["predict", *base, "--data", str(path / "new.csv"), "-o", str(path / "p.txt")]) == 2
    assert "a .csv or .tsv table, or a .npz" in capsys.readouterr().err
    assert cli.main(["evaluate", str(path / "model.py"), str(path / "none.npz"), "--data",
                     str(path / "test.csv")]) == 2
    assert "no such checkpoint file" in capsys.readouterr().err
    save(path / "other.npz", {"W": np.ones((4, 2)), "b": np.ones(2)}, None)
    assert cli.main(["evaluate", str(path / "model.py"), str(path / "other.npz"), "--data",
                     str(path / "test.csv")]) == 2
    assert "the checkpoint " in (err := capsys.readouterr().err) and "holds 'W' of shape (4, 2)" in err, err
    (path / "plain.py").write_text(LABELS_MODEL_FILE.replace("outputs = [x @ W + b]\n", ""))
    assert cli.main(["predict", str(path / "plain.py"), str(path / "ck.npz"), "--data", str(path / "new.csv")]) == 2
    assert "defines no outputs: predict computes them" in capsys.readouterr().err


def test_bad_data_is_said_as_symgrad_train_says_it(run, capsys):
    # a label out of range named by its line of the table; a wrong shape as "the array 'x'", not
    # sg.train's data['x']
    path = run[0]
    base = ["evaluate", str(path / "model.py"), str(path / "ck.npz"), "--data"]
    (path / "l.csv").write_text("1,2,3,4,0\n1,2,3,4,9\n")
    assert cli.main(base + [str(path / "l.csv")]) == 2
    err = capsys.readouterr().err
    assert "entry 1 is 9: past the last one, 2" in err and f"that is line 2 of {path / 'l.csv'}" in err, err
    np.savez(path / "w.npz", x=np.ones((5, 5)), y=np.zeros(5, int))
    assert cli.main(base + [str(path / "w.npz")]) == 2
    assert f"--data {path / 'w.npz'}: the array 'x' has shape (5, 5), but the input 'x' is declared (N, 4)" \
        in capsys.readouterr().err


def test_evaluate_on_a_file_without_the_labels_says_so(run, capsys):
    # it said "its rows have 4 columns, but the model's inputs take 5 ... does the model file declare
    # more features than the table has?"
    path = run[0]
    assert cli.main(["evaluate", str(path / "model.py"), str(path / "ck.npz"), "--data", str(path / "new.csv")]) == 2
    err = capsys.readouterr().err
    assert "holds no 'y' (the targets the loss compares the outputs with)" in err and "symgrad predict" in err, err


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_numpy_only_said_in_help_and_for_target_triton(run, capsys, command):
    # train's --target pasted here: told that a checkpoint needs no target, not "unrecognized arguments"
    path, v, x, y = run
    assert cli.main([command, "--help"]) == 0
    assert "runs on the NumPy target, on the CPU" in " ".join(capsys.readouterr().out.split())
    data = path / ("new.csv" if command == "predict" else "test.csv")
    argv = [command, str(path / "model.py"), str(path / "ck.npz"), "--data", str(data)]
    assert cli.main(argv + ["--target", "triton"]) == 2
    err = capsys.readouterr().err
    assert f"--target triton: symgrad {command} runs on the NumPy target (the CPU) only" in err
    assert "leave --target out" in err and len(err.strip().splitlines()) == 1
    assert cli.main(argv + ["--target", "numpy"]) == 0                # the default, spelled out


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_an_array_of_no_input_is_refused_in_the_commands_own_name(run, capsys, command):
    # it said "symgrad train refuses an array it would ignore" from evaluate and predict
    path, v, x, y = run
    np.savez(path / "typo.npz", x=x, Y=y)
    assert cli.main([command, str(path / "model.py"), str(path / "ck.npz"), "--data", str(path / "typo.npz")]) == 2
    err = capsys.readouterr().err
    assert "'Y' (did you mean 'y'?)" in err and f"symgrad {command} refuses an array it would ignore:" in err
    assert "symgrad train" not in err


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_table_with_spaces_is_said_as_symgrad_train_says_it(run, capsys, command):
    # np.savetxt's default spaces read as one column: train said so, but evaluate and predict (whose
    # file may leave the labels out) said only "its rows have 1 columns, but ... take 4 ... or 5"
    path, v, x, y = run
    np.savetxt(path / "spaces.csv", x if command == "predict" else np.c_[x, y])
    assert cli.main([command, str(path / "model.py"), str(path / "ck.npz"), "--data", str(path / "spaces.csv")]) == 2
    err = capsys.readouterr().err
    assert "its numbers are separated by spaces, where this file's name says commas" in err, err
    assert "np.savetxt(..., delimiter=',')" in err and len(err.strip().splitlines()) == 2, err


def test_a_file_in_the_checkpoints_place_is_named_for_what_it_is(run, capsys):
    # the data table given as the checkpoint (the two swapped) read "test.csv: test.csv is not a readable
    # symgrad checkpoint (truncated or corrupt: ValueError: This file contains pickled (object) data. If
    # you trust the file you can load it unsafely ...)", NumPy's words for any file that is no zip
    path = run[0]
    np.save(path / "a.npy", np.ones(3))
    (path / "empty.npz").write_bytes(b"")
    for name, kind in [("test.csv", "is text, starting 'a,b,c,d,label': a data table? (symgrad evaluate and "
                                    "predict take it as --data)"),
                       ("a.npy", "is one array saved by np.save (.npy)"), ("empty.npz", "is empty")]:
        assert cli.main(["evaluate", str(path / "model.py"), str(path / name), "--data", str(path / "test.csv")]) == 2
        err = capsys.readouterr().err
        assert err == (f"symgrad evaluate: error: {path / name} is not a checkpoint: a checkpoint is the .npz (a zip "
                       f"archive) that symgrad train --checkpoint, sg.train(checkpoint=...) or save writes, and this "
                       f"file {kind}\n"), err
        assert "pickled" not in err


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_nan_in_the_table_is_not_said_as_training(run, capsys, command):
    path = run[0]
    (path / "nan.csv").write_text("1,2,3,4,0\n1,nan,3,4,1\n")
    assert cli.main([command, str(path / "model.py"), str(path / "ck.npz"), "--data", str(path / "nan.csv")]) == 2
    err = capsys.readouterr().err
    assert "1 missing value (empty or NA cells): column 2 at line 2" in err and "every cell must be a number" in err
    assert "training" not in err
    x = np.ones((3, 4))
    x[1, 2] = np.nan
    np.savez(path / "nan.npz", x=x)
    assert cli.main([command, str(path / "model.py"), str(path / "ck.npz"), "--data", str(path / "nan.npz")]) == 2
    err = capsys.readouterr().err
    assert "the array 'x' has 1 missing value (NaN) among its 12 entries: column 2 at sample 1" in err, err
    assert "training" not in err


@pytest.mark.parametrize("onto, said", [("new.csv", "that is --data"), ("ck.npz", "that is the checkpoint")])
def test_predictions_onto_the_data_or_the_checkpoint_are_refused(run, capsys, onto, said):
    # -o new.csv replaced the data with the predictions, -o ck.npz the trained values (train refuses as much)
    path = run[0]
    before = (path / onto).read_bytes()
    assert cli.main(["predict", str(path / "model.py"), str(path / "ck.npz"), "--data", str(path / "new.csv"),
                     "-o", str(path / onto)]) == 2
    err = capsys.readouterr().err
    assert f"-o {path / onto}: {said}; writing the predictions there would overwrite it" in err, err
    assert (path / onto).read_bytes() == before
