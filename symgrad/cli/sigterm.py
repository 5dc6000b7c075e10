"""SIGTERM taken as Ctrl-C while ``symgrad train`` runs (`terminate_as_interrupt`)."""
from __future__ import annotations

import signal

from ..compiling.training_interrupts import SignalTaken

EXIT_TERMINATED = 143          # 128 + SIGTERM, as shells report a process ended by it


class terminate_as_interrupt(SignalTaken):
    """SIGTERM (what `kill`, `timeout`, a job scheduler or `docker stop` send) taken as Ctrl-C while
    the command runs: training stops at the next step boundary and saves --checkpoint (it was killed
    where it stood, the epoch under way lost), a second one aborts; the exit status is then 143.
    Installed only in the main thread and over the default handler (SIG_DFL)."""

    SIGNAL = signal.SIGTERM
    DEFAULT = signal.SIG_DFL

    def __init__(self):
        self.received, self._previous = False, None

    def _handler(self, signum, frame):
        self.received = True
        forward = signal.getsignal(signal.SIGINT)     # sg.train's while it trains, else Python's
        if callable(forward):
            forward(signum, frame)
        else:                    # SIGINT ignored (a background job): train takes this as its first stop
            stop = KeyboardInterrupt()
            stop.signum = signum
            raise stop
