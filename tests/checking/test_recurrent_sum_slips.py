"""A parameter shared across time steps whose gradient keeps one step: rnn_backward's dWx = ... with
= where += belongs, and temporal_affine_backward's dw from dout[:, t] alone. Both are named; the
right backwards are torch's."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from verdicts import N, wrong

from student_rnn import assert_right_rnn_backward_is_torchs, rnn_backward, rnn_layer as _rnn


def test_the_right_rnn_backward_is_torchs():
    assert_right_rnn_backward_is_torchs(7)
    out, wrt = _rnn()
    assert sg.check_backward(out, wrt, rnn_backward).verdict == "equal"


def test_a_shared_weight_assigned_per_step_is_named():
    out, wrt = _rnn()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: rnn_backward(*a, **k, slip="dWx =")),
              "one use only: Wx is used 3 times (a recurrence or a temporal layer shares it across the time "
              "steps), and the claim is the term of one use alone, x[:, 0] @ Wx;")
    assert "dWx += … in the loop" in r.hint


def test_tanh_derivative_written_wrong_in_every_step_is_named():
    """The slipped tanh's class was named by its label ("tanh_1 − tanh(z)"), which lambdify cannot
    call inside an elementwise body: the 3-step RNN got no hint, where one step got it."""
    out, wrt = _rnn()
    wrong(sg.check_backward(out, wrt, lambda *a, **k: rnn_backward(*a, **k, slip="1 - h")),
          "tanh'(z) written wrong: the claim is what the chain rule gives with tanh'(z) = 1 − tanh(z);")


def test_the_square_recurrent_weight_not_transposed_at_every_step_is_named():
    out, wrt = _rnn()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: rnn_backward(*a, **k, slip="Wh")),
              "transposed factor at every step: the gradient reaching the input of each … @ Wh is multiplied "
              "by Wh where Wh.T belongs")
    assert r.counterexample.param != "Wh"


def _temporal_affine():
    x, w, b = sg.tensor("x", (N, 4, 3)), sg.tensor("w", (3, 2)), sg.tensor("b", (2,))
    return x @ w + b, [x, w, b]


def temporal_affine_backward(dout, x, w, b, step=None):
    n, t, d = x.shape
    dx = (dout.reshape(n * t, -1) @ w.T).reshape(n, t, d)
    dw = x.reshape(n * t, d).T @ dout.reshape(n * t, -1) if step is None else x[:, step].T @ dout[:, step]
    return dx, dw, dout.sum(axis=(0, 1))


def test_the_right_temporal_affine_backward_is_torchs():
    rng = np.random.default_rng(8)
    arrays = [rng.normal(size=s) for s in ((5, 4, 3), (3, 2), (2,))]
    dout = rng.normal(size=(5, 4, 2))
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    (ts[0] @ ts[1] + ts[2]).backward(torch.tensor(dout))
    for got, t in zip(temporal_affine_backward(dout, *arrays), ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    out, wrt = _temporal_affine()
    assert sg.check_backward(out, wrt, temporal_affine_backward).verdict == "equal"


@pytest.mark.parametrize("step, which", [(0, "dout[:, 0] alone (the first index"),
                                         (-1, "dout[:, -1] alone (the last index")])
def test_a_temporal_weight_gradient_from_one_step_is_named(step, which):
    out, wrt = _temporal_affine()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: temporal_affine_backward(*a, **k, step=step)),
              f"one step only: the claim for w is the gradient from {which} of axis 1 of dout, 4 long)")
    assert r.counterexample.param == "w"


def test_a_temporal_weight_gradient_wrong_otherwise_gets_no_step_hint():
    out, wrt = _temporal_affine()
    r = wrong(sg.check_backward(out, wrt, lambda dout, x, w, b: (temporal_affine_backward(dout, x, w, b)[0],
                                                                 x[:, 0].T @ dout[:, 1], dout.sum(axis=(0, 1)))))
    assert r.hint is None or "one step only" not in r.hint


# ---------------------------------------------------------------------------------------------------
# temporal softmax loss: the mask applied to the probabilities but not to the label's −1


def temporal_softmax_loss_dx(x, y, mask, slip=None):
    n, t, v = x.shape
    xf, yf, mf = x.reshape(n * t, v), y.reshape(n * t), mask.reshape(n * t)
    probs = np.exp(xf - xf.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    dx = probs * mf[:, None] if slip == "mask on probs" else probs.copy()
    dx[np.arange(n * t), yf] -= 1
    if slip != "mask on probs":
        dx *= mf[:, None]
    return (dx / n).reshape(n, t, v)


def test_a_mask_applied_to_one_term_of_the_softmax_loss_is_named():
    x, y, mask = sg.tensor("x", (N, 3, 4)), sg.tensor("y", (N, 3), integer=True), sg.tensor("mask", (N, 3))
    loss = sg.sum(mask * sg.cross_entropy(x, y, reduction="none")) / N
    m = (np.random.default_rng(2).random((5, 3)) < 0.7).astype(float)
    xs = torch.tensor(np.random.default_rng(3).normal(size=(5, 3, 4)), requires_grad=True)
    ys = torch.tensor(np.random.default_rng(4).integers(0, 4, (5, 3)))
    (torch.nn.functional.cross_entropy(xs.reshape(15, 4), ys.reshape(15), reduction="none")
     * torch.tensor(m).reshape(15)).sum().div(5).backward()
    np.testing.assert_allclose(temporal_softmax_loss_dx(xs.detach().numpy(), ys.numpy(), m), xs.grad.numpy(),
                               rtol=1e-10, atol=1e-12)
    assert sg.check_backward(loss, x, lambda dout, x, y, mask: temporal_softmax_loss_dx(x, y, mask),
                             at={mask: m}).verdict == "equal"
    r = wrong(sg.check_backward(loss, x, lambda dout, x, y, mask: temporal_softmax_loss_dx(x, y, mask, "mask on probs"),
                                at={mask: m}), "factor left out on one path: the claim has the term of the path x →")
    assert "with mask = 1" in r.hint and "dx *= mask, the mask after the label's −1" in r.hint
