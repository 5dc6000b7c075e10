"""A student's MNIST-style CSV of 8×8 images, the label in the first column, for a CNN model file
whose inputs list the images first: the error says to list the label first (it said only that a
pixel, 0.25, is no whole number)."""
import textwrap

import numpy as np

from symgrad import cli

CNN = """
import sympy as sp, symgrad as sg
N = sp.Symbol("N", integer=True, positive=True)
x, y = sg.tensor("x", (N, 1, 8, 8)), sg.tensor("y", (N,), integer=True)
w, W2 = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("W2", (2 * 6 * 6, 3))
logits = sg.relu(sg.conv2d(x, w)).reshape(N, 2 * 6 * 6) @ W2
loss = sg.cross_entropy(logits, y)
params, inputs, outputs, target = [w, W2], {inputs}, [logits], y
"""


def test_a_label_first_table_is_told_to_list_the_label_first(tmp_path, capsys):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=12)
    pixels = rng.integers(0, 5, size=(12, 64)) / 4          # 0, 0.25, ... 1: most rows hold a fraction
    np.savetxt(tmp_path / "digits.csv", np.c_[labels, pixels], delimiter=",", fmt="%g",
               header="label," + ",".join(f"pixel{i}" for i in range(64)), comments="")
    (tmp_path / "xy.py").write_text(textwrap.dedent(CNN.format(inputs="[x, y]")))
    args = ["--data", str(tmp_path / "digits.csv"), "--epochs", "1", "--no-progress"]
    assert cli.main(["train", str(tmp_path / "xy.py")] + args) == 2
    err = capsys.readouterr().err
    assert "is declared integer (class labels or indices): whole numbers only (the table's first column " \
           "holds whole numbers on every row: if it is 'y', as MNIST's CSV files put the label first, list " \
           "'y' first in the model file: inputs = [y, x])" in err
    # so listed, it trains, and the images are read row-major from the 64 columns after the label
    (tmp_path / "yx.py").write_text(textwrap.dedent(CNN.format(inputs="[y, x]")))
    assert cli.main(["train", str(tmp_path / "yx.py")] + args + ["--checkpoint", str(tmp_path / "ck.npz")]) == 0
    capsys.readouterr()
    np.savez(tmp_path / "same.npz", x=pixels.reshape(12, 1, 8, 8), y=labels)
    for data in ("digits.csv", "same.npz"):
        assert cli.main(["evaluate", str(tmp_path / "yx.py"), str(tmp_path / "ck.npz"), "--data",
                         str(tmp_path / data)]) == 0
    csv_line, npz_line = capsys.readouterr().out.splitlines()
    assert csv_line == npz_line and csv_line.startswith("samples 12  loss ")


def test_a_table_whose_first_column_is_no_label_gets_no_such_hint(tmp_path, capsys):
    rng = np.random.default_rng(1)
    table = np.c_[rng.random((5, 64)), [0.5, 1, 2, 0, 1]]   # a fraction in the label's column
    np.savetxt(tmp_path / "d.csv", table, delimiter=",")
    (tmp_path / "xy.py").write_text(textwrap.dedent(CNN.format(inputs="[x, y]")))
    assert cli.main(["train", str(tmp_path / "xy.py"), "--data", str(tmp_path / "d.csv"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "line 1, column 65 holds '5.000000000000000000e-01'" in err and "list 'y' first" not in err


def test_a_npz_of_keras_splits_is_told_how_to_write_one_file_per_split(tmp_path, capsys, monkeypatch):
    """Keras's mnist.npz keeps x_train, y_train, x_test, y_test: the refusal listed the keys only."""
    (tmp_path / "xy.py").write_text(textwrap.dedent(CNN.format(inputs="[x, y]")))
    rng = np.random.default_rng(2)
    np.savez(tmp_path / "mnist.npz", x_train=rng.random((6, 1, 8, 8)), y_train=rng.integers(0, 3, 6),
             x_test=rng.random((4, 1, 8, 8)), y_test=rng.integers(0, 3, 4))
    assert cli.main(["train", str(tmp_path / "xy.py"), "--data", str(tmp_path / "mnist.npz"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    fix = ("d = np.load('mnist.npz'); np.savez('train.npz', x=d['x_train'], y=d['y_train']); "
           "np.savez('test.npz', x=d['x_test'], y=d['y_test']) — then --data train.npz --validation test.npz")
    assert "it holds splits keyed <input>_<split>, as Keras's datasets keep them" in err and fix in err
    # written as it says, the files train
    monkeypatch.chdir(tmp_path)
    d = np.load("mnist.npz")
    np.savez("train.npz", x=d["x_train"], y=d["y_train"])
    np.savez("test.npz", x=d["x_test"], y=d["y_test"])
    assert cli.main(["train", "xy.py", "--data", "train.npz", "--validation", "test.npz", "--epochs", "1",
                     "--no-progress"]) == 0
