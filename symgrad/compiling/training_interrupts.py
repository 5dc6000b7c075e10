"""Ctrl-C while training: the first SIGINT stops `train` at the next step boundary (`_Interrupts`
counts it, the loop raises `_Stop`), the second aborts; `_interrupted_message` says where it stopped
and what was saved.
"""
from __future__ import annotations

import os
import signal
import threading


class _Stop(Exception):
    """Raised inside the loop at a step boundary once Ctrl-C was pressed."""


class SignalTaken:
    """A handler for ``SIGNAL`` while in effect (a ``with`` block): installed only in the main thread
    (the only one Python delivers signals to) and only over ``SIGNAL``'s default handler (``DEFAULT``),
    so that a program's own handler (or SIG_IGN) is left alone; the previous one restored on exit.
    Subclasses give the signal, its default and ``_handler``: Ctrl-C while training (`_Interrupts`),
    SIGTERM while ``symgrad train`` runs (`symgrad.cli.sigterm.terminate_as_interrupt`)."""

    SIGNAL = signal.SIGINT
    DEFAULT = signal.default_int_handler
    _previous = None

    def _handler(self, signum, frame):
        raise NotImplementedError

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(self.SIGNAL) is self.DEFAULT:
                    self._previous = signal.signal(self.SIGNAL, self._handler)
            except (ValueError, OSError, AttributeError):      # no signals here (an embedded interpreter)
                self._previous = None
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(self.SIGNAL, self._previous)
            self._previous = None
        return False


class _Interrupts(SignalTaken):
    """Ctrl-C while training. While in effect, the first SIGINT only counts (the loop stops at the
    next step boundary); the second raises KeyboardInterrupt. Installed as `SignalTaken` says: over
    Python's default handler only, in the main thread only, restored on exit."""

    def __init__(self):
        self.count = 0
        self.signum = signal.SIGINT       # what stopped training: SIGINT, or a SIGTERM passed on to here
        self._previous = None

    def _handler(self, signum, frame):
        # No printing here: the handler runs between two bytecodes of the loop, maybe inside the
        # progress bar's write to stderr, which must not be re-entered.
        if not self.count:
            self.signum = signum
        self.count += 1
        if self.count >= 2:
            raise KeyboardInterrupt


def signal_said(signum) -> str:
    """How a message names the signal that stopped training: 'Ctrl-C', or 'SIGTERM'."""
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


def _interrupted_message(history, done, per_epoch, checkpoint, signum=signal.SIGINT, within=0) -> str:
    """Where Ctrl-C (or SIGTERM) stopped training; ``within``: the steps of the unfinished epoch
    (those before a resume part-way through it included)."""
    taken = history.step
    epochs_done = done + len(history.epochs)
    where = (f"after epoch {epochs_done}" if within <= 0 else
             f"in epoch {epochs_done + 1}, after {within} of its {per_epoch} steps")
    saved = (f"; saved to {os.fspath(checkpoint)}" if checkpoint is not None else
             "; no checkpoint was given, so nothing was saved")
    return (f"training interrupted ({signal_said(signum)}) at step {taken}, {where}: the values are those after "
            f"step {taken}{saved}")
