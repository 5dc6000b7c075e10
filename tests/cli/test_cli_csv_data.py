"""`symgrad train --data table.csv` (columns to the model's inputs in their order) and
`--validation-split FRACTION` (part of --data held out at random, with --seed)."""
import numpy as np
import pytest

from symgrad import cli
from symgrad.cli.train import split_off
from symgrad.compiling.training import load
from standin_program import LABELS_MODEL_FILE

MODEL = LABELS_MODEL_FILE + "optimizer = sg.optim.Adam(lr=0.05)\n"
ONE_HOT = MODEL.replace('sg.tensor("y", (N,), integer=True)', 'sg.tensor("y", (N, 3))')


@pytest.fixture
def files(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "one_hot.py").write_text(ONE_HOT)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 4)).round(3)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    rows = [",".join(f"{v:g}" for v in row) + f",{label}" for row, label in zip(x, y)]
    (tmp_path / "d.csv").write_text("a,b,c,d,label\n" + "\n".join(rows) + "\n")
    return tmp_path


def _train(files, *argv, model="model.py"):
    return cli.main(["train", str(files / model), "--no-progress", "--epochs", "3", "--batch-size", "8",
                     "--dtype", "float64", *argv])


def test_a_csv_trains_as_the_npz_of_its_columns(files, capsys):
    assert _train(files, "--data", str(files / "d.csv"), "--checkpoint", str(files / "a.npz")) == 0
    assert _train(files, "--data", str(files / "d.npz"), "--checkpoint", str(files / "b.npz")) == 0
    a, b = load(files / "a.npz").values, load(files / "b.npz").values
    for name in ("W", "b"):
        np.testing.assert_array_equal(a[name], b[name])


def _error(files, capsys, text, model="model.py"):
    (files / "bad.csv").write_text(text)
    assert _train(files, "--data", str(files / "bad.csv"), model=model) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("text, said", [
    ("1,2,3,0\n4,5,6,1\n", "its rows have 4 columns, but the model's inputs take 5 per sample, in the order of "
                           "the model file's inputs: 4 for 'x', then 1 for 'y'"),
    ("0,1,2,3,4,0\n1,1,2,3,4,1\n", "one column too many: an index column"),
    # the features alone (predict's table given to train): it asked whether the model declares more features
    ("1,2,3,4\n4,5,6,7\n", "4 for 'x', then 1 for 'y' (the columns of 'x' alone: none for 'y', which --data needs "
                           "too — a table of the features only, as symgrad predict takes?)"),
    ("x,y\n1,2,3,4,0\n1,2,nan,4,1\n", "1 missing value (empty or NA cells): column 3 at line 3"),
    ("1,2,3,4,0\n1,2,3,4,1.5\n", "line 2, column 5 holds '1.5', but the input 'y' is declared integer"),
    ("1,2,3,4,0\n1,,3,4,1\n", "1 missing value (empty or NA cells): column 2 at line 2; every cell must be a "
                             "number: fill them"),
    ("1,2,3,4,inf\n1,2,3,4,1\n", "line 1, column 5 holds 'inf'"),
    ("1,2,3,4,0\n1,2,3,4\n", "line 2 has 4 columns, but line 1 has 5"),
    ("1,2,3,4,cat\n1,2,3,4,dog\n", "line 1, column 5 holds 'cat', which is not a number (the column of 'y', "
                                   "declared integer: class names are not read"),
    ("x,y\n1,2,3,4,0\n\n1,2,3,4,7\n", "the input 'y' holds labels or indices, integers 0 ... 2 (an axis of 3); "
                                      "entry 1 is 7: past the last one, 2 (entry counted over the whole array); "
                                      "that is line 4 of"),
    # another separator read as one column (it said only "fewer columns than the inputs take: does the
    # model file declare more features than the table has?"): np.savetxt's default spaces, a
    # spreadsheet's semicolons, tabs in a .csv; and a European spreadsheet's decimal commas
    ("1 2 3 4 0\n4 5 6 7 1\n", "its numbers are separated by spaces, where this file's name says commas; write "
                               "it with commas: np.savetxt(..., delimiter=','), which writes spaces without one"),
    ("a;b;c;d;y\n1;2;3;4;0\n", "its numbers are separated by semicolons, where this file's name says commas"),
    ("1\t2\t3\t4\t0\n1\t2\t3\t4\t1\n", "separated by tabs, where this file's name says commas; name the file .tsv"),
    ("0,5;1,5;2,5;3,5;0\n0,5;1,5;2,5;3,5;1\n", "holds '5;1', which is not a number (semicolons between the "
                                              "numbers and commas for their decimal points"),
])
def test_a_bad_table_is_named_by_line_and_column(files, capsys, text, said):
    """Before: "--data bad.csv is not a .npz file ...": a table was not read at all."""
    assert said in _error(files, capsys, text)


