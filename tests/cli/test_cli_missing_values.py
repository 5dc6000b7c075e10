"""Missing values in a table (`symgrad train --data table.csv`, and `evaluate` / `predict`): a
DataError naming every column that has them, by its header name, and the lines that hold them —
not the first cell alone, and not a first row of data taken for a header (its missing cell dropped)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import cli
from symgrad.cli.csv_data import read_table
from symgrad.errors import DataError
from standin_program import LABELS_MODEL_FILE


@pytest.fixture
def model(tmp_path):
    (tmp_path / "model.py").write_text(LABELS_MODEL_FILE + "optimizer = sg.optim.Adam(lr=0.05)\n")
    return tmp_path


def _table(cells: dict) -> str:
    """A table as pandas' to_csv(index=False) writes it, a header then 12 rows; ``cells``: (row, column) ->
    the text of a missing cell (pandas writes NaN as an empty cell)."""
    rng = np.random.default_rng(0)
    lines = ["age,income,balance,region,churn"]
    for i in range(12):
        row = [f"{v:g}" for v in rng.normal(size=4)] + [str(i % 3)]
        for (r, c), text in cells.items():
            if r == i:
                row[c] = text
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"


def _train(path, table):
    (path / "data.csv").write_text(table)
    return cli.main(["train", str(path / "model.py"), "--data", str(path / "data.csv"), "--epochs", "1",
                     "--no-progress"])


@pytest.mark.parametrize("missing", ["", "NA", "NaN", "nan", "NULL", "N/A"])
def test_every_missing_cell_is_named_by_its_column_and_line(model, capsys, missing):
    """Before: 'line 3, column 2 holds '', which is not a number' — the first cell only, by number, and
    NA, NULL, N/A (R's, a database's) as text that is 'not a number' with no word of a missing value."""
    code = _train(model, _table({(1, 1): missing, (7, 1): missing, (4, 0): missing}))
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    # the header is line 1: rows 1, 4 and 7 are lines 3, 6 and 9
    assert ("has 3 missing values (empty or NA cells): column 1 ('age') at line 6; column 2 ('income') at lines "
            "3 and 9; every cell must be a number: fill them") in err, err


def test_many_missing_cells_are_counted_and_the_first_lines_listed(model, capsys):
    cells = {(i, 2): "" for i in range(10)}
    assert _train(model, _table(cells)) == 2
    err = capsys.readouterr().err
    assert "10 missing values" in err and "column 3 ('balance') at lines 2, 3, 4, 5 and 6 more" in err, err


def test_a_first_row_of_data_with_an_empty_cell_is_not_a_header(model, capsys):
    """Before: a table without a header whose first row had an empty cell read that row as a header
    (text over numbers) and trained on the rest, the row dropped without a word."""
    (model / "data.csv").write_text("0.5,,1.5,2,1\n0.25,1,2,3,0\n1,2,3,4,2\n")
    assert cli.main(["train", str(model / "model.py"), "--data", str(model / "data.csv"), "--epochs", "1",
                     "--no-progress"]) == 2
    assert "1 missing value (empty or NA cells): column 2 at line 1" in capsys.readouterr().err


def test_the_reader_raises_a_data_error(tmp_path):
    N = sp.Symbol("N", integer=True, positive=True)
    inputs = [sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)]
    (tmp_path / "d.csv").write_text(_table({(2, 3): ""}))
    with pytest.raises(DataError, match=r"column 4 \('region'\) at line 4"):
        read_table(str(tmp_path / "d.csv"), inputs)


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_evaluate_and_predict_name_missing_cells_too(model, capsys, command):
    (model / "ok.csv").write_text(_table({}))
    assert cli.main(["train", str(model / "model.py"), "--data", str(model / "ok.csv"), "--epochs", "1",
                     "--no-progress", "--checkpoint", str(model / "ck.npz")]) == 0
    (model / "new.csv").write_text(_table({(0, 1): ""}))
    capsys.readouterr()
    assert cli.main([command, str(model / "model.py"), str(model / "ck.npz"), "--data", str(model / "new.csv")]) == 2
    err = capsys.readouterr().err
    assert "column 2 ('income') at line 2" in err and "training" not in err, err
