"""A d2l.ai "from scratch" student's trial of `sg.check_backward`: softmax regression, an MLP with
dropout, batch norm and layer norm, LeNet's convolution by loops, scaled dot-product attention —
each backward written in NumPy as the chapters' forwards compute, the right one compared with
torch.autograd first and read "equal", each slip named. The slips that had no hint, or a wrong one,
are the reason for this file: dscores[:, y] seen in dW, relu′ read off the arriving gradient, dK
from one example, attention's 1/√d left out (called a mean over V's last axis), the softmax
Jacobian's sum over the wrong axis inside attention, a layer norm's statistics called batch norm's."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from verdicts import N, assert_torch_agrees, check_slip, wrong


def _softmax(Z, axis=-1):
    E = np.exp(Z - Z.max(axis, keepdims=True))
    return E / E.sum(axis, keepdims=True)


# ---------------------------------------------------------------------------------------------------
# Softmax regression (d2l's softmax_regression_scratch; cs231n's softmax_loss_vectorized): the mean
# cross-entropy of X @ W + b, its dW and db written by hand.

def softmax_regression():
    X, W, b = sg.tensor("X", (N, 4)), sg.tensor("W", (4, 3)), sg.tensor("b", (3,))
    return sg.cross_entropy(X @ W + b, sg.tensor("y", (N,), integer=True)), [W, b]


def softmax_regression_backward(dout, X, W, b, y, slip=None):
    n = X.shape[0]
    P = _softmax(X @ W + b)
    G = P.copy()
    if slip == "dscores[:, y] -= 1":
        G[:, y] -= 1
    else:
        G[np.arange(n), y] -= 1
    G = G if slip == "no 1/n" else G / n
    return dout * X.T @ G, dout * G.sum(axis=0)


def test_the_right_softmax_regression_backward_is_torchs_and_equal():
    rng = np.random.default_rng(0)
    arrays = {"X": rng.normal(size=(5, 4)), "W": rng.normal(size=(4, 3)), "b": rng.normal(size=3)}
    y = np.array([0, 2, 1, 2, 0])
    assert_torch_agrees(lambda X, W, b: torch.nn.functional.cross_entropy(X @ W + b, torch.tensor(y)),
                        lambda d, X, W, b: softmax_regression_backward(d, X, W, b, y), arrays, np.array(1.0),
                        ["W", "b"])
    assert check_slip(softmax_regression, softmax_regression_backward).verdict == "equal"


def test_dscores_indexed_with_colon_y_is_named_in_dW():
    r = wrong(check_slip(softmax_regression, softmax_regression_backward, "dscores[:, y] -= 1"),
              "labels indexed with [:, y]: the claim for W")
    assert "dscores[np.arange(N), y]" in r.hint


def test_softmax_regression_without_the_mean_is_named():
    wrong(check_slip(softmax_regression, softmax_regression_backward, "no 1/n"),
          "constant factor: the claims for W and b (every variable) are 5 times their gradients — N = 5")


# ---------------------------------------------------------------------------------------------------
# An MLP with dropout (d2l's dropout_layer after the hidden relu): the mask is passed to the backward.

P_DROP = 0.5


def mlp():
    X, W1, b1 = sg.tensor("X", (N, 4)), sg.tensor("W1", (4, 5)), sg.tensor("b1", (5,))
    W2, b2 = sg.tensor("W2", (5, 3)), sg.tensor("b2", (3,))
    return sg.dropout(sg.relu(X @ W1 + b1), P_DROP) @ W2 + b2, [X, W1, b1, W2, b2]


def mlp_backward(dout, X, W1, b1, W2, b2, mask, slip=None):
    Z = X @ W1 + b1
    H = np.maximum(Z, 0) * mask
    dA = (dout @ W2.T) * mask
    dZ = dA * ((dA if slip == "relu' from dA" else Z) > 0)
    return dZ @ W1.T, X.T @ dZ, dZ.sum(axis=0), H.T @ dout, dout.sum(axis=0)


def test_the_right_mlp_dropout_backward_is_torchs_and_equal():
    rng = np.random.default_rng(1)
    arrays = {"X": rng.normal(size=(5, 4)), "W1": rng.normal(size=(4, 5)), "b1": rng.normal(size=5),
              "W2": rng.normal(size=(5, 3)), "b2": rng.normal(size=3)}
    mask = (rng.random((5, 5)) > P_DROP) / (1 - P_DROP)
    assert_torch_agrees(lambda X, W1, b1, W2, b2: (torch.relu(X @ W1 + b1) * torch.tensor(mask)) @ W2 + b2,
                        mlp_backward, arrays, rng.normal(size=(5, 3)), mask=mask)
    assert check_slip(mlp, mlp_backward).verdict == "equal"


def test_relu_mask_read_off_the_arriving_gradient_is_named():
    r = wrong(check_slip(mlp, mlp_backward, "relu' from dA"), "relu's mask taken from the gradient")
    assert "dZ = dA * (Z > 0)" in r.hint


# ---------------------------------------------------------------------------------------------------
# Batch norm (d2l's batch_norm, fully connected: gamma, beta of shape (1, C)) and layer norm (its
# statistics per example, over the features), written as d2l's forward computes them.

EPS = 1e-5


def _norm(axis, pshape):
    def model():
        X, g, bt = sg.tensor("X", (N, 4)), sg.tensor("gamma", pshape), sg.tensor("beta", pshape)
        mu = X.mean(axis=axis, keepdims=True)
        var = ((X - mu) ** 2).mean(axis=axis, keepdims=True)
        return g * (X - mu) / sg.sqrt(var + EPS) + bt, [X, g, bt]
    return model


batch_norm, layer_norm = _norm(0, (1, 4)), _norm(1, (4,))


def _norm_backward(axis):
    def backward(dout, X, gamma, beta, slip=None):
        n = X.shape[axis]
        mu = X.mean(axis, keepdims=True)
        std = np.sqrt(((X - mu) ** 2).mean(axis, keepdims=True) + EPS)
        Xh, dXh = (X - mu) / std, dout * gamma
        dX = (n * dXh - dXh.sum(axis, keepdims=True) - Xh * (dXh * Xh).sum(axis, keepdims=True)) / (n * std)
        if slip == "statistics constant":
            dX = dXh / std
        keep = axis == 0
        return dX, (dout * Xh).sum(axis=0, keepdims=keep), dout.sum(axis=0, keepdims=keep)
    return backward


@pytest.mark.parametrize("axis", [0, 1], ids=["batch norm", "layer norm"])
def test_the_right_norm_backwards_are_torchs_and_equal(axis):
    rng = np.random.default_rng(2)
    pshape = (1, 4) if axis == 0 else (4,)
    arrays = {"X": rng.normal(size=(5, 4)), "gamma": rng.normal(size=pshape), "beta": rng.normal(size=pshape)}

    def forward(X, gamma, beta):
        mu = X.mean(axis, keepdim=True)
        return gamma * (X - mu) / torch.sqrt(((X - mu) ** 2).mean(axis, keepdim=True) + EPS) + beta
    assert_torch_agrees(forward, _norm_backward(axis), arrays, rng.normal(size=(5, 4)))
    assert check_slip(batch_norm if axis == 0 else layer_norm, _norm_backward(axis)).verdict == "equal"


def test_statistics_taken_as_constants_name_the_layer_norms_own_sums():
    r = wrong(check_slip(layer_norm, _norm_backward(1), "statistics constant"), "statistics taken as constants")
    assert "a layer norm's ∂L/∂x" in r.hint and "dxhat.sum(axis=1, keepdims=True)" in r.hint, r.hint
    r = wrong(check_slip(batch_norm, _norm_backward(0), "statistics constant"), "statistics taken as constants")
    assert "batch norm's ∂L/∂x" in r.hint


# ---------------------------------------------------------------------------------------------------
# LeNet's convolution by loops (d2l's corr2d, one channel in and out, batched), its backward as loops.

def conv():
    X, K = sg.tensor("X", (N, 1, 5, 5)), sg.tensor("K", (1, 1, 3, 3))
    return sg.conv2d(X, K), [X, K]


def conv_backward(dout, X, K, slip=None):
    dX, dK = np.zeros_like(X), np.zeros_like(K)
    for i in range(X.shape[2] - 2):
        for j in range(X.shape[3] - 2):
            d = dout[:, 0, i, j][:, None, None]
            if slip == "dX =":
                dX[:, 0, i:i + 3, j:j + 3] = d * K[0, 0]
            else:
                dX[:, 0, i:i + 3, j:j + 3] += d * K[0, 0]
            win = X[:, 0, i:i + 3, j:j + 3]
            dK[0, 0] += win[0] * d[0] if slip == "dK from one example" else (win * d).sum(axis=0)
    return dX, dK


def test_the_right_conv_loops_are_torchs_and_equal():
    rng = np.random.default_rng(3)
    arrays = {"X": rng.normal(size=(5, 1, 5, 5)), "K": rng.normal(size=(1, 1, 3, 3))}
    assert_torch_agrees(lambda X, K: torch.nn.functional.conv2d(X, K), conv_backward, arrays,
                        rng.normal(size=(5, 1, 3, 3)))
    assert check_slip(conv, conv_backward).verdict == "equal"


def test_dK_from_one_example_is_named():
    r = wrong(check_slip(conv, conv_backward, "dK from one example"),
              "one example instead of the sum over the batch: the claim for K")
    assert "the first example alone" in r.hint


def test_dX_assigned_with_one_filter_does_not_speak_of_other_filters():
    r = wrong(check_slip(conv, conv_backward, "dX ="), "overlapping windows (stride 1 < kernel 3)")
    assert "filters" not in r.hint, r.hint


# ---------------------------------------------------------------------------------------------------
# Scaled dot-product attention (d2l's DotProductAttention without masking or dropout).

DK = 4


def attention():
    Q, K, V = sg.tensor("Q", (N, 3, DK)), sg.tensor("K", (N, 5, DK)), sg.tensor("V", (N, 5, 2))
    return sg.softmax(Q @ K.transpose(0, 2, 1) / sp.sqrt(DK), axis=-1) @ V, [Q, K, V]


def attention_backward(dout, Q, K, V, slip=None):
    A = _softmax(Q @ K.transpose(0, 2, 1) / np.sqrt(DK))
    dA = dout @ V.transpose(0, 2, 1)
    dS = A * (dA - (dA * A).sum(axis=1 if slip == "softmax sum over axis 1" else -1, keepdims=True))
    scale = 1 if slip == "no 1/sqrt(d)" else 1 / np.sqrt(DK)
    return dS @ K * scale, dS.transpose(0, 2, 1) @ Q * scale, A.transpose(0, 2, 1) @ dout


def test_the_right_attention_backward_is_torchs_and_equal():
    rng = np.random.default_rng(4)
    arrays = {"Q": rng.normal(size=(5, 3, DK)), "K": rng.normal(size=(5, 5, DK)), "V": rng.normal(size=(5, 5, 2))}
    assert_torch_agrees(lambda Q, K, V: torch.softmax(Q @ K.transpose(1, 2) / DK ** 0.5, dim=-1) @ V,
                        attention_backward, arrays, rng.normal(size=(5, 3, 2)))
    assert check_slip(attention, attention_backward).verdict == "equal"


def test_attention_without_its_scale_names_the_scale_not_a_mean():
    r = wrong(check_slip(attention, attention_backward, "no 1/sqrt(d)"), "constant factor: the claims for Q and K are 2 times")
    assert "attention's 1/sqrt(d_k)" in r.hint and "a sum where there is a mean" not in r.hint, r.hint


def test_attention_softmax_backward_summed_over_the_wrong_axis_is_named():
    r = wrong(check_slip(attention, attention_backward, "softmax sum over axis 1"), "softmax Jacobian written wrong")
    assert "sum over axis 1 where the softmax normalises over axis 2" in r.hint, r.hint
