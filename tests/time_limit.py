"""A time limit for one test case: SIGALRM raises `CaseTimeout` (a BaseException, so no `except
Exception` in the code under test swallows it) when the block runs longer than ``seconds``."""
from __future__ import annotations

import signal
from contextlib import contextmanager


class CaseTimeout(BaseException):
    """The case ran past its time limit: a hang."""


@contextmanager
def time_limit(seconds: int):
    def on_alarm(signum, frame):
        raise CaseTimeout(f"the case ran for more than {seconds} s")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
