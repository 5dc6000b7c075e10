"""sg.train's initial values for tensor declarations (x @ W over a batch, W @ x per example, a conv
kernel, a bias, a batch-norm scale): the fans are read from how the graph uses each parameter, as
torch.nn.init computes them for Linear and Conv2d. Before: a (64, 10) weight of x @ W drew He with
fan-in 10 (the output width), a conv kernel (8, 1, 3, 3) fan-in 3, and every 1-D bias and scale was
drawn uniform, not 0 and 1."""
import math

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def initial(prog, data):
    return sg.train(prog, data, epochs=0, progress=False).values


def test_x_at_W_over_a_batch_fans_from_the_first_axis():
    x, y = sg.tensor("x", (N, 400)), sg.tensor("y", (N,), integer=True)
    W1, b1, W2 = sg.tensor("W1", (400, 300)), sg.tensor("b1", (300,)), sg.tensor("W2", (300, 10))
    prog = sg.compile(sg.cross_entropy(sg.relu(x @ W1 + b1) @ W2, y), [W1, b1, W2], [x, y])
    v = initial(prog, {"x": np.zeros((4, 400)), "y": np.zeros(4, int)})
    assert np.std(v["W1"]) == pytest.approx(math.sqrt(2 / 400), rel=0.02)       # He, fan-in 400
    a = math.sqrt(6 / (300 + 10))                                                # Glorot
    assert a * 0.95 < np.abs(v["W2"]).max() <= a
    assert not np.any(v["b1"])


def test_W_at_x_per_example_fans_from_the_last_axis():
    x, y = sg.tensor("x", (400,)), sg.tensor("y", (), integer=True)
    W1, b1, W2 = sg.tensor("W1", (300, 400)), sg.tensor("b1", (300,)), sg.tensor("W2", (10, 300))
    prog = sg.compile(sg.cross_entropy(W2 @ sg.relu(W1 @ x + b1), y), [W1, b1, W2], [x, y])
    v = initial(prog, {"x": np.zeros((4, 400)), "y": np.zeros(4, int)})
    assert np.std(v["W1"]) == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    assert not np.any(v["b1"])


def test_a_conv_kernel_has_fan_in_channels_times_window():
    x, y = sg.tensor("x", (N, 3, 12, 12)), sg.tensor("y", (N,), integer=True)
    w = sg.tensor("w", (64, 3, 5, 5))
    Wo = sg.tensor("Wo", (64 * 8 * 8, 10))
    h = sg.relu(sg.conv2d(x, w)).reshape(N, 64 * 8 * 8)
    prog = sg.compile(sg.cross_entropy(h @ Wo, y), [w, Wo], [x, y])
    v = initial(prog, {"x": np.zeros((2, 3, 12, 12)), "y": np.zeros(2, int)})
    assert np.std(v["w"]) == pytest.approx(math.sqrt(2 / 75), rel=0.03)          # He, fan-in 3·5·5


def test_batch_norm_scale_starts_at_one_and_shift_at_zero():
    x, y = sg.tensor("x", (N, 8)), sg.tensor("y", (N,), integer=True)
    W, gamma, beta = sg.tensor("W", (8, 6)), sg.tensor("gamma", (6,)), sg.tensor("beta", (6,))
    z = x @ W
    h = gamma * (z - sg.mean(z, axis=0)) / sp.sqrt(sg.var(z, axis=0) + 1e-5) + beta
    prog = sg.compile(sg.cross_entropy(h, y), [W, gamma, beta], [x, y])
    v = initial(prog, {"x": np.zeros((4, 8)), "y": np.zeros(4, int)})
    assert np.array_equal(v["gamma"], np.ones(6)) and not np.any(v["beta"])
