"""Bad declarations and bad values raise a symgrad error naming the culprit, before anything runs
or changes."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import FreeSymbolError, MissingValueError, ShapeError, SymgradError


@pytest.fixture
def net():
    n = sg.mlp([3, 4, 2], act=sp.tanh)
    t = sp.MatrixSymbol("t", 2, 1)
    prog = sg.compile(sg.mse(n.output, t), n.params, [n.input, t], dtype="float64")
    rng = np.random.default_rng(0)
    values = {p.name: rng.normal(size=p.shape) for p in n.params}
    batch = {"x": rng.normal(size=(5, 3)), "t": rng.normal(size=(5, 2))}
    return prog, values, batch


def test_free_symbol_neither_param_nor_input():
    w, x, k = sp.symbols("w x k_mystery")
    with pytest.raises(FreeSymbolError, match="k_mystery"):
        sg.compile((w * x - k) ** 2, params=[w], inputs=[x])


def test_free_matrix_symbol_is_named():
    n = sg.mlp([3, 2])
    t = sp.MatrixSymbol("target", 2, 1)
    with pytest.raises(SymgradError, match="target"):
        sg.compile(sg.mse(n.output, t), n.params, [n.input])


def test_missing_parameter_value(net):
    prog, values, batch = net
    del values["b1"]
    with pytest.raises(MissingValueError, match="b1"):
        prog.grad(values, batch)


def test_missing_input(net):
    prog, values, batch = net
    with pytest.raises(MissingValueError, match="'t'"):
        prog.loss(values, {"x": batch["x"]})


def test_batch_with_wrong_shape(net):
    prog, values, batch = net
    with pytest.raises(ShapeError, match="'x'.*\\(B, 3\\)"):
        prog.loss(values, {"x": np.zeros((5, 4)), "t": batch["t"]})


def test_batch_sizes_disagree(net):
    prog, values, batch = net
    with pytest.raises(ShapeError, match="'t'"):
        prog.loss(values, {"x": batch["x"], "t": np.zeros((6, 2))})


def test_parameter_with_wrong_shape(net):
    prog, values, batch = net
    values["W2"] = np.zeros((4, 2))
    with pytest.raises(ShapeError, match="W2"):
        prog.grad(values, batch)


def test_errors_are_raised_before_any_state_changes(net):
    prog, values, batch = net
    values = {k: v.copy() for k, v in values.items()}
    state = prog.init_state(values)
    before = {k: v.copy() for k, v in values.items()}
    bad = dict(batch, t=np.zeros((5, 7)))
    with pytest.raises(ShapeError):
        prog.step(values, state, bad)
    missing = {k: v for k, v in values.items() if k != "W2"}
    with pytest.raises(MissingValueError, match="W2"):
        prog.step(missing, state, batch)
    for k in values:
        np.testing.assert_array_equal(values[k], before[k])
    assert state["t"] == 0


def test_unknown_target():
    w, x = sp.symbols("w x")
    with pytest.raises(SymgradError, match="target"):
        sg.compile(w * x, [w], [x], target="fortran")
