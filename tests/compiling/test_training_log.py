"""EpochLog: sg.train's on_epoch writing each epoch's record to a file as it ends, so that a run
stopped part-way keeps the rows of the epochs it finished."""
import csv
import json

import numpy as np
import pytest

import symgrad as sg
from symgrad.compiling.training import TrainingArgumentError
from symgrad.compiling.training_log import EpochLog
from standin_program import SoftmaxRegression, blobs, init


def test_rows_as_the_epochs_end_and_kept_after_ctrl_c(tmp_path):
    prog = SoftmaxRegression(sg.optim.SGD(lr=0.1))
    log = EpochLog(tmp_path / "log.csv")
    seen = []

    def on_epoch(record):
        log(record)
        with open(tmp_path / "log.csv", newline="") as f:        # written by now, not at the end
            seen.append(len(list(csv.reader(f))) - 1)
        if record["epoch"] == 3:
            raise KeyboardInterrupt                              # as Ctrl-C during the epoch's end
    h = sg.train(prog, blobs(40), epochs=10, batch_size=10, values=init(), progress=False,
                 validation=blobs(20, sample_seed=5), on_epoch=on_epoch)
    assert h.interrupted and seen == [1, 2, 3]
    with open(tmp_path / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    for row, record in zip(rows, h.epochs):
        assert float(row["loss"]) == record["loss"] and float(row["val_loss"]) == record["val_loss"]


def test_append_goes_on_and_checks_the_columns(tmp_path):
    path = tmp_path / "log.tsv"
    EpochLog(path)({"epoch": 1, "loss": 0.5})
    again = EpochLog(path, append=True)
    again({"epoch": 2, "loss": np.float64(0.25)})
    assert path.read_text() == "epoch\tloss\n1\t0.5\n2\t0.25\n"
    with pytest.raises(TrainingArgumentError, match=r"holds the columns epoch, loss, but the epochs of this run "
                                                    r"record epoch, loss, val_loss"):
        again.check(["epoch", "loss", "val_loss"])
    EpochLog(path)({"epoch": 1, "loss": 1.0})                    # not appending: afresh
    assert path.read_text() == "epoch\tloss\n1\t1.0\n"


def test_jsonl_and_a_name_of_no_known_kind(tmp_path):
    log = EpochLog(tmp_path / "log.jsonl")
    log({"epoch": 1, "loss": 0.5})
    log({"epoch": 2, "loss": 0.25})
    assert [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()] == \
        [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}]
    with pytest.raises(TrainingArgumentError, match="a .csv or .tsv table, or a .jsonl file"):
        EpochLog(tmp_path / "log.json")


@pytest.mark.parametrize("name", ["log.csv", "log.jsonl"])
def test_appending_an_epoch_the_log_holds_replaces_it_and_those_after(tmp_path, name):
    path = tmp_path / name
    first = EpochLog(path)
    for e in (1, 2, 3, 4):
        first({"epoch": e, "loss": 1.0 / e})
    again = EpochLog(path, append=True)               # a run resumed from the checkpoint of epoch 2
    assert again.later_rows(2) == [3, 4] and again.later_rows(4) == []
    assert EpochLog(path).later_rows(2) == []         # not appending: the file starts afresh anyway
    before = path.read_text()
    EpochLog(path, append=True)                       # a run refused before its first epoch
    assert path.read_text() == before
    again({"epoch": 3, "loss": 0.125})
    again({"epoch": 4, "loss": 0.0625})
    if name.endswith(".csv"):
        with open(path, newline="") as f:
            rows = [(int(r["epoch"]), float(r["loss"])) for r in csv.DictReader(f)]
    else:
        rows = [(r["epoch"], r["loss"]) for r in map(json.loads, path.read_text().splitlines())]
    assert rows == [(1, 1.0), (2, 0.5), (3, 0.125), (4, 0.0625)]
