"""A dropout backward that draws a new mask (np.random in the backward) instead of using the
forward's: it was "not equal" with no hint; the backward called twice at the counterexample's point
gives two answers, which names the slip."""
from __future__ import annotations

import numpy as np

import symgrad as sg

from verdicts import N, wrong

P = 0.3


def test_a_new_mask_drawn_in_the_backward_is_named():
    x = sg.tensor("x", (N, 5))

    def dropout_backward(dout, x, mask):
        fresh = (np.random.default_rng().random(x.shape) >= P) / (1 - P)   # a new draw, not the forward's
        return dout * fresh
    r = wrong(sg.check_backward(sg.dropout(x, P), [x], dropout_backward), "random numbers in the backward")
    assert "passed to the backward as mask" in r.hint
    assert r.to_dict()["hint"]["kind"] == "random numbers in the backward"


def test_a_deterministic_wrong_backward_is_not_called_random():
    x = sg.tensor("x", (N, 5))
    r = wrong(sg.check_backward(sg.sigmoid(x), [x],
                                lambda dout, x: dout * np.cos(x)))
    assert r.hint is None or not r.hint.startswith("random numbers"), r.hint


def test_the_right_dropout_backward_stays_equal():
    x = sg.tensor("x", (N, 5))
    assert sg.check_backward(sg.dropout(x, P), [x], lambda dout, x, mask: dout * mask).verdict == "equal"
