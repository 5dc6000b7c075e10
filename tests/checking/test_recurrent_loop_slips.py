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


# ---------------------------------------------------------------------------------------------------
# The same loop in torch's layout, as 11-785's RNN phase runs its RNNCell: h @ W_hh.T. The recurrence
# hints looked for h @ Wh only, and the time slips read "not equal" with no hint (or a fan-out path).

import numpy as np                                   # noqa: E402
import torch                                         # noqa: E402

from verdicts import N                               # noqa: E402

T, D, H = 3, 2, 3


def torch_layout_rnn():
    x, h0 = sg.tensor("x", (N, T, D)), sg.tensor("h0", (N, H))
    W_ih, W_hh, b = sg.tensor("W_ih", (H, D)), sg.tensor("W_hh", (H, H)), sg.tensor("b", (H,))
    hs, h = [], h0
    for t in range(T):
        h = sg.tanh(x[:, t, :] @ W_ih.T + h @ W_hh.T + b)
        hs.append(h)
    return sg.stack(hs, axis=1), [x, h0, W_ih, W_hh, b]


def torch_layout_backward(dh, x, h0, W_ih, W_hh, b, slip=None):
    hs, h = [], h0
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_ih.T + h @ W_hh.T + b)
        hs.append(h)
    dx, dW_ih, dW_hh, db = np.zeros_like(x), np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b)
    dprev = np.zeros_like(h0)
    for t in range(x.shape[1] - 1, -1, -1):
        dz = (dh[:, t] + dprev) * (1 - hs[t] ** 2)
        dx[:, t], dprev = dz @ W_ih, dz @ (W_hh.T if slip == "W_hh.T" else W_hh)
        dW_ih += dz.T @ x[:, t]
        dW_hh += dz.T @ {"h_t": hs[t], "h0 always": h0}.get(slip, hs[t - 1] if t > 0 else h0)
        db += dz.sum(axis=0)
    return dx, dprev, dW_ih, dW_hh, db


def test_the_right_torch_layout_rnn_backward_is_torchs_and_equal():
    rng = np.random.default_rng(3)
    arrays = {"x": rng.normal(size=(4, T, D)), "h0": rng.normal(size=(4, H)), "W_ih": rng.normal(size=(H, D)),
              "W_hh": rng.normal(size=(H, H)), "b": rng.normal(size=H)}
    dh = rng.normal(size=(4, T, H))
    rnn = torch.nn.RNN(D, H, batch_first=True, bias=True, dtype=torch.float64)
    ts = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}
    params = {"weight_ih_l0": ts["W_ih"], "weight_hh_l0": ts["W_hh"], "bias_ih_l0": ts["b"],
              "bias_hh_l0": torch.zeros(H, dtype=torch.float64)}
    out, _ = torch.func.functional_call(rnn, params, (ts["x"], ts["h0"][None]))
    out.backward(torch.tensor(dh))
    for got, k in zip(torch_layout_backward(dh, **arrays), arrays):
        np.testing.assert_allclose(got, ts[k].grad.numpy(), rtol=1e-10, atol=1e-12)
    out, wrt = torch_layout_rnn()
    assert sg.check_backward(out, wrt, torch_layout_backward).verdict == "equal"


def test_torch_layout_time_slips_are_named():
    out, wrt = torch_layout_rnn()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: torch_layout_backward(*a, **k, slip="h_t")),
              "the hidden state one step late: dW_hh is built from each step's output h_t")
    assert "dW_hh += d.T @ prev_h" in r.hint
    wrong(sg.check_backward(out, wrt, lambda *a, **k: torch_layout_backward(*a, **k, slip="h0 always")),
          "the initial state at every step: dW_hh is built from h0")
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: torch_layout_backward(*a, **k, slip="W_hh.T")),
              "transposed factor at every step")
    assert "multiplied by W_hh.T where W_hh belongs" in r.hint


def test_one_use_of_a_variable_outside_a_recurrence_is_not_called_a_time_step():
    """X used by a where and by a square (a loss and its penalty), the claim the square's term alone:
    "X is used 3 times in f (…)", not "a recurrence … accumulate over the steps"."""
    import symgrad as sg
    X = sg.tensor("X", (4, 3))
    r = sg.check(sg.sum(sg.where(X > 0, X, 0.1 * X)) + sg.sum(X ** 2), X, 2 * X)
    assert not r and r.hint.kind == "one use only", r.hint
    assert "used 3 times in f" in r.hint and "recurrence" not in r.hint, r.hint
