"""A parameter's gradient built from the wrong forward value — batch norm's `dgamma = (dout * x).sum(0)`
where x̂ belongs, an RNN step's `dWh = next_h.T @ dtanh` where prev_h belongs — reads "wrong operand";
`dprev_h = dtanh @ Wh` for `dtanh @ Wh.T` with a square Wh reads "transposed factor". The right
backwards are first checked against torch.autograd in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from norm_reference import torch_norm_grads
from verdicts import N, wrong

EPS = 1e-5


def norm_backward(dout, x, gamma, beta, axis, slip=None):
    """cs231n's batchnorm_backward_alt (axis 0) and layernorm_backward (axis 1)."""
    n = x.shape[axis]
    mu, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True)
    std = np.sqrt(var + EPS)
    xhat = (x - mu) / std
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(axis=axis, keepdims=True)
          - xhat * (dxhat * xhat).sum(axis=axis, keepdims=True)) / (n * std)
    dgamma = (dout * (x if slip == "x for xhat" else xhat)).sum(axis=0)
    return dx, dgamma, dout.sum(axis=0)


def rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, b, slip=None):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    dtanh = dnext_h * (1 - (prev_h if slip == "prev_h in tanh'" else next_h) ** 2)
    dprev_h = dtanh @ (Wh if slip == "Wh not transposed" else Wh.T)
    dWh = (next_h if slip == "next_h for prev_h" else prev_h).T @ dtanh
    return dtanh @ Wx.T, dprev_h, x.T @ dtanh, dWh, dtanh.sum(axis=0)


def test_the_right_backwards_agree_with_torch():
    rng = np.random.default_rng(0)
    x, g, bt, d = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=3), rng.normal(size=(4, 3))
    for axis in (0, 1):
        for ours, t in zip(norm_backward(d, x, g, bt, axis), torch_norm_grads(x, g, bt, d, axis, EPS)):
            assert np.allclose(ours, t, rtol=1e-9, atol=1e-12)
    arrays = [rng.normal(size=s) for s in [(4, 3), (4, 2), (3, 2), (2, 2), (2,)]]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    d = rng.normal(size=(4, 2))
    (torch.tanh(ts[0] @ ts[2] + ts[1] @ ts[3] + ts[4]) * torch.tensor(d)).sum().backward()
    for ours, t in zip(rnn_step_backward(d, *arrays), ts):
        assert np.allclose(ours, t.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("axis", [0, 1], ids=["batchnorm", "layernorm"])
def test_dgamma_built_from_x_instead_of_xhat_is_named(axis):
    x, gamma, beta = sg.tensor("x", (N, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,))
    mu, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True)
    out, wrt = gamma * (x - mu) / sp.sqrt(var + EPS) + beta, [x, gamma, beta]
    assert sg.check_backward(out, wrt, lambda *a, **v: norm_backward(*a, **v, axis=axis)).verdict == "equal"
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: norm_backward(*a, **v, axis=axis, slip="x for xhat")),
              "wrong operand: dgamma is built from x where x̂, the normalised input, belongs")
    assert r.counterexample.param == "gamma"


def _rnn_step():
    x, prev_h = sg.tensor("x", (N, 3)), sg.tensor("prev_h", (N, 2))
    Wx, Wh, b = sg.tensor("Wx", (3, 2)), sg.tensor("Wh", (2, 2)), sg.tensor("b", (2,))
    return sg.tanh(x @ Wx + prev_h @ Wh + b), [x, prev_h, Wx, Wh, b]


def test_rnn_dWh_built_from_next_h_is_named():
    out, wrt = _rnn_step()
    assert sg.check_backward(out, wrt, rnn_step_backward).verdict == "equal"
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: rnn_step_backward(*a, **v, slip="next_h for prev_h")),
              "wrong operand: dWh is built from the layer's output where prev_h belongs")
    assert r.counterexample.param == "Wh"


