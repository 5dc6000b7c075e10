"""Slips of hand-written tensor backward functions that `sg.check_backward` names: the softmax
Jacobian cut to its diagonal or without its diagonal term, an embedding's gradient by assignment
(repeated indices), a recurrence without the gradient from the next step, and db = dout[0]."""
from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def named(r, prefix):
    assert not r and r.verdict == "not equal", str(r)
    assert r.hint is not None and r.hint.startswith(prefix), r.hint
    return r


# ---------------------------------------------------------------------------------------------------
# softmax over the last axis: dz = s ⊙ (ds − (s ⊙ ds).sum(-1, keepdims))


def softmax_backward(dout, z, slip=None):
    s = np.exp(z - z.max(axis=-1, keepdims=True))
    s /= s.sum(axis=-1, keepdims=True)
    if slip == "diagonal only":
        return s * (1 - s) * dout
    if slip == "no diagonal term":
        return -s * (s * dout).sum(axis=-1, keepdims=True)
    return s * (dout - (s * dout).sum(axis=-1, keepdims=True))


def test_tensor_softmax_jacobian_slips():
    z = sg.tensor("z", (N, 2, 4))
    out = sg.softmax(z, axis=-1)
    assert sg.check_backward(out, z, softmax_backward)
    named(sg.check_backward(out, z, lambda d, z: softmax_backward(d, z, "diagonal only")),
          "softmax Jacobian cut to its diagonal")
    # softmax = exp(z − logsumexp(z)): without the diagonal term, the path through exp(z) is left out
    r = named(sg.check_backward(out, z, lambda d, z: softmax_backward(d, z, "no diagonal term")), "fan-out")
    assert "leaves out the term of the path z → softmax(z, axis=2)" in r.hint


def test_attention_softmax_cut_to_its_diagonal():
    q, k, v = sg.tensor("q", (N, 2, 3)), sg.tensor("k", (N, 3, 3)), sg.tensor("v", (N, 3, 2))
    out = sg.softmax(q @ k.transpose(0, 2, 1) / sp.sqrt(3), axis=-1) @ v

    def backward(dout, q, k, v):
        s = q @ k.transpose(0, 2, 1) / np.sqrt(3)
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        ds = p * (1 - p) * (dout @ v.transpose(0, 2, 1))          # the slip
        return ds @ k / np.sqrt(3), ds.transpose(0, 2, 1) @ q / np.sqrt(3), p.transpose(0, 2, 1) @ dout
    r = named(sg.check_backward(out, [q, k, v], backward), "softmax Jacobian cut to its diagonal")
    assert r.counterexample.param in ("q", "k")        # both go through the softmax


# ---------------------------------------------------------------------------------------------------
# embedding with repeated indices: dW[idx] = dout keeps one row per index


def test_embedding_gradient_by_assignment():
    W, idx = sg.tensor("W", (3, 2)), sg.tensor("idx", (N, 5), integer=True)

    def backward(dout, W, idx):
        dW = np.zeros_like(W)
        dW[idx] = dout                    # the slip: np.add.at(dW, idx, dout)
        return dW
    r = named(sg.check_backward(sg.embedding(W, idx), W, backward), "assignment instead of accumulation")
    assert "np.add.at" in r.hint


# (a 3-step RNN whose backward forgets the gradient from the next step: tests/checking/test_check_backward.py,
# test_three_step_rnn_on_N_T_D)


# ---------------------------------------------------------------------------------------------------
# db = dout[0]: one example's term where the bias's gradient sums the batch


def test_bias_gradient_from_one_example():
    x, w, b = sg.tensor("x", (N, 4)), sg.tensor("w", (4, 3)), sg.tensor("b", (3,))

    def backward(dout, x, w, b):
        return dout @ w.T, x.T @ dout, dout[0]           # the slip: dout.sum(axis=0)
    r = named(sg.check_backward(x @ w + b, [x, w, b], backward), "one example instead of the sum")
    assert r.counterexample.param == "b" and "dout.sum(axis=0)" in r.hint


