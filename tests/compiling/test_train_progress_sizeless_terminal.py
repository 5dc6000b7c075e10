"""The progress bar on a terminal that reports no size (a pty opened without one: `script` run from
a pipe, some IDE consoles, `docker exec -t` before the size is set): tqdm took its width 0 and its
rows -1 and drew nothing at all — training looked hung."""
import os
import select
import sys

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal (POSIX)")


def _read_all(fd) -> bytes:
    out = b""
    while select.select([fd], [], [], 0.2)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


def test_the_bar_is_drawn_on_a_terminal_without_a_size(monkeypatch):
    master, slave = os.openpty()          # a new pty reports 0 columns and 0 rows
    assert os.get_terminal_size(slave).columns == 0
    term = os.fdopen(slave, "w", buffering=1)
    w, x, y = sp.Symbol("w"), sp.Symbol("x"), sp.Symbol("y")
    prog = sg.compile((w * x - y) ** 2, [w], [x, y], optimizer=sg.optim.SGD(lr=0.1))
    X = np.linspace(-1, 1, 12)
    try:
        monkeypatch.setattr(sys, "stderr", term)
        h = sg.train(prog, {"x": X, "y": 2 * X}, epochs=2, batch_size=4)       # progress=None: a terminal
        monkeypatch.undo()
        term.flush()
        shown = _read_all(master).decode("utf-8", "replace")
    finally:
        monkeypatch.undo()
        term.close()
        os.close(master)
    assert h.step == 6
    assert "train: 100%" in shown and "6/6" in shown and "mean_loss=" in shown, shown
