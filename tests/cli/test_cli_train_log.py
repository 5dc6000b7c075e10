"""`symgrad train --log FILE`: each epoch's line written to a .csv / .jsonl as the epoch ends (Keras's
and Lightning's CSVLogger); a resumed run adds its rows after the first run's. Before, the epoch
lines were only on stdout: a metrics file meant parsing them."""
import csv
import json

import numpy as np

from symgrad import cli
from standin_program import softmax_run_files


def _printed(out):
    """The epoch lines of stdout as dicts of numbers."""
    rows = []
    for line in out.splitlines():
        if line.startswith("epoch "):
            words = line.split()
            rows.append({k: float(v) for k, v in zip(words[::2], words[1::2])})
    return rows


def test_the_log_holds_the_epoch_lines_and_a_resumed_run_adds_to_it(tmp_path, capsys):
    files = softmax_run_files(tmp_path, 60)
    log, ck = files / "log.csv", files / "ck.npz"
    base = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--validation",
            str(files / "val.npz"), "--batch-size", "20", "--no-progress", "--checkpoint", str(ck),
            "--log", str(log)]
    assert cli.main(base + ["--epochs", "2"]) == 0
    first = _printed(capsys.readouterr().out)
    assert cli.main(base + ["--epochs", "2", "--resume", str(ck)]) == 0
    second = _printed(capsys.readouterr().out)
    with open(log, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "val_loss", "val_accuracy", "seconds"]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert [int(r["epoch"]) for r in first + second] == [1, 2, 3, 4]      # zip below compares every row
    for row, shown in zip(rows, first + second):
        for k, v in shown.items():                   # the line rounds to 6 digits, the file does not
            assert np.isclose(float(row[k]), v, rtol=1e-5), (k, row, shown)
    # a run without --resume starts the file afresh
    assert cli.main(base + ["--epochs", "1"]) == 0
    assert [r["epoch"] for r in csv.DictReader(open(log, newline=""))] == ["1"]


def test_jsonl_and_the_mistakes(tmp_path, capsys):
    files = softmax_run_files(tmp_path, 60)
    base = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--epochs", "2",
            "--no-progress"]
    assert cli.main(base + ["--log", str(files / "log.jsonl")]) == 0
    lines = [json.loads(line) for line in (files / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2] and {"loss", "train_loss", "train_accuracy"} <= set(lines[0])
    capsys.readouterr()
    assert cli.main(base + ["--log", str(files / "log.txt")]) == 2
    assert "a log is a .csv or .tsv table, or a .jsonl file" in capsys.readouterr().err
    assert cli.main(base + ["--log", str(files / "data.npz")]) == 2
    assert "that is --data; writing the log there would overwrite it" in capsys.readouterr().err
    assert not (files / "log.txt").exists()
    # appending to a log of other columns (the first run validated, this one does not): refused
    ck, log = files / "ck.npz", files / "log.csv"
    assert cli.main(base + ["--validation", str(files / "val.npz"), "--checkpoint", str(ck), "--log", str(log)]) == 0
    before = log.read_text()
    capsys.readouterr()
    assert cli.main(base + ["--resume", str(ck), "--log", str(log)]) == 2
    err = capsys.readouterr().err
    assert "holds the columns epoch, loss, val_loss, val_accuracy, seconds, but the epochs of this run record " \
           "epoch, loss, train_loss, train_accuracy, seconds" in err, err
    # refused before the lines that tell of the run (it said "resuming from ... epochs 3 to 4 follow" first)
    assert "resuming from" not in err and len(err.splitlines()) == 1, err
    assert log.read_text() == before


def test_resumed_from_an_earlier_checkpoint_the_log_repeats_no_epoch(tmp_path, capsys):
    # resuming from --best (epoch 1 of a run whose log went on to epoch 3) appended a second row
    # "2": the log's epochs 2 and 3 were of values this run does not go on from
    import shutil
    files = softmax_run_files(tmp_path, 60)
    log, ck, older = files / "log.csv", files / "ck.npz", files / "older.npz"
    base = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--validation",
            str(files / "val.npz"), "--batch-size", "20", "--no-progress", "--log", str(log)]
    assert cli.main(base + ["--epochs", "1", "--checkpoint", str(ck)]) == 0
    shutil.copy(ck, older)                                       # the checkpoint after epoch 1
    assert cli.main(base + ["--epochs", "2", "--checkpoint", str(ck), "--resume", str(ck)]) == 0
    with open(log, newline="") as f:
        first = list(csv.DictReader(f))
    assert [r["epoch"] for r in first] == ["1", "2", "3"]
    capsys.readouterr()
    assert cli.main(base + ["--epochs", "1", "--resume", str(older)]) == 0
    out, err = capsys.readouterr()
    assert f"--log {log} holds rows of epochs 2 to 3, after epoch 1 where {older} goes on: this run's rows " \
           f"replace them" in err
    with open(log, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert rows[0] == first[0]                                   # the kept row as it was
    assert np.isclose(float(rows[1]["val_loss"]), _printed(out)[0]["val_loss"], rtol=1e-5)


def test_every_output_goes_into_folders_made_for_it(tmp_path, capsys):
    """--log in a folder that does not exist yet is made, as --checkpoint's, --best's and --plot's
    are (it failed after the first epoch: `cannot use .../log.csv: No such file or directory`)."""
    files = softmax_run_files(tmp_path, 60)
    out = tmp_path / "runs" / "first"
    args = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--validation",
            str(files / "val.npz"), "--batch-size", "20", "--no-progress", "--epochs", "2",
            "--checkpoint", str(out / "ck" / "ck.npz"), "--patience", "3", "--best", str(out / "best" / "best.npz"),
            "--log", str(out / "log" / "log.csv"), "--plot", str(out / "plot" / "curves.png")]
    assert cli.main(args) == 0, capsys.readouterr().err
    assert [r["epoch"] for r in csv.DictReader(open(out / "log" / "log.csv", newline=""))] == ["1", "2"]
    for made in ("ck/ck.npz", "best/best.npz", "plot/curves.png"):
        assert (out / made).is_file(), made
