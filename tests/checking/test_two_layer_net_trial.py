"""cs231n assignment 1's two-layer net (affine → relu → affine → softmax loss, with L2
regularization ½·reg·Σ W²), its whole backward written as `TwoLayerNet.loss` computes it, checked as
a loss with `sg.check_backward` (dout = 1): the right one is torch's and "equal", each slip named.
The reason for this file: relu's mask read off the arriving gradient (dh * (dh > 0)) got no hint
when the checked output was a loss rather than a layer with a dout, nor did a mask recomputed from
X @ W1 without the bias."""
from __future__ import annotations

import numpy as np
import torch

import symgrad as sg

from verdicts import N, assert_torch_agrees, check_slip, wrong

REG = 0.1


def two_layer_net():
    X, y = sg.tensor("X", (N, 4)), sg.tensor("y", (N,), integer=True)
    W1, b1, W2, b2 = sg.tensor("W1", (4, 5)), sg.tensor("b1", (5,)), sg.tensor("W2", (5, 3)), sg.tensor("b2", (3,))
    scores = sg.relu(X @ W1 + b1) @ W2 + b2
    loss = sg.cross_entropy(scores, y) + 0.5 * REG * ((W1 * W1).sum() + (W2 * W2).sum())
    return loss, [W1, b1, W2, b2]


def two_layer_net_backward(dout, X, y, W1, b1, W2, b2, slip=None):
    n = X.shape[0]
    z = X @ W1 + b1
    h = np.maximum(0, z)
    s = h @ W2 + b2
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dscores = p.copy()
    dscores[np.arange(n), y] -= 1
    if slip != "no 1/N":
        dscores /= n
    dW2 = h.T @ dscores + REG * W2
    dh = dscores @ W2.T
    mask_from = {"mask from dh": dh, "mask without b1": X @ W1}.get(slip, z)
    dz = dh * (mask_from > 0)
    return X.T @ dz + REG * W1, dz.sum(axis=0), dW2, dscores.sum(axis=0)


def test_the_right_two_layer_backward_is_torchs_and_equal():
    rng = np.random.default_rng(0)
    arrays = {"X": rng.normal(size=(6, 4)), "W1": rng.normal(size=(4, 5)), "b1": rng.normal(size=5),
              "W2": rng.normal(size=(5, 3)), "b2": rng.normal(size=3)}
    y = np.array([0, 2, 1, 1, 0, 2])

    def forward(X, W1, b1, W2, b2):
        s = torch.relu(X @ W1 + b1) @ W2 + b2
        return (torch.nn.functional.cross_entropy(s, torch.tensor(y))
                + 0.5 * REG * ((W1 * W1).sum() + (W2 * W2).sum()))
    assert_torch_agrees(forward, lambda dout, X, W1, b1, W2, b2: two_layer_net_backward(dout, X, y, W1, b1, W2, b2),
                        arrays, np.array(1.0), names=["W1", "b1", "W2", "b2"])
    assert check_slip(two_layer_net, two_layer_net_backward).verdict == "equal"


def test_relu_mask_read_off_the_arriving_gradient_of_a_loss_is_named():
    r = wrong(check_slip(two_layer_net, two_layer_net_backward, "mask from dh"), "relu's mask taken from the gradient")
    assert "dZ = dA * (Z > 0)" in r.hint and "b1 + X @ W1" in r.hint


def test_dscores_not_divided_by_N_is_named_as_the_batch_size():
    r = wrong(check_slip(two_layer_net, two_layer_net_backward, "no 1/N"))
    assert "1/N missing" in r.hint, r.hint


def test_relu_mask_recomputed_without_the_bias_is_named():
    r = wrong(check_slip(two_layer_net, two_layer_net_backward, "mask without b1"),
              "relu's mask without a term of its argument")
    assert "(X @ W1 > 0), its argument without b1" in r.hint
