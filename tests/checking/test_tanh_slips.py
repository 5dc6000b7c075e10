"""tanh′ written wrong — cs231n's rnn_step_backward with dtanh = 1 − next_h where 1 − next_h² belongs,
or next_h alone — is named, in a check_backward of an RNN step and in sg.check of a scalar claim. The
right backward is checked against torch.autograd (float64) first; each slip differs from it."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from verdicts import N, wrong


def _rnn_step():
    x, h = sg.tensor("x", (N, 3)), sg.tensor("prev_h", (N, 4))
    Wx, Wh, b = sg.tensor("Wx", (3, 4)), sg.tensor("Wh", (4, 4)), sg.tensor("b", (4,))
    return sg.tanh(x @ Wx + h @ Wh + b), [x, h, Wx, Wh, b]


DTANH = {None: lambda h: 1 - h ** 2, "1 − tanh(z)": lambda h: 1 - h, "tanh(z)": lambda h: h,
         "tanh(z)²": lambda h: h ** 2, "(1 − tanh(z))²": lambda h: (1 - h) ** 2}   # (1 - h)**2 for 1 - h**2


def rnn_step_backward(dout, x, prev_h, Wx, Wh, b, slip=None):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    dz = dout * DTANH[slip](next_h)
    return dz @ Wx.T, dz @ Wh.T, x.T @ dz, prev_h.T @ dz, dz.sum(axis=0)


def test_the_right_step_backward_is_torchs():
    rng = np.random.default_rng(5)
    arrays = [rng.normal(size=s) for s in ((5, 3), (5, 4), (3, 4), (4, 4), (4,))]
    dout = rng.normal(size=(5, 4))
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    torch.tanh(ts[0] @ ts[2] + ts[1] @ ts[3] + ts[4]).backward(torch.tensor(dout))
    for got, t in zip(rnn_step_backward(dout, *arrays), ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    out, wrt = _rnn_step()
    assert sg.check_backward(out, wrt, rnn_step_backward)


@pytest.mark.parametrize("slip", ["1 − tanh(z)", "tanh(z)", "tanh(z)²", "(1 − tanh(z))²"])
def test_tanh_derivative_written_wrong_is_named(slip):
    out, wrt = _rnn_step()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: rnn_step_backward(*a, **k, slip=slip)),
              f"tanh'(z) written wrong: the claim is what the chain rule gives with tanh'(z) = {slip};")
    assert "dz = dout * (1 − h**2)" in r.hint


def test_a_scalar_claim_with_the_input_squared_is_named():
    w, x = sp.symbols("w x", real=True)
    f = sp.tanh(w * x)
    assert sg.check(f, w, x * (1 - sp.tanh(w * x) ** 2))
    r = wrong(sg.check(f, w, x * (1 - (w * x) ** 2)), "tanh'(z) written wrong")
    assert "1 − z²" in r.hint


def test_dx_computed_as_dprev_h_is_not_called_an_order():
    """rnn_step_backward's dx = dz @ Wh.T (dprev_h's line) while dprev_h is right: not the gradients in
    another order, the line copied — it used to read "the gradients come in another order than wrt's"."""
    out, wrt = _rnn_step()

    def backward(dout, x, prev_h, Wx, Wh, b):
        dx, dprev_h, *rest = rnn_step_backward(dout, x, prev_h, Wx, Wh, b)
        return (dprev_h, dprev_h, *rest)
    r = wrong(sg.check_backward(out, wrt, backward), "shape: the claim has shape (5, 4)")
    assert "it is ∂f/∂prev_h, which the claim for prev_h also is: dx is computed as dprev_h" in r.hint
    assert "another order" not in r.hint
