"""`symgrad train --data FILE`: a file that is no .npz of numeric arrays exits 2 with one line saying
what the file is and how to write one, never NumPy's words about pickles or context managers."""
import zipfile

import numpy as np
import pytest

from symgrad import cli
from symgrad.cli import _model
from standin_program import SOFTMAX_MODEL_FILE, SoftmaxRegression, blobs


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setattr(_model, "compile_program", lambda model, *a, **k: SoftmaxRegression(None))
    (tmp_path / "model.py").write_text(SOFTMAX_MODEL_FILE)
    return tmp_path


def _err(files, name, capsys):
    code = cli.main(["train", str(files / "model.py"), "--no-progress", "--epochs", "1", "--data", str(files / name)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


def test_a_single_npy_array_says_so_and_names_the_npz_to_write(files, capsys):
    """Before: "not a readable .npz file ('numpy.ndarray' object does not support the context
    manager protocol)"."""
    np.save(files / "x.npy", blobs(10, seed=0)["x"])
    err = _err(files, "x.npy", capsys)
    assert "x.npy is a single array (.npy)" in err
    assert "np.savez('x.npz', x=..., t=...)" in err


def test_a_text_file_is_not_said_to_hold_pickles(files, capsys):
    """Before: NumPy's "This file contains pickled (object) data. If you trust the file you can
    load it unsafely using the `allow_pickle=` keyword" — for a file of text."""
    (files / "data.npz").write_text("x,t\n1,2\n")
    err = _err(files, "data.npz", capsys)
    assert "data.npz is not a .npz file" in err and "np.savez('data.npz', x=..., t=...)" in err
    assert "pickle" not in err


def test_an_object_array_is_named(files, capsys):
    data = blobs(10, seed=0)
    np.savez(files / "obj.npz", x=data["x"].astype(object), t=data["t"])
    err = _err(files, "obj.npz", capsys)
    assert "the array 'x' holds Python objects" in err and "allow_pickle" not in err


def test_a_zip_member_that_is_no_npy_is_named(files, capsys):
    with zipfile.ZipFile(files / "odd.npz", "w") as z:
        z.writestr("x.npy", b"not an array")
        z.writestr("t.npy", b"nor this")
    err = _err(files, "odd.npz", capsys)
    assert "its member 'x' is not a NumPy array" in err


def test_an_array_of_samples_in_columns_is_called_transposed(files, capsys):
    data = blobs(10, seed=0)
    np.savez(files / "cols.npz", x=data["x"].T, t=data["t"])
    err = _err(files, "cols.npz", capsys)
    assert "the array 'x' looks transposed, its samples in columns: save its transpose, of shape (10, 4)" in err


def test_an_array_that_is_no_input_is_named_as_sg_train_names_it(files, capsys):
    """sg.train refuses a key of data that is no input; the command dropped such an array without a
    word (a 'labels' array saved beside 'x' and 't' trained as if it were not there)."""
    data = blobs(10, seed=0)
    np.savez(files / "extra.npz", labels=data["t"].argmax(1), **data)
    err = _err(files, "extra.npz", capsys)
    assert "extra.npz holds an array that is no input of the model: 'labels'" in err
    assert "its inputs are 'x', 't'" in err and "np.savez('extra.npz', x=..., t=...)" in err


@pytest.mark.parametrize("keys, said", [
    (("X", "t"), "'X' for 'x'?"),                       # a case slip: np.savez(..., X=X, t=T)
    (("x", "labels"), "'labels' for 't'?"),             # the one array left over for the one input missing
])
def test_an_input_missing_from_the_npz_is_matched_with_the_array_meant(files, capsys, keys, said):
    # it said only "has no array for input(s) ['x']; it has ['X', 't']"
    data = blobs(10, seed=0)
    np.savez(files / "k.npz", **dict(zip(keys, (data["x"], data["t"]))))
    err = _err(files, "k.npz", capsys)
    assert f"has no array for input(s) ['{'x' if keys[0] == 'X' else 't'}']" in err
    assert f"{said} (the keys are the inputs' names, case and all: np.savez('k.npz', x=..., t=...))" in err, err


def test_arrays_that_are_no_inputs_of_validation_are_named_with_the_closest_input(files, capsys):
    data = blobs(10, seed=0)
    np.savez(files / "d.npz", **data)
    np.savez(files / "v.npz", xx=data["x"], **data)
    code = cli.main(["train", str(files / "model.py"), "--no-progress", "--epochs", "1",
                     "--data", str(files / "d.npz"), "--validation", str(files / "v.npz")])
    err = capsys.readouterr().err
    assert code == 2 and "--validation" in err and "'xx' (did you mean 'x'?)" in err, err


REGRESSION_MODEL = '''
import sympy as sp, symgrad as sg
N = sp.Symbol("N", integer=True, positive=True)
x, y, W = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("W", (3,))
loss = sg.mean((x @ W - y) ** 2)
params, inputs, outputs, target = [W], [x, y], [x @ W], y
'''


def test_a_regression_model_file_naming_a_target_is_told_to_leave_it_out(tmp_path, capsys):
    """Before: a regression whose model file named target printed a meaningless train_accuracy
    (the arg-max, or y > 0.5, of real targets)."""
    (tmp_path / "reg.py").write_text(REGRESSION_MODEL)
    X = np.random.default_rng(0).normal(size=(50, 3))
    np.savez(tmp_path / "reg.npz", x=X, y=X @ np.array([1.0, 2.0, 3.0]))
    code = cli.main(["train", str(tmp_path / "reg.py"), "--no-progress", "--epochs", "1",
                     "--data", str(tmp_path / "reg.npz")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "a regression's targets have no accuracy: leave target out of the model file" in err


def test_a_data_file_named_without_its_npz_suffix_is_pointed_to(files, capsys):
    """np.savez("train", ...) writes train.npz; --data train said only "no such file: train"."""
    np.savez(files / "train", **blobs(10, seed=0))
    err = _err(files, "train", capsys)
    assert f"there is {files / 'train.npz'}: np.savez adds the .npz" in err
