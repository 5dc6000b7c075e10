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


def _labels_program():
    W, x, k = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1), sp.Symbol("k", integer=True)
    return sg.compile(sg.cross_entropy(W * x, k), [W], [x, k], dtype="float64")


def test_valid_labels_pass_the_check_and_score_their_class():
    prog = _labels_program()
    rng = np.random.default_rng(1)
    Wv, X = rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    labels = [0, 2, 1, 2]
    z = X @ Wv.T                                                  # (B, 3) logits
    want = np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(4), labels])
    for given in (labels, np.array(labels, dtype=float), np.array(labels, dtype=np.int64)):
        assert prog.loss({"W": Wv}, {"x": X, "k": given}) == pytest.approx(want, rel=1e-12)


def test_saved_module_checks_labels_and_empty_batches(tmp_path):
    import importlib.util
    prog = _labels_program()
    path = tmp_path / "step.py"
    prog.save(path)
    spec = importlib.util.spec_from_file_location("saved_step", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    W = np.ones((3, 2))
    assert np.isfinite(mod.loss([W], [np.ones((2, 2)), np.array([0.0, 2.0])]))
    for bad in ([-1.0, 0.0], [1.7, 0.0], [3.0, 0.0]):
        with pytest.raises(AssertionError, match="class labels: integers 0 ... 2"):
            mod.loss([W], [np.ones((2, 2)), np.array(bad)])
    with pytest.raises(AssertionError, match="empty"):
        mod.loss([W], [np.ones((0, 2)), np.zeros(0)])