def test_rnn_dprev_h_with_a_square_Wh_not_transposed_is_named():
    out, wrt = _rnn_step()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: rnn_step_backward(*a, **v, slip="Wh not transposed")),
              "transposed factor: dprev_h multiplies by Wh where Wh.T belongs")
    assert "dprev_h = d @ Wh.T" in r.hint and r.counterexample.param == "prev_h"


def test_a_gradient_that_is_just_wrong_is_not_called_a_wrong_operand():
    out, wrt = _rnn_step()

    def backward(*a, **v):
        dx, dprev, dWx, dWh, db = rnn_step_backward(*a, **v)
        return dx, dprev, dWx, dWh + 0.1, db
    r = wrong(sg.check_backward(out, wrt, backward))
    assert r.hint is None or "operand" not in r.hint


def test_relu_mask_taken_from_dout_is_named():
    x = sg.tensor("x", (N, 5))
    rng = np.random.default_rng(1)
    xv, d = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    xt = torch.tensor(xv, requires_grad=True)
    (torch.relu(xt) * torch.tensor(d)).sum().backward()
    assert np.allclose(d * (xv > 0), xt.grad.numpy(), rtol=0, atol=0)
    assert sg.check_backward(sg.relu(x), x, lambda dout, x: dout * (x > 0)).verdict == "equal"
    r = wrong(sg.check_backward(sg.relu(x), x, lambda dout, x: dout * (dout > 0)),
              "relu's mask taken from dout: the claim masks with (dout > 0)")
    assert "dx = dout * (x > 0)" in r.hint


def test_relu_mask_taken_from_dout_after_an_affine_layer_is_named():
    x, w, b = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 4)), sg.tensor("b", (4,))

    def backward(dout, x, w, b):
        dz = dout * (dout > 0)
        return dz @ w.T, x.T @ dz, dz.sum(axis=0)
    r = wrong(sg.check_backward(sg.relu(x @ w + b), [x, w, b], backward), "relu's mask taken from dout")
    assert "(z = " in r.hint and "dz = dout * (z > 0)" in r.hint


def test_rnn_tanh_derivative_made_from_prev_h_is_named():
    out, wrt = _rnn_step()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: rnn_step_backward(*a, **v, slip="prev_h in tanh'")),
              "tanh'(z) written with prev_h: the claim uses 1 − prev_h² where 1 − h² belongs")
    assert "next_h" in r.hint


def _two_layer_backward(dout, X, W1, b1, W2, b2, slip=None):
    """affine - relu - affine; dout the gradient at the scores."""
    z = X @ W1 + b1
    h = np.maximum(0, z)
    dW2 = (z if slip == "z for h" else h).T @ dout
    dz = (dout @ W2.T) * (z > 0)
    return X.T @ dz, dz.sum(axis=0), dW2, dout.sum(axis=0)


def test_a_weight_gradient_from_the_activations_input_is_named():
    """dW2 = z.T @ dscores where h.T @ dscores belongs (h = relu(z)): the value before the activation."""
    import torch
    rng = np.random.default_rng(9)
    arrays = [rng.normal(size=s) for s in ((5, 4), (4, 3), (3,), (3, 2), (2,))]
    d = rng.normal(size=(5, 2))
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ((torch.relu(ts[0] @ ts[1] + ts[2]) @ ts[3] + ts[4]) * torch.tensor(d)).sum().backward()
    for got, t in zip(_two_layer_backward(d, *arrays), ts[1:]):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    X, W1, b1 = sg.tensor("X", (N, 4)), sg.tensor("W1", (4, 3)), sg.tensor("b1", (3,))
    W2, b2 = sg.tensor("W2", (3, 2)), sg.tensor("b2", (2,))
    out, wrt = sg.relu(X @ W1 + b1) @ W2 + b2, [W1, b1, W2, b2]
    assert sg.check_backward(out, wrt, _two_layer_backward).verdict == "equal"
    r = sg.check_backward(out, wrt, lambda *a, **k: _two_layer_backward(*a, **k, slip="z for h"))
    assert r.verdict == "not equal" and r.hint.startswith(
        "wrong operand: dW2 is built from b1 + X @ W1, the input of relu (the value before the activation) "
        "where relu(b1 + X @ W1) belongs"), r.hint
