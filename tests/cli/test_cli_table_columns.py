"""A table's header is kept with the trained values (`Checkpoint.columns`), and a table given later —
to `predict`, `evaluate`, `train --resume` — whose header orders or names the columns otherwise is
refused: columns go to the inputs by position, so it was read as other features, silently."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import cli
from standin_program import LABELS_MODEL_FILE

HEADER = ["age", "income", "balance", "region"]


def _write(path, columns, rows, labels=None):
    lines = [",".join(columns + (["label"] if labels is not None else []))]
    for i, row in enumerate(rows):
        lines.append(",".join(f"{v:.4f}" for v in row) + (f",{labels[i]}" if labels is not None else ""))
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def trained(tmp_path):
    (tmp_path / "model.py").write_text(LABELS_MODEL_FILE + "optimizer = sg.optim.Adam(lr=0.05)\n")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 4))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5)
    _write(tmp_path / "train.csv", HEADER, x, y)
    assert cli.main(["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "train.csv"), "--epochs", "1",
                     "--no-progress", "--checkpoint", str(tmp_path / "ck.npz")]) == 0
    return tmp_path, x, y


def test_the_header_is_kept_with_the_values(trained):
    path, _, _ = trained
    assert sg.load_checkpoint(path / "ck.npz").columns == {"x": HEADER, "y": ["label"]}


def _predict(path, name, command="predict"):
    return cli.main([command, str(path / "model.py"), str(path / "ck.npz"), "--data", str(path / name)])


def test_reordered_columns_are_refused(trained, capsys):
    """Before: exit 0, the incomes read as ages."""
    path, x, _ = trained
    _write(path / "new.csv", ["income", "age", "balance", "region"], x[:, [1, 0, 2, 3]])
    capsys.readouterr()
    assert _predict(path, "new.csv") == 2
    err = capsys.readouterr().err
    assert ("its columns are income, age, balance, region, but " in err and "was trained on a table whose columns "
            "were age, income, balance, region, in that order" in err and "reorder them (pandas: df[['age', "
            "'income', 'balance', 'region']])" in err), err


def test_renamed_columns_and_evaluate_and_resume(trained, capsys):
    path, x, y = trained
    _write(path / "test.csv", ["age", "salary", "balance", "region"], x, y)
    capsys.readouterr()
    assert _predict(path, "test.csv", "evaluate") == 2
    assert "give the columns the training table had, in its order" in capsys.readouterr().err
    assert cli.main(["train", str(path / "model.py"), "--data", str(path / "test.csv"), "--epochs", "1",
                     "--no-progress", "--resume", str(path / "ck.npz")]) == 2
    assert f"but --resume {path / 'ck.npz'} was trained on a table whose columns were age, income" in \
        capsys.readouterr().err


def test_the_same_columns_or_no_header_are_read(trained, capsys):
    path, x, y = trained
    _write(path / "same.csv", HEADER, x[:5])                  # the features alone, as predict takes them
    assert _predict(path, "same.csv") == 0
    (path / "bare.csv").write_text("".join(",".join(f"{v:.4f}" for v in row) + "\n" for row in x[:5]))
    assert _predict(path, "bare.csv") == 0                    # nothing to check it against
    _write(path / "test.csv", HEADER, x, y)
    assert _predict(path, "test.csv", "evaluate") == 0


def test_a_validation_table_in_another_order_is_refused(trained, capsys):
    path, x, y = trained
    _write(path / "val.csv", ["income", "age", "balance", "region"], x[:, [1, 0, 2, 3]], y)
    capsys.readouterr()
    assert cli.main(["train", str(path / "model.py"), "--data", str(path / "train.csv"), "--validation",
                     str(path / "val.csv"), "--epochs", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert (f"--validation {path / 'val.csv'}: its columns are income, age, balance, region, label, but --data "
            f"{path / 'train.csv'}'s columns are age, income, balance, region, label, in that order") in err, err
