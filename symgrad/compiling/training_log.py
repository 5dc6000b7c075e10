"""Each epoch's record written to a file as the epoch ends — Keras's ``CSVLogger``, Lightning's
``CSVLogger``: ``train(..., on_epoch=EpochLog("metrics.csv"))``, or ``symgrad train --log FILE``.

A ``.csv`` (``.tsv``) gets a header row (the record's names: epoch, loss, the metrics, seconds) and
one row per epoch; a ``.jsonl`` one JSON object per line. Each row is written and flushed as its epoch
ends, so a run stopped by Ctrl-C, SIGTERM or a divergence keeps the rows of the epochs it finished.
Without ``append``, the first epoch's row replaces what the file held (a run refused before its first
step leaves it as it was); ``append=True`` goes on after the rows it holds (a resumed run), and a
table whose header names other columns is then refused, naming both, rather than given rows that do
not fit it (``check(names)`` refuses it before training). A run resumed from an earlier checkpoint
than the log's last row (a ``--best`` one, or an older copy) would repeat epoch numbers: its first
row replaces the rows of that epoch and after (the epochs of the values it did not go on from, as
TensorBoard's ``purge_step`` drops them), and ``later_rows(epoch)`` says which, before training.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
>>> log = EpochLog(path)
>>> log({"epoch": 1, "loss": 0.5, "seconds": 0.25}); log({"epoch": 2, "loss": 0.25, "seconds": 0.25})
>>> print(open(path).read(), end="")
epoch,loss,seconds
1,0.5,0.25
2,0.25,0.25
"""
from __future__ import annotations

import csv
import json
import os

from ..errors import SymgradError
from .training_results import TrainingArgumentError

SUFFIXES = (".csv", ".tsv", ".jsonl")


class EpochLog:
    """A function of an epoch's record (the dict ``history.epochs`` gets) that adds it to ``path``."""

    def __init__(self, path, append: bool = False):
        self.path = os.fspath(path)
        kind = os.path.splitext(self.path)[1].lower()
        if kind not in SUFFIXES:
            raise TrainingArgumentError(f"EpochLog({self.path!r}): the log is a .csv or .tsv table, or a .jsonl "
                                        f"file (one JSON object per line); give a name with one of those suffixes")
        self.kind = kind
        self.fresh = not append          # the first epoch replaces what the file holds
        self.columns = self.header() if append else None      # a table's header, once known
        self._pruned = False             # appending: the rows from the first record's epoch on dropped

    def header(self):
        """The names in the first row of an existing table (None for a JSON-lines log, or no table)."""
        if self.kind == ".jsonl" or not os.path.isfile(self.path):
            return None
        with self._reading():
            with open(self.path, newline="", encoding="utf-8") as f:
                first = next(csv.reader(f, delimiter=self._delimiter()), None)
        return first or None

    def _reading(self):
        """Reading the log a resumed run appends to: a file that is no UTF-8 text, or a cell over
        csv's field limit, is a SymgradError naming the file (they were an internal error, and
        Python's "'utf-8' codec can't decode byte 0xff" naming none)."""
        import contextlib

        @contextlib.contextmanager
        def reading():
            try:
                yield
            except (UnicodeDecodeError, csv.Error) as e:
                raise SymgradError(f"the log {self.path} to append to is not read as a log ({e}); give another "
                                   f"log file, or move this one away") from None
        return reading()

    def _epochs(self) -> list:
        """The epoch of each row the file holds (None for a row without one), in order."""
        if not os.path.isfile(self.path):
            return []
        with self._reading(), open(self.path, newline="", encoding="utf-8") as f:
            if self.kind == ".jsonl":
                return [r.get("epoch") if isinstance(r, dict) else None for r in _json_lines(f)]
            table = list(csv.reader(f, delimiter=self._delimiter()))
        if not table or "epoch" not in table[0]:
            return [None] * max(len(table) - 1, 0)
        at = table[0].index("epoch")
        return [_whole(row[at]) if at < len(row) else None for row in table[1:]]

    def records(self) -> list:
        """The epoch records the file holds, as dicts of numbers (``epoch`` a whole number), in order;
        a cell that is no number is left out of its record."""
        if not os.path.isfile(self.path):
            return []
        with self._reading(), open(self.path, newline="", encoding="utf-8") as f:
            if self.kind == ".jsonl":
                rows = _json_lines(f)
            else:
                rows = list(csv.DictReader(f, delimiter=self._delimiter()))
        out = []
        for row in rows:
            if not isinstance(row, dict) or _whole(row.get("epoch")) is None:
                continue
            record = {"epoch": _whole(row["epoch"])}
            for k, v in row.items():
                try:
                    if k != "epoch" and k is not None:
                        record[k] = float(v)
                except (TypeError, ValueError):
                    pass
            out.append(record)
        return out

    def later_rows(self, epoch) -> list:
        """The epochs of the rows after ``epoch`` that a resumed run's first row replaces (appending)."""
        if self.fresh:
            return []
        return [e for e in self._epochs() if e is not None and e > epoch]

    def _drop_from(self, epoch) -> None:
        """Keep only the rows of epochs before ``epoch`` (and the header), atomically."""
        epochs = self._epochs()
        if not any(e is not None and e >= epoch for e in epochs):
            return
        from .files import atomic_write
        with self._reading(), open(self.path, newline="", encoding="utf-8") as f:
            lines = f.read().splitlines(keepends=True)
        head = [] if self.kind == ".jsonl" else lines[:1]
        body = lines[len(head):len(head) + len(epochs)]
        kept = [line for line, e in zip(body, epochs) if e is None or e < epoch]
        atomic_write(self.path, "".join(head + kept), suffix=".log.tmp")

    def check(self, names) -> None:
        """Refuse, before training, a table to append to whose header is not ``names``."""
        if self.columns is not None and list(self.columns) != list(names):
            raise TrainingArgumentError(
                f"{self.path} holds the columns {', '.join(self.columns)}, but the epochs of this run record "
                f"{', '.join(names)}: give another log file (or the validation the first run had)")

    def __call__(self, record) -> None:
        if not self.fresh and not self._pruned and _whole(record.get("epoch")) is not None:
            self._drop_from(_whole(record["epoch"]))       # a resumed run's epochs replace those it went back on
        self._pruned = True
        if self.kind == ".jsonl":
            line = json.dumps(dict(record)) + "\n"
        else:
            names = list(record)
            new = self.columns is None or self.fresh
            if not new:
                self.check(names)
            self.columns = names
            rows = ([names] if new else []) + [[_cell(record[k]) for k in names]]
            line = "".join(self._delimiter().join(row) + "\n" for row in rows)
        # a missing folder is made, as a checkpoint's and a plot's are (`--log runs/3/log.csv` failed
        # after the first epoch, the others' folders made)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "w" if self.fresh else "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
        self.fresh = False

    def _delimiter(self) -> str:
        return "\t" if self.kind == ".tsv" else ","


def _json_lines(f) -> list:
    """Each line of a JSON-lines file parsed, in order; None for a blank line or one that is no JSON
    (kept, so that a row's place in the list is its line's place in the file)."""
    rows = []
    for line in f:
        try:
            rows.append(json.loads(line) if line.strip() else None)
        except ValueError:
            rows.append(None)
    return rows


def _cell(v) -> str:
    """A number as the shortest text that reads back the same (repr of a Python float)."""
    return repr(float(v)) if isinstance(v, float) else str(v)


def _whole(v):
    """An epoch number from a log's cell (text or number), or None."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return int(f) if f == f and f == int(f) else None