# ---------------------------------------------------------------------------------------------------
# Found trying the course's layers as a student writes them (trial round)


def test_bias_gradient_with_keepdims_is_an_extra_axis_not_a_missing_sum():
    """db = dout.sum(axis=0, keepdims=True) has the right numbers in shape (1, 5): the hint says so,
    where it used to say a sum over axis 0 was left out (the sum is there)."""
    x, w, b = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 5)), sg.tensor("b", (5,))

    def affine_backward(dout, x, w, b):
        return dout @ w.T, x.T @ dout, dout.sum(axis=0, keepdims=True)
    r = named(sg.check_backward(x @ w + b, [x, w, b], affine_backward), "extra axis")
    assert r.counterexample.param == "b" and "(1, 5)" in r.hint and "keepdims" in r.hint
    # a real missing sum is still one
    named(sg.check_backward(x @ w + b, [x, w, b], lambda dout, x, w, b: (dout @ w.T, x.T @ dout, dout)),
          "missing sum")


def test_batch_size_is_drawn_apart_from_the_fixed_dimensions():
    """Layer norm over (N, 4) with dgamma summed over axis 1 (the features) instead of 0: when N was
    drawn as 4 too, that (N,) claim had gamma's shape (4,) and got no hint; N is now drawn apart
    from every fixed dimension, so the shape is named — and the axes: dgamma is dout * x summed over
    axis 0, gamma's gradient per entry of its broadcast (sum_axis_hint)."""
    x, gamma, beta = sg.tensor("x", (N, 4)), sg.tensor("gamma", (4,)), sg.tensor("beta", (4,))
    out = gamma * x + beta
    seen = []

    def backward(dout, x, gamma, beta):
        seen.append(x.shape)
        return dout * gamma, (dout * x).sum(axis=1), dout.sum(axis=0)
    r = named(sg.check_backward(out, [x, gamma, beta], backward), "summed over the wrong axes")
    assert r.counterexample.param == "gamma" and seen[0][0] != 4
    assert "gamma's shape (4,)" in r.hint and "dgamma = g.sum(axis=0)" in r.hint, r.hint


def test_dropout_scale_left_out_is_not_called_a_square():
    """Inverted dropout's backward without its 1/p is ½ the gradient: the hint names f's constant 2
    (= 1/p), not 'the 2 from differentiating a square', which f does not have."""
    x, mask = sg.tensor("x", (N, 6)), sg.tensor("mask", (N, 6))
    m = (np.random.default_rng(0).random((5, 6)) < 0.5).astype(float)
    out = x * mask / 0.5
    assert sg.check_backward(out, x, lambda dout, x, mask: dout * mask / 0.5, at={mask: m})
    r = named(sg.check_backward(out, x, lambda dout, x, mask: dout * mask, at={mask: m}),
              "constant factor: the claim is 1/2 times")
    assert "square" not in r.hint and "constant 2 of f" in r.hint
    # with a square in f, the ½ and 2 are still read as the square's
    w, v, y = sp.symbols("w v y", real=True)
    assert "square" in sg.check((y - w * v) ** 2 / 2, w, -2 * (y - w * v) * v).hint


def test_relu_derivative_left_out_is_named():
    """relu_backward returning dout unmasked, and a two-layer net's backward without relu's mask,
    got no hint; they are 'relu′ left out' — for sg.relu and for sp.Max(z, 0) alike."""
    x = sg.tensor("x", (N, 6))
    for out in (sg.relu(x), sp.Max(x, 0)):
        assert sg.check_backward(out, x, lambda dout, x: dout * (x > 0))
        named(sg.check_backward(out, x, lambda dout, x: dout), "relu′ left out")
    X, W1, W2 = sg.tensor("X", (N, 3)), sg.tensor("W1", (3, 5)), sg.tensor("W2", (5, 2))

    def backward(dout, X, W1, W2):
        h = np.maximum(X @ W1, 0)
        return X.T @ (dout @ W2.T), h.T @ dout        # dW1 without the mask (X @ W1 > 0)
    r = named(sg.check_backward(sg.relu(X @ W1) @ W2, [W1, W2], backward), "relu′ left out")
    assert r.counterexample.param == "W1"
    # a matrix claim through sg.check too
    W, v = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("v", 2, 1)
    named(sg.check(sg.sum(sg.relu(W * v)), W, sp.OneMatrix(3, 1) * v.T), "relu′ left out")


