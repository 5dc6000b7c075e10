"""`Program.step`'s argument handling: its fast path (arrays already of the program's dtype and
shape, dicts keyed by name) must give what the checked path gives, call after call, when the dicts
change keys, arrays, shapes or batch sizes between calls — nothing read through a stale plan."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import DataError, MissingValueError


def _program(optimizer):
    net = sg.mlp([3, 4, 2], act=sp.tanh)
    t = sp.MatrixSymbol("t", 2, 1)
    prog = sg.compile(sg.mse(net.output, t), net.params, [net.input, t], optimizer=optimizer,
                      dtype="float64")
    return net, prog


def _reference(values, batches, lr=0.1):
    """Plain NumPy SGD on ½‖W2 tanh(W1 x + b1) + b2 − t‖², the mean over the batch."""
    v = {k: np.array(a, dtype=float).copy() for k, a in values.items()}
    for X, T in batches:
        X, T = X.reshape(len(X), -1), T.reshape(len(T), -1)
        h = np.tanh(X @ v["W1"].T + v["b1"][:, 0])
        d = (h @ v["W2"].T + v["b2"][:, 0] - T) / len(X)
        dh = (d @ v["W2"]) * (1 - h ** 2)
        grads = {"W2": d.T @ h, "b2": d.sum(0)[:, None], "W1": dh.T @ X, "b1": dh.sum(0)[:, None]}
        for k in v:
            v[k] -= lr * grads[k]
    return v


@pytest.fixture
def start():
    rng = np.random.default_rng(3)
    values = {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=(4, 1)),
              "W2": rng.normal(size=(2, 4)), "b2": rng.normal(size=(2, 1))}
    batches = [(rng.normal(size=(B, 3)), rng.normal(size=(B, 2))) for B in (5, 5, 7, 1, 7)]
    return values, batches


def test_fast_and_checked_paths_agree_as_the_dicts_change(start):
    """Keys by name, then by symbol; arrays replaced by new ones, by lists, by float32 copies; the
    batch size changing; an (n, 1)-shaped input; each step equals plain NumPy SGD."""
    values, batches = start
    net, prog = _program(sg.optim.SGD(lr=0.1))
    sym = {p.name: p for p in net.params}
    v = {k: a.copy() for k, a in values.items()}
    state = prog.init_state(v)
    done = []
    for i, (X, T) in enumerate(batches):
        if i == 1:
            v = {sym[k]: a for k, a in v.items()}                   # keyed by symbol now
        elif i == 2:
            v = {k if isinstance(k, str) else k.name: a.tolist() for k, a in v.items()}   # lists
        elif i == 3:
            v = {k: np.asarray(a, dtype=np.float32) for k, a in v.items()}   # another dtype
        batch = {"x": X, "t": T} if i != 4 else {"x": X[:, :, None], "t": T}   # (B, n, 1)
        v, state = prog.step(v, state, batch)
        done.append((X, T))
        want = _reference(values, done)
        got = {k if isinstance(k, str) else k.name: np.asarray(a) for k, a in v.items()}
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-6 if i >= 3 else 1e-12, err_msg=f"step {i}")
        assert state["t"] == i + 1


def test_a_wrong_value_after_fast_steps_is_still_caught(start):
    values, batches = start
    net, prog = _program(sg.optim.Adam(lr=0.01))
    v = {k: a.copy() for k, a in values.items()}
    state = prog.init_state(v)
    X, T = batches[0]
    for _ in range(3):
        v, state = prog.step(v, state, {"x": X, "t": T})
    before = {k: a.copy() for k, a in v.items()}
    with pytest.raises(sg.ShapeError, match="'W1'"):
        prog.step({**v, "W1": np.zeros((3, 4))}, state, {"x": X, "t": T})
    with pytest.raises(sg.ShapeError, match="'t'"):
        prog.step(v, state, {"x": X, "t": T[:3]})
    with pytest.raises(MissingValueError, match="exp_avg"):
        prog.step(v, {"t": 3, "exp_avg": state["exp_avg"]}, {"x": X, "t": T})
    with pytest.raises(sg.DataError, match="'t'"):
        prog.step(v, {**state, "t": -1}, {"x": X, "t": T})
    for k in v:                                 # nothing was changed by the refused calls
        np.testing.assert_array_equal(v[k], before[k])
    assert state["t"] == 3


def test_fast_path_updates_in_place_and_hands_back_the_same_dicts(start):
    values, batches = start
    net, prog = _program(sg.optim.SGD(lr=0.1))
    v = {k: a.copy() for k, a in values.items()}
    arrays = dict(v)
    state = prog.init_state(v)
    X, T = batches[0]
    v2, state2 = prog.step(v, state, {"x": X, "t": T})
    # the same arrays, updated in place; the dict handed back also answers a symbol (W1 as "W1")
    assert state2 is state and all(v2[k] is arrays[k] for k in v) and v2[net.params[0]] is arrays["W1"]
    np.testing.assert_allclose(v["W1"], _reference(values, [(X, T)])["W1"], rtol=1e-12)
    v3, _ = prog.step(v2, state, {"x": X, "t": T})
    assert v3 is v2                                    # a Named dict comes back as it is: no copy per step


@pytest.mark.parametrize("third", ["state", "None"])
def test_a_batch_and_a_state_given_in_each_others_place_are_said_to_be_swapped(third):
    """Before: prog.step(values, batch, state) with the one-hot target named t, as compile.md names
    it, said "the optimizer state's step count 't' must be an integer >= 0, got array([[0., 0., ..."."""
    net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], optimizer="adam")
    rng = np.random.default_rng(0)
    values = {p.name: rng.normal(0, 0.1, p.shape).astype(np.float32) for p in net.params}
    before = {k: v.copy() for k, v in values.items()}
    batch = {"x": rng.random((6, 4)), "t": np.eye(3)[rng.integers(0, 3, 6)]}
    state = prog.init_state(values)
    with pytest.raises(DataError, match="these look swapped: the second holds the inputs 'x', 't'"):
        prog.step(values, batch, state if third == "state" else None)
    assert all(np.array_equal(values[k], before[k]) for k in values)
    values, state = prog.step(values, state, batch)            # the right order still steps
    assert state["t"] == 1


def test_an_array_for_the_batch_is_told_what_the_batch_holds():
    """prog.loss(values, X), a newcomer's first call: the message said only "the input values must be a
    dict keyed by symbol or name, got a ndarray", not which keys."""
    import sympy as sp
    import symgrad as sg
    from symgrad.errors import DataError
    net, t = sg.mlp([3, 4, 2]), sp.MatrixSymbol("t", 2, 1)
    prog = sg.compile(sg.mse(net.output, t), net.params, [net.input, t], outputs=[net.output])
    values = {p.name: np.zeros(p.shape, np.float32) for p in net.params}
    X = np.zeros((5, 3))
    for call in (lambda: prog.loss(values, X), lambda: prog.grad(values, X), lambda: prog.forward(values, X)):
        with pytest.raises(DataError, match=r"\(the batch: one array per input, \{'x': \.\.\., \.\.\.\}\), got a ndarray"):
            call()