def test_pandas_default_column_names_are_a_header_not_a_sample(files, capsys):
    """pd.DataFrame(X).to_csv(index=False) names the columns 0, 1, 2, ...: a row of numbers that is no
    sample. Read as one, it trained on a made-up sample (and its label 4 was out of range)."""
    text = (files / "d.csv").read_text().splitlines()
    (files / "p.csv").write_text("\n".join(["0,1,2,3,4"] + text[1:]) + "\n")
    assert _train(files, "--data", str(files / "p.csv"), "--checkpoint", str(files / "a.npz")) == 0
    assert _train(files, "--data", str(files / "d.npz"), "--checkpoint", str(files / "b.npz")) == 0
    np.testing.assert_array_equal(load(files / "a.npz").values["W"], load(files / "b.npz").values["W"])


def test_class_labels_where_one_hot_rows_are_declared_are_told_the_declaration(files, capsys):
    err = _error(files, capsys, "1,2,3,4,0\n1,2,3,4,2\n", model="one_hot.py")
    assert "one column where 'y' takes 3" in err and "integer=True" in err


def test_validation_split_holds_out_a_random_part_the_same_for_the_same_seed():
    data = {"x": np.arange(20.0).reshape(10, 2), "y": np.arange(10)}
    train, val = split_off(data, 0.3, seed=4)
    assert len(val["y"]) == 3 and len(train["y"]) == 7
    assert sorted(np.concatenate([train["y"], val["y"]]).tolist()) == list(range(10))
    np.testing.assert_array_equal(val["x"][:, 0], 2 * val["y"])          # rows stay whole
    assert split_off(data, 0.3, seed=4)[1]["y"].tolist() == val["y"].tolist()
    assert val["y"].tolist() != list(range(7, 10))                     # not Keras's last 30%
    assert [split_off(data, 0.3, seed=s)[1]["y"].tolist() for s in range(4)] != [val["y"].tolist()] * 4


def test_validation_split_on_the_command_line(files, capsys):
    assert _train(files, "--data", str(files / "d.csv"), "--validation-split", "0.2") == 0
    out, err = capsys.readouterr()
    assert "val_loss" in out and "val_accuracy" in out
    assert f"training on 24 samples of {files / 'd.csv'}, validating on the other 6 (--validation-split 0.2" in err
    assert _train(files, "--data", str(files / "d.csv"), "--validation-split", "0.2", "--validation",
                  str(files / "d.npz")) == 2
    assert "give one of them" in capsys.readouterr().err
    assert _train(files, "--data", str(files / "d.csv"), "--validation-split", "20") == 2
    assert "write 0.2 for 20%" in capsys.readouterr().err


def test_a_header_in_a_windows_spreadsheets_encoding_is_skipped_as_any_header(files, capsys):
    # "clé" in cp1252 over rows of numbers: it was "not a text table (its bytes are not UTF-8 text)"
    text = (files / "d.csv").read_text().splitlines()
    (files / "w.csv").write_bytes("a,b,c,d,clé\r\n".encode("cp1252") + "\r\n".join(text[1:]).encode() + b"\r\n")
    assert _train(files, "--data", str(files / "w.csv"), "--checkpoint", str(files / "a.npz")) == 0
    assert _train(files, "--data", str(files / "d.npz"), "--checkpoint", str(files / "b.npz")) == 0
    np.testing.assert_array_equal(load(files / "a.npz").values["W"], load(files / "b.npz").values["W"])
    capsys.readouterr()
    (files / "z.csv").write_bytes(b"PK\x03\x04\xff\xfe binary\n\x00\xff more")
    assert _train(files, "--data", str(files / "z.csv")) == 2
    assert "not a text table (its bytes are not UTF-8 text) (a zip archive: an Excel workbook" in capsys.readouterr().err


def test_a_gzipped_table_trains_as_the_table(files, capsys):
    """pandas' to_csv("d.csv.gz") compresses by the name: it was "not a .npz file", with the advice
    to write d.csv.npz. A gzip bomb, or bytes that are no gzip stream, are refused by name."""
    import gzip
    (files / "d.csv.gz").write_bytes(gzip.compress((files / "d.csv").read_bytes()))
    (files / "d.tsv.gz").write_bytes(gzip.compress((files / "d.csv").read_bytes().replace(b",", b"\t")))
    for name, ck in (("d.csv", "a.npz"), ("d.csv.gz", "b.npz"), ("d.tsv.gz", "c.npz")):
        assert _train(files, "--data", str(files / name), "--checkpoint", str(files / ck)) == 0, capsys.readouterr().err
    a, b, c = (load(files / ck).values for ck in ("a.npz", "b.npz", "c.npz"))
    for name in ("W", "b"):
        np.testing.assert_array_equal(a[name], b[name])
        np.testing.assert_array_equal(a[name], c[name])
    (files / "bomb.csv.gz").write_bytes(gzip.compress(b"1,2,3,4,0\n" + b"0" * (80 << 20)))
    (files / "plain.csv.gz").write_bytes((files / "d.csv").read_bytes())
    capsys.readouterr()
    assert _train(files, "--data", str(files / "bomb.csv.gz")) == 2
    assert "would expand more than 100-fold to over 64 MiB" in capsys.readouterr().err
    assert _train(files, "--data", str(files / "plain.csv.gz")) == 2
    assert "plain.csv.gz is not a gzipped table" in capsys.readouterr().err