# ---------------------------------------------------------------------------------------------------
# a user trial's cs231n slips: relu's dout forgotten, softmax loss's -= 1 written += 1, batch norm
# with the unbiased variance


def test_relu_backward_that_forgets_dout_is_named():
    """relu_backward returning the mask (x > 0) alone: the local derivative, dout never multiplied in."""
    x = sg.tensor("x", (N, 5))
    r = named(sg.check_backward(sg.relu(x), x, lambda dout, x: (x > 0) * 1.0), "upstream gradient left out")
    assert "dout" in r.hint and "dout * (x > 0)" in r.hint


def _softmax_loss(x, y, slip=None):
    shifted = x - x.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=1, keepdims=True)
    n = x.shape[0]
    dx = p.copy()
    if slip == "+= 1":
        dx[np.arange(n), y] += 1
    else:
        dx[np.arange(n), y] -= 1
    return dx if slip == "1/N" else dx / n


def test_softmax_loss_label_term_with_its_sign_flipped_is_named():
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True)
    loss = sg.cross_entropy(x, y)
    assert sg.check_backward(loss, x, lambda dout, x, y: _softmax_loss(x, y))
    r = named(sg.check_backward(loss, x, lambda dout, x, y: _softmax_loss(x, y, "+= 1")), "fan-out")
    assert "flips the sign of" in r.hint and "-= 1, not += 1" in r.hint
    # the forgotten 1/N is named as well
    r = named(sg.check_backward(loss, x, lambda dout, x, y: _softmax_loss(x, y, "1/N")), "constant factor")
    assert "1/N missing" in r.hint


def test_variance_backward_with_the_unbiased_variance_is_named():
    """dvar/dx = 2(x − μ)/(N − 1) for f's x.var() (correction=0): the factor N/(N − 1), named as
    the variance's correction, not a bare 'constant factor 4/3'."""
    x = sg.tensor("x", (N, 3))
    r = sg.check_backward(x.var(axis=0), x, lambda dout, x: dout * 2 * (x - x.mean(0)) / x.shape[0])
    assert r, str(r)
    r = named(sg.check_backward(x.var(axis=0), x,
                                lambda dout, x: dout * 2 * (x - x.mean(0)) / (x.shape[0] - 1)), "constant factor")
    assert "N/(N − 1)" in r.hint and "correction=1" in r.hint and "ddof=1" in r.hint and "correction=0" in r.hint


def test_batchnorm_staged_backward_with_the_unbiased_variance_is_named():
    eps = 1e-5
    x, gamma, beta = sg.tensor("x", (N, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,))
    out = gamma * (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + eps) + beta

    def backward(dout, x, gamma, beta, ddof=1):          # cs231n's staged batchnorm_backward
        n = x.shape[0]
        xmu = x - x.mean(0)
        std = np.sqrt((xmu ** 2).sum(0) / (n - ddof) + eps)
        xhat = xmu / std
        dxhat = dout * gamma
        dvar = 0.5 * -(dxhat * xmu).sum(0) / std ** 3
        dx1 = dxhat / std + 2 * xmu * dvar / (n - ddof)
        return dx1 - dx1.sum(0) / n, (dout * xhat).sum(0), dout.sum(0)
    assert sg.check_backward(out, [x, gamma, beta], lambda *a, **v: backward(*a, **v, ddof=0))
    r = named(sg.check_backward(out, [x, gamma, beta], backward), "variance correction")
    assert "correction=1" in r.hint and "ddof=1" in r.hint and "correction=0" in r.hint
