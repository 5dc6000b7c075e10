"""sg.gradcheck reads a .grad that returns the gradient itself for one parameter (cs231n's loss
function returns (loss, dW)) or a list in values' order, as sg.check reads a callable claim; anything
else is an ArgumentError naming what came back. Before, a lone array raised AttributeError: 'items'."""
from __future__ import annotations

import types

import numpy as np
import pytest

import symgrad as sg

RNG = np.random.default_rng(0)
BATCH = {"X": RNG.normal(size=(8, 4)), "y": RNG.normal(size=8)}


def loss(v, b):          # ½ mean (X w + c − y)²
    return float(np.mean((b["X"] @ v["w"] + v["c"] - b["y"]) ** 2) / 2)


def grads(v, b, scale=1.0):
    r = b["X"] @ v["w"] + v["c"] - b["y"]
    return scale * b["X"].T @ r / len(r), np.mean(r)


def test_a_lone_array_for_one_parameter_is_its_gradient():
    values = {"w": RNG.normal(size=4)}
    one = lambda v, b: loss({**v, "c": 0.0}, b)                                   # noqa: E731
    right = types.SimpleNamespace(loss=one, grad=lambda v, b: grads({**v, "c": 0.0}, b)[0])
    assert sg.gradcheck(right, values, BATCH)
    wrong = types.SimpleNamespace(loss=one, grad=lambda v, b: grads({**v, "c": 0.0}, b, 2.0)[0])
    assert not sg.gradcheck(wrong, values, BATCH)


def test_a_list_in_values_order():
    values = {"w": RNG.normal(size=4), "c": np.array(0.3)}
    assert sg.gradcheck(types.SimpleNamespace(loss=loss, grad=lambda v, b: list(grads(v, b))), values, BATCH)


@pytest.mark.parametrize("returned", [None, (1.0,), "dW"])
def test_anything_else_is_told(returned):
    values = {"w": RNG.normal(size=4), "c": np.array(0.3)}
    with pytest.raises(sg.ArgumentError,
                       match=r"\.grad returned .*it returns a dict \{name: gradient\} for the parameters w, c"):
        sg.gradcheck(types.SimpleNamespace(loss=loss, grad=lambda v, b: returned), values, BATCH)


def test_a_loss_and_grads_pair_is_told_not_raised_as_a_type_error():
    """cs231n's loss returns (loss, grads); as .grad, with two parameters, the pair was read as the two
    gradients in values' order and raised TypeError: float() argument must be ... not 'dict'."""
    values = {"w": RNG.normal(size=4), "c": np.array(0.3)}

    def both(v, b):
        dw, dc = grads(v, b)
        return loss(v, b), {"w": dw, "c": dc}
    with pytest.raises(sg.ArgumentError, match=r"returned a tuple holding a dict .*f\(v, b\)\[1\]"):
        sg.gradcheck(types.SimpleNamespace(loss=loss, grad=both), values, BATCH)
    assert sg.gradcheck(types.SimpleNamespace(loss=loss, grad=lambda v, b: both(v, b)[1]), values, BATCH)
