"""rnn_backward's loop wrong in two more ways (the student RNN of tests/student_rnn.py): dWh built
from h0 at every step, and a loop that skips the last step (range(T - 2, -1, -1)). Both read "not
equal" with no hint; both are named now, and the other time slips keep their own names."""
from __future__ import annotations

import symgrad as sg

from verdicts import wrong

from student_rnn import assert_right_rnn_backward_is_torchs, rnn_backward, rnn_layer, slipped


def test_the_right_rnn_backward_is_torchs_and_equal():
    assert_right_rnn_backward_is_torchs(5)
    out, wrt = rnn_layer()
    assert sg.check_backward(out, wrt, rnn_backward).verdict == "equal"


def test_dWh_from_h0_at_every_step_is_named():
    out, wrt = rnn_layer()
    r = wrong(sg.check_backward(out, wrt, slipped("h0 always")),
              "the initial state at every step: dWh is built from h0 at each step where h_{t−1}")
    assert r.counterexample.param == "Wh"


def test_a_loop_that_skips_the_last_step_is_named():
    out, wrt = rnn_layer()
    r = wrong(sg.check_backward(out, wrt, slipped("skips the last")), "the loop skips the last step")
    assert "range(T - 2, -1, -1) never visits t = T − 1" in r.hint


def test_the_other_time_slips_keep_their_names():
    out, wrt = rnn_layer()
    wrong(sg.check_backward(out, wrt, slipped("h_t")), "the hidden state one step late")
    wrong(sg.check_backward(out, wrt, slipped("stops early")), "the loop stops one step early")


def test_a_recurrent_weight_is_not_tried_product_by_product(monkeypatch):
    """A loop body writes every step's term, so a wrong operand at one step alone is no slip anyone
    makes; trying each step's product with each candidate operand was 30 s of a 3-step LSTM's hint
    (now 5 s). The hint is still the recurrence's own."""
    import symgrad.checking.operand_hints as O
    tried = []
    real = O._claim_is_gradient_of
    monkeypatch.setattr(O, "_claim_is_gradient_of", lambda *a, **k: tried.append(1) or real(*a, **k))
    out, wrt = rnn_layer()
    wrong(sg.check_backward(out, wrt, slipped("h_t")), "the hidden state one step late")
    assert tried == []
