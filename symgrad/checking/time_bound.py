"""A time bound for SymPy's simplification inside a check.

`sg.check` tries to prove a claim equal to the gradient by simplifying their difference; SymPy's
`simplify` has no time limit of its own and can run for minutes on a few dozen operations
(log(1 + exp(−y(wx + b))) + tanh(wx)² sin(w + b)/(1 + w²) took over 200 s). The proof is only
supporting evidence — the verdict rests on the numeric comparison — so after `SECONDS` it is given
up as "undecided".

The bound is a real-time interval timer (SIGALRM), so it works only in the main thread of a POSIX
process, and only where the caller has no such timer running (it is left alone); elsewhere the
simplification runs unbounded, as before. The caller's SIGALRM handler is put back afterwards.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

SECONDS = 5.0


class OutOfTime(BaseException):
    """Raised inside the bounded block when its time is up. A BaseException, so that SymPy's own
    ``except Exception`` clauses do not swallow it and carry on."""


def _bounded_here() -> bool:
    return (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
            and signal.getitimer(signal.ITIMER_REAL)[0] == 0)


@contextmanager
def at_most(seconds: float | None = None):
    """Run the block for at most ``seconds`` (`SECONDS` when not given); `OutOfTime` is raised in it
    when they are up.

    >>> try:
    ...     with at_most(0.05):
    ...         while True:
    ...             pass
    ... except OutOfTime:
    ...     print("stopped")
    stopped
    """
    if not _bounded_here():
        yield
        return
    seconds = SECONDS if seconds is None else seconds

    def stop(signum, frame):
        raise OutOfTime(f"more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
