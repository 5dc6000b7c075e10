"""The symbolic proof inside `sg.check` is bounded: SymPy's simplify has no time limit of its own.
Before: a wrong claim against f = log(1 + exp(−y(wx + b))) + tanh(wx)² sin(w + b)/(1 + w²) ran for
over 200 s in `simplify`, although the numbers had already shown it wrong."""
import signal
import time

import pytest
import sympy as sp

import symgrad as sg
from symgrad.checking import claims, time_bound
from symgrad.checking.time_bound import OutOfTime, at_most

w, x, b, y = sp.symbols("w x b y")
F = sp.log(1 + sp.exp(-y * (w * x + b))) + sp.tanh(w * x) ** 2 * sp.sin(w + b) / (1 + w ** 2)


def test_a_claim_the_numbers_show_wrong_is_not_simplified(monkeypatch):
    def no_simplify(*a, **k):
        raise AssertionError("simplify was called for a claim that differs numerically")
    monkeypatch.setattr(sp, "simplify", no_simplify)
    r = sg.check(F, w, w * x + 7)
    assert r.verdict == "not equal"
    assert "symbolic: not attempted (the claim differs numerically)" in r.method


def test_a_simplification_that_runs_long_is_undecided(monkeypatch):
    def endless(e, *a, **k):
        while True:
            time.sleep(0.01)
    monkeypatch.setattr(sp, "simplify", endless)
    monkeypatch.setattr(time_bound, "SECONDS", 0.2)
    started = time.monotonic()
    assert claims.symbolic_zero(sp.sin(w) ** 2 + sp.cos(w) ** 2 - 1) is None
    assert time.monotonic() - started < 5
    r = sg.check(sp.sin(w) ** 2, w, sp.sin(2 * w))        # right: the numbers decide, the proof gave up
    assert r.verdict == "equal" and "symbolic: undecided" in r.method


def test_the_bound_leaves_the_callers_handler_and_timer_alone():
    def mine(signum, frame):
        pass
    before = signal.signal(signal.SIGALRM, mine)
    try:
        with pytest.raises(OutOfTime):
            with at_most(0.05):
                while True:
                    pass
        assert signal.getsignal(signal.SIGALRM) is mine
        assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
        signal.setitimer(signal.ITIMER_REAL, 30)           # a caller's timer running: not touched
        with at_most(0.05):
            time.sleep(0.1)                                # no OutOfTime: unbounded, as before
        assert 25 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
