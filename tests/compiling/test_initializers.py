"""sg.train initializes the parameters it is not given: He normal for a weight that feeds a relu,
Glorot uniform otherwise, biases zero, seeded by train's ``seed``."""
import math

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import init_values, relu_weights


def program(widths, act=sg.relu):
    net = sg.mlp(widths, act=act)
    t = sp.MatrixSymbol("t", widths[-1], 1)
    return net, sg.compile(sg.mse(net.output, t), net.params, [net.input, t], dtype="float64")


def data(n_in, n_out, n=16):
    rng = np.random.default_rng(3)
    return {"x": rng.normal(size=(n, n_in)), "t": rng.normal(size=(n, n_out))}


def initial(prog, d, **kw):
    return sg.train(prog, d, epochs=0, progress=False, **kw).values


def test_relu_layers_get_he_the_output_layer_glorot_biases_zero():
    net, prog = program([400, 300, 200, 10])
    assert relu_weights(prog) == {"W1", "W2"}                 # W3 feeds no relu: the output layer
    v = initial(prog, data(400, 10))
    assert np.std(v["W1"]) == pytest.approx(math.sqrt(2 / 400), rel=0.02)      # He: N(0, 2/fan_in)
    assert np.std(v["W2"]) == pytest.approx(math.sqrt(2 / 300), rel=0.02)
    a = math.sqrt(6 / (200 + 10))                                               # Glorot: U(−a, a)
    assert np.abs(v["W3"]).max() <= a and np.abs(v["W3"]).max() > 0.95 * a
    assert np.std(v["W3"]) == pytest.approx(a / math.sqrt(3), rel=0.05)
    for b in ("b1", "b2", "b3"):
        assert not np.any(v[b])


def test_tanh_layers_get_glorot():
    net, prog = program([300, 100, 3], act=sg.tanh)
    assert relu_weights(prog) == set()
    v = initial(prog, data(300, 3))
    a = math.sqrt(6 / (300 + 100))
    assert np.std(v["W1"]) == pytest.approx(a / math.sqrt(3), rel=0.03)


def test_seeded_given_values_kept_and_training_moves_them():
    net, prog = program([5, 4, 2])
    d = data(5, 2)
    v0, v1, v2 = initial(prog, d, seed=1), initial(prog, d, seed=1), initial(prog, d, seed=2)
    assert all(np.array_equal(v0[k], v1[k]) for k in v0)
    assert not np.array_equal(v0["W1"], v2["W1"])
    W1 = np.full((4, 5), 0.25)
    v = initial(prog, d, values={"W1": W1})
    assert np.array_equal(v["W1"], W1) and v["W2"].shape == (2, 4)
    h = sg.train(prog, d, epochs=5, batch_size=4, progress=False)
    assert h.epochs[-1]["loss"] < h.epochs[0]["loss"]


def test_init_values_he_names():
    W = sp.MatrixSymbol("W", 300, 500)
    assert np.std(init_values([W], he=[W])["W"]) == pytest.approx(math.sqrt(2 / 500), rel=0.02)
