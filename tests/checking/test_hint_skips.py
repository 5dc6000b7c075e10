"""The hints that derive f again with every tanh′ or σ′ slipped skip their derivations when another
parameter reaching f through that function has a right claim: such a slip would have made it wrong too.
(A wrong 3-step LSTM's dWh with no nameable slip spent a quarter of its check there.)"""
from __future__ import annotations

import numpy as np

import symgrad as sg
import symgrad.checking.derivative_rule_hints as rules

from check_corpus import rnn_step, rnn_step_backward


def _count(monkeypatch):
    calls = []
    real = rules._claim_is_gradient_of

    def counted(*a, **k):
        calls.append(1)
        return real(*a, **k)
    monkeypatch.setattr(rules, "_claim_is_gradient_of", counted)
    return calls


def test_a_wrong_dWh_alone_derives_no_tanh_slip(monkeypatch):
    calls = _count(monkeypatch)
    out, wrt = rnn_step()

    def backward(dnext_h, x, prev_h, Wx, Wh, b):
        g = list(rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, b))
        g[3] = g[3] + 0.01 * np.cos(g[3])           # no usual slip: dWh off by a nonsense term
        return tuple(g)
    r = sg.check_backward(out, wrt, backward)
    assert r.verdict == "not equal" and r.hint is None, str(r)
    assert calls == []


def test_a_tanh_slip_in_every_gradient_is_still_derived_and_named(monkeypatch):
    calls = _count(monkeypatch)
    out, wrt = rnn_step()
    r = sg.check_backward(out, wrt, lambda *a, **k: rnn_step_backward(*a, **k, slip="tanh'"))
    assert r.hint.startswith("tanh'(z) written wrong: the claim is what the chain rule gives with tanh'(z) = 1 − tanh(z)")
    assert calls
