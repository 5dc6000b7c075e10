"""An RNN backward right in form and wrong in time: dWh built from each step's output h_t where
h_{t−1} belongs, and a loop that stops before t = 0. Each read "not equal" with no hint; both are
named now, and slips like them that are not these get neither name. The right backward is torch's."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from verdicts import N, wrong

from student_rnn import (T, D, assert_right_rnn_backward_is_torchs, rnn_backward,
                         rnn_layer as _rnn, slipped as _slipped)


def test_the_right_rnn_backward_is_torchs_and_equal():
    assert_right_rnn_backward_is_torchs(11)
    out, wrt = _rnn()
    assert sg.check_backward(out, wrt, rnn_backward).verdict == "equal"


def test_dWh_from_each_steps_output_is_the_state_one_step_late():
    out, wrt = _rnn()
    r = wrong(sg.check_backward(out, wrt, _slipped("h_t")),
              "the hidden state one step late: dWh is built from each step's output h_t where h_{t−1}, the "
              "state the step multiplies by Wh in the forward, belongs (h0 at the first step)")
    assert r.counterexample.param == "Wh"


def test_a_loop_that_stops_before_the_first_step_is_named():
    out, wrt = _rnn()
    r = wrong(sg.check_backward(out, wrt, _slipped("stops early")),
              "the loop stops one step early: the gradients of x, Wx, Wh, b each lack the term of their first "
              "use, the first time step's; h0 is wrong too")
    assert "range(T - 1, -1, -1)" in r.hint


@pytest.mark.parametrize("slip", ["h0 always", "skips the last"])
def test_other_slips_in_time_get_neither_name(slip):
    out, wrt = _rnn()
    r = wrong(sg.check_backward(out, wrt, _slipped(slip)))
    assert r.hint is None or not r.hint.startswith(("the hidden state one step late", "the loop stops")), r.hint


# ---------------------------------------------------------------------------------------------------
# a 3-step LSTM: the same two slips, found through its gates (h_t = o ⊙ tanh(c_t), not a tanh alone)

HL = 2


def _lstm():
    x, h0 = sg.tensor("x", (N, T, D)), sg.tensor("h0", (N, HL))
    Wx, Wh, b = sg.tensor("Wx", (D, 4 * HL)), sg.tensor("Wh", (HL, 4 * HL)), sg.tensor("b", (4 * HL,))
    h, c, hs = h0, None, []
    for t in range(T):
        a = x[:, t, :] @ Wx + h @ Wh + b
        i, f = sg.sigmoid(a[:, :HL]), sg.sigmoid(a[:, HL:2 * HL])
        o, g = sg.sigmoid(a[:, 2 * HL:3 * HL]), sg.tanh(a[:, 3 * HL:])
        c = i * g if c is None else f * c + i * g          # c0 = 0
        h = o * sg.tanh(c)
        hs.append(h)
    return sg.stack(hs, axis=1), [x, h0, Wx, Wh, b]


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_backward(dh, x, h0, Wx, Wh, b, slip=None):
    h, c, cache = h0, np.zeros_like(h0), []
    for t in range(T):
        a = x[:, t] @ Wx + h @ Wh + b
        i, f, o = _sigmoid(a[:, :HL]), _sigmoid(a[:, HL:2 * HL]), _sigmoid(a[:, 2 * HL:3 * HL])
        g = np.tanh(a[:, 3 * HL:])
        cache.append((h, c, i, f, o, g))
        c = f * c + i * g
        h = o * np.tanh(c)
        cache[-1] += (c, h)
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev_h, dprev_c = np.zeros_like(h0), np.zeros_like(h0)
    for t in (range(T - 1, 0, -1) if slip == "stops early" else range(T - 1, -1, -1)):
        prev_h, prev_c, i, f, o, g, c, h = cache[t]
        dnext_h, tc = dh[:, t] + dprev_h, np.tanh(c)
        dc = dprev_c + dnext_h * o * (1 - tc ** 2)
        do = dnext_h * tc
        da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                        do if slip == "o's σ' left out" else do * o * (1 - o),
                        dc * i * (g * (1 - g) if slip == "g's tanh' as σ's" else 1 - g ** 2)])
        dx[:, t], dprev_h, dprev_c = da @ Wx.T, da @ Wh.T, dc * f
        dWx += x[:, t].T @ da
        dWh += (h if slip == "h_t" else prev_h).T @ da
        db += da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


@pytest.mark.slow
def test_an_lstms_time_slips_are_named_and_its_right_backward_is_equal():
    rng = np.random.default_rng(12)
    arrays = [rng.normal(size=s) for s in ((4, T, D), (4, HL), (D, 4 * HL), (HL, 4 * HL), (4 * HL,))]
    dh = rng.normal(size=(4, T, HL))
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    h, c, outs = ts[1], torch.zeros(4, HL, dtype=torch.float64), []
    for t in range(T):                     # the gates by torch's own sigmoid and tanh, autograd's backward
        a = ts[0][:, t] @ ts[2] + h @ ts[3] + ts[4]
        i, f, o, g = a.split(HL, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outs.append(h)
    torch.stack(outs, 1).backward(torch.tensor(dh))
    for got, t in zip(lstm_backward(dh, *arrays), ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    out, wrt = _lstm()
    assert sg.check_backward(out, wrt, lstm_backward).verdict == "equal"
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: lstm_backward(*a, **k, slip="h_t")),
              "the hidden state one step late: dWh is built from each step's output h_t")
    assert "an LSTM's da" in r.hint
    wrong(sg.check_backward(out, wrt, lambda *a, **k: lstm_backward(*a, **k, slip="stops early")),
          "the loop stops one step early: the gradients of x, Wx, Wh, b each lack the term of their first use")


@pytest.mark.slow
@pytest.mark.parametrize("slip, named", [
    ("o's σ' left out", "σ'(z) written wrong at every step: for σ(a[:, 4:6]), a = b + x[:, 0] @ Wx + h0 @ Wh of "
                        "each of the 3 steps (a as the first step writes it), the claim's chain rule has σ'(z) = 1 "
                        "(the σ' factor left out)"),
    ("g's tanh' as σ's", "tanh'(z) written wrong at every step: for tanh(a[:, 6:]), a = b + x[:, 0] @ Wx + h0 @ Wh "
                         "of each of the 3 steps (a as the first step writes it), the claim's chain rule has tanh'(z) "
                         "= tanh(z)(1 − tanh(z)), the sigmoid's form")])
def test_an_lstms_gate_derivative_written_wrong_in_its_loop_is_named(slip, named):
    """da_o = do (= dnext_h * np.tanh(next_c)) with σ′ left out, in rnn_backward's loop over an LSTM step:
    the same slip at every step. The one-step LSTM's hint slipped one node at a time (15 nodes in 3 steps,
    over its limit of 6) and replaced a step's gate from the top down, leaving the earlier steps' gates
    inside its argument right: no hint. Now the nodes are slipped by their role, every step's together."""
    out, wrt = _lstm()
    wrong(sg.check_backward(out, wrt, lambda *a, **k: lstm_backward(*a, **k, slip=slip)), named)
