"""relu's backward returning the forward's value, `x * (x > 0)` or `np.maximum(0, x)`, where
`dout * (x > 0)` belongs, reads "not equal" naming the slip. The right backward is checked against
torch.autograd in float64 first."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from verdicts import N, wrong

NAMED = "the layer's output where its gradient belongs"


def test_the_right_relu_backward_is_torchs():
    rng = np.random.default_rng(3)
    xv, d = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    xt = torch.tensor(xv, requires_grad=True)
    (torch.relu(xt) * torch.tensor(d)).sum().backward()
    np.testing.assert_array_equal(d * (xv > 0), xt.grad.numpy())
    x = sg.tensor("x", (N, 5))
    assert sg.check_backward(sg.relu(x), x, lambda dout, x: dout * (x > 0)).verdict == "equal"


@pytest.mark.parametrize("backward", [lambda dout, x: x * (x > 0), lambda dout, x: np.maximum(0, x)],
                         ids=["x*(x>0)", "np.maximum(0,x)"])
def test_relu_backward_returning_the_forwards_value_is_named(backward):
    x = sg.tensor("x", (N, 5))
    r = wrong(sg.check_backward(sg.relu(x), x, backward), NAMED)
    assert "multiply dout by relu's mask: dx = dout * (x > 0)" in r.hint


def test_after_an_affine_layer_it_is_named_with_z():
    x, w, b = sg.tensor("x", (3, 3)), sg.tensor("w", (3, 4)), sg.tensor("b", (4,))

    def backward(dout, x, w, b):
        z = x @ w + b
        dz = z * (z > 0)
        return dz @ w.T, x.T @ dz, dz.sum(axis=0)
    r = wrong(sg.check_backward(sg.relu(x @ w + b), [x, w, b], backward), NAMED)
    assert "dz = dout * (z > 0) (z = " in r.hint


def test_a_sigmoid_returning_its_output_is_not_given_relus_hint():
    x = sg.tensor("x", (N, 5))

    def backward(dout, x):
        return 1 / (1 + np.exp(-x))
    r = wrong(sg.check_backward(sg.sigmoid(x), x, backward))
    assert r.hint is None or NAMED not in r.hint


def test_relu_backward_multiplying_by_its_input_is_named():
    """dx = dout * x (relu′ taken as z, a student's dout-vs-dout*x mix-up), alone and behind an affine."""
    x = sg.tensor("x", (N, 5))
    wrong(sg.check_backward(sg.relu(x), x, lambda dout, x: dout * x), "relu′ written as z")
    x, w, b = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 4)), sg.tensor("b", (4,))

    def backward(dout, x, w, b):
        dz = dout * (x @ w + b)
        return dz @ w.T, x.T @ dz, dz.sum(axis=0)
    r = wrong(sg.check_backward(sg.relu(x @ w + b), [x, w, b], backward), "relu′ written as z")
    assert "dz = dout * z" in r.hint
