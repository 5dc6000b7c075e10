"""`symgrad train`'s epoch lines and its progress bar: on a terminal, each epoch's line is printed as
the epoch ends, above the bar (they came only after the last epoch); where stderr is no terminal (a
CI log, a file) there is no bar — its carriage returns made one long line of redraws — and the epoch
lines, printed as they end, are the progress."""
import sys

import numpy as np
import pytest

from symgrad import cli
from standin_program import LABELS_MODEL_FILE

MODEL = LABELS_MODEL_FILE


class Stream:
    """stdout or stderr, writing into one log shared by both, in the order things were written."""

    def __init__(self, name, log, tty):
        self.name, self.log, self.tty = name, log, tty

    def write(self, text):
        self.log.append((self.name, text))
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return self.tty


@pytest.fixture
def files(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "data.npz", x=rng.normal(size=(64, 4)), y=rng.integers(0, 3, 64))
    return tmp_path


def _run(files, monkeypatch, tty):
    log = []
    monkeypatch.setattr(sys, "stdout", Stream("out", log, False))
    monkeypatch.setattr(sys, "stderr", Stream("err", log, tty))
    code = cli.main(["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--epochs", "3",
                     "--batch-size", "8"])
    return code, log


def test_on_a_terminal_each_epoch_line_comes_as_the_epoch_ends_above_the_bar(files, monkeypatch):
    code, log = _run(files, monkeypatch, tty=True)
    assert code == 0
    first = next(k for k, (name, text) in enumerate(log) if name == "out" and text.startswith("epoch 1 "))
    # the bar drew epoch 2's steps after epoch 1's line, not before it
    assert any(name == "err" and "epoch=2" in text for name, text in log[first:])
    # the bar's line was cleared just before the epoch line (a carriage return, blanks, a return)
    before = "".join(text for name, text in log[:first] if name == "err")
    assert before.rstrip(" ").endswith("\r") and before.count("\r") >= 2
    lines = [text for name, text in log if name == "out" and text.startswith("epoch ")]
    assert [ln.split()[1] for ln in lines] == ["1", "2", "3"]          # each once


def test_without_a_terminal_there_is_no_bar_and_the_epoch_lines_are_the_progress(files, monkeypatch):
    code, log = _run(files, monkeypatch, tty=False)
    assert code == 0
    err = "".join(text for name, text in log if name == "err")
    assert "\r" not in err and "step/s" not in err
    out = "".join(text for name, text in log if name == "out")
    assert [ln.split()[1] for ln in out.splitlines() if ln.startswith("epoch ")] == ["1", "2", "3"]
