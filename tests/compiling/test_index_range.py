"""Embedding ids, gathered indices and class labels out of range — negative ones included — are a
LabelRangeError on the NumPy target, at every entry point, before anything is updated.

NumPy reads index −1 as the last row, silently; torch refuses it (the oracle below shows that), and
so does a compiled program: ``loss``, ``grad``, ``step``, ``forward``, ``sg.train``, the saved
module's own asserts, and ``sg.numeric``."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.errors import LabelRangeError

N = sp.Symbol("N", integer=True, positive=True)
W, V = sg.tensor("W", (5, 3)), sg.tensor("V", (3, 4))
idx, y = sg.tensor("idx", (N,), integer=True), sg.tensor("y", (N,), integer=True)
S = sg.tensor("S", (N, 4))

# name -> (loss, params, inputs, the input holding the indices, the size of the axis they index, an output)
CASES = {
    "getitem": (lambda: sg.cross_entropy(W[idx] @ V, y), [W, V], [idx, y], "idx", 5, lambda: W[idx]),
    "embedding": (lambda: sg.cross_entropy(sg.embedding(W, idx) @ V, y), [W, V], [idx, y], "idx", 5,
                  lambda: sg.embedding(W, idx)),
    "take-axis1": (lambda: sg.sum(sg.take(V, idx, axis=1) ** 2), [V], [idx], "idx", 4,
                   lambda: sg.take(V, idx, axis=1)),
    "take_along_axis": (lambda: sg.sum(sg.take_along_axis(S @ V.T, idx[:, None], axis=1) ** 2), [V], [S, idx],
                        "idx", 3, lambda: sg.take_along_axis(S @ V.T, idx[:, None], axis=1)),
    "one_hot": (lambda: sg.sum((S @ V.T) * sg.one_hot(idx, 3)), [V], [S, idx], "idx", 3,
                lambda: sg.one_hot(idx, 3) @ V),
    "cross_entropy": (lambda: sg.cross_entropy(S @ V.T, idx), [V], [S, idx], "idx", 3,
                      lambda: sg.cross_entropy(S @ V.T, idx, reduction="none")),
}


def _values(rng):
    return {"W": rng.standard_normal((5, 3)), "V": rng.standard_normal((3, 4))}


def _batch(rng, ids):
    ids = np.asarray(ids, dtype=float)
    return {"idx": ids, "y": rng.integers(0, 4, len(ids)).astype(float), "S": rng.standard_normal((len(ids), 4))}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    loss, params, inputs, name, n, out = CASES[request.param]
    prog = sg.compile(loss(), params, inputs, dtype="float64", outputs=[out()], optimizer=sg.optim.Adam(lr=0.1))
    return prog, name, n


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("bad", [-1, "n", "-n", 1.5])
def test_each_entry_point_names_the_input_the_value_and_the_range(case, bad, rng):
    prog, name, n = case
    bad = {"n": n, "-n": -n}.get(bad, bad)
    values = {k: v for k, v in _values(rng).items() if k in {p.name for p in prog.params}}
    batch = {k: v for k, v in _batch(rng, [0, bad, 1]).items() if k in {x.name for x in prog.inputs}}
    want = rf"'{name}'.*integers 0 \.\.\. {n - 1}.*entry 1 is {bad:g}"
    for call in (lambda: prog.loss(values, batch), lambda: prog.grad(values, batch),
                 lambda: prog.forward(values, batch)):
        with pytest.raises(LabelRangeError, match=want):
            call()
    before = {k: v.copy() for k, v in values.items()}
    state = prog.init_state(values)
    state_before = {k: ({p: a.copy() for p, a in v.items()} if isinstance(v, dict) else v) for k, v in state.items()}
    with pytest.raises(LabelRangeError, match=want):
        prog.step(values, state, batch)
    for k in before:                         # a failed step changes no parameter, no slot, no count
        np.testing.assert_array_equal(values[k], before[k])
    assert state["t"] == state_before["t"]
    for slot, arrays in state.items():
        if isinstance(arrays, dict):
            for p, a in arrays.items():
                np.testing.assert_array_equal(a, state_before[slot][p])
    # in range, the same batch works (the error is about that entry only)
    good = dict(batch, **{name: np.array([0.0, n - 1.0, 1.0])})
    assert np.isfinite(prog.loss(values, good))


def test_negative_index_message_says_why(case, rng):
    prog, name, n = case
    values = {k: v for k, v in _values(rng).items() if k in {p.name for p in prog.params}}
    batch = {k: v for k, v in _batch(rng, [0, -1]).items() if k in {x.name for x in prog.inputs}}
    with pytest.raises(LabelRangeError, match="negative index.*torch refuses"):
        prog.grad(values, batch)


def test_saved_module_asserts_the_range_itself(case, rng):
    """The generated module runs without symgrad and checks its index inputs with asserts."""
    prog, name, n = case
    values = {k: v for k, v in _values(rng).items() if k in {p.name for p in prog.params}}
    batch = _batch(rng, [0, -1, 1])
    args = [values[p.name] for p in prog.params]
    inputs = [batch[x.name] for x in prog.inputs]
    with pytest.raises(AssertionError, match="integers 0"):
        prog.compiled.loss(args, inputs)


def test_train_refuses_the_data_before_the_first_step(rng):
    prog = sg.compile(sg.cross_entropy(sg.embedding(W, idx) @ V, y), [W, V], [idx, y], dtype="float64")
    values = _values(rng)
    before = {k: v.copy() for k, v in values.items()}
    ids = rng.integers(0, 5, 40).astype(float)
    ids[37] = -2
    data = {"idx": ids, "y": rng.integers(0, 4, 40).astype(float)}
    with pytest.raises(LabelRangeError, match=r"data\['idx'\].*entry 37 is -2"):
        sg.train(prog, data, epochs=1, batch_size=8, values=values, progress=False)
    for k in before:
        np.testing.assert_array_equal(values[k], before[k])
    val = {"idx": np.array([0.0, 5.0]), "y": np.array([0.0, 1.0])}
    data["idx"][37] = 2
    with pytest.raises(LabelRangeError, match=r"validation\['idx'\].*entry 1 is 5"):
        sg.train(prog, data, epochs=1, batch_size=8, values=values, validation=val, progress=False)
    h = sg.train(prog, data, epochs=1, batch_size=8, values=values, progress=False)   # in range: trains
    assert len(h.loss) == 5


def test_per_example_embedding_refuses_negative_ids(rng):
    """Declared per example (an id of shape ()), the batched program takes ids 0 … n − 1 too."""
    i1, y1 = sg.tensor("i", (), integer=True), sg.tensor("k", (), integer=True)
    prog = sg.compile(sg.cross_entropy(V.T @ W[i1], y1), [W, V], [i1, y1], dtype="float64")
    values = _values(rng)
    with pytest.raises(LabelRangeError, match=r"'i'.*integers 0 \.\.\. 4.*entry 2 is -1"):
        prog.step(values, None, {"i": np.array([0.0, 1.0, -1.0]), "k": np.array([0.0, 1.0, 2.0])})
    assert np.isfinite(prog.loss(values, {"i": np.array([0.0, 4.0]), "k": np.array([0.0, 3.0])}))


def test_numeric_refuses_negative_indices_too():
    with pytest.raises(LabelRangeError, match="-1 is outside 0 … 4"):
        sg.numeric(sg.sum(W[idx]), {"W": np.ones((5, 3)), "idx": np.array([0, -1])})


def test_torch_refuses_negative_ids_the_oracle():
    """What this file matches: torch raises on −1 where NumPy reads the last row."""
    w = torch.ones(5, 3)
    with pytest.raises((IndexError, RuntimeError)):
        torch.nn.functional.embedding(torch.tensor([0, -1]), w)
    with pytest.raises((IndexError, RuntimeError)):
        torch.index_select(w, 0, torch.tensor([-1]))
    with pytest.raises((IndexError, RuntimeError)):
        torch.gather(w, 1, torch.tensor([[-1]]))
    with pytest.raises((IndexError, RuntimeError)):
        torch.nn.functional.cross_entropy(torch.zeros(2, 3), torch.tensor([0, -1]))
    assert np.ones((5, 3))[np.array([-1])].shape == (1, 3)        # NumPy: no error


def test_train_checks_the_labels_of_a_matrix_declaration_too():
    """A per-example declaration of matrices (sg.mlp, a scalar label k) is checked before the first
    step as well, naming the sample in the whole data."""
    net, k = sg.mlp([4, 8, 3]), sp.Symbol("k", integer=True)
    prog = sg.compile(sg.cross_entropy(net.output, k), net.params, [net.input, k], dtype="float64")
    labels = np.zeros(20)
    labels[13] = -1
    with pytest.raises(LabelRangeError, match=r"data\['k'\].*0 \.\.\. 2.*example 13 has -1"):
        sg.train(prog, {"x": np.zeros((20, 4)), "k": labels}, epochs=1, batch_size=4, progress=False)


def test_indices_declared_before_the_array_they_index():
    """take(S, idx, axis=0) with S (N, 4): idx's range is N, bound by S. Declared in the order
    [idx, S], the range was read before S bound N (TypeError: Cannot convert symbols to int, on
    any data); the order of the inputs must not matter."""
    M = sp.Symbol("M", integer=True, positive=True)
    ids = sg.tensor("idx", (M,), integer=True)
    loss = sg.sum((sg.take(S, ids, axis=0) @ V.T) ** 2)
    values = {"V": np.arange(12.0).reshape(3, 4) / 10}
    S_rows = np.arange(20.0).reshape(5, 4) / 10
    want = ((S_rows[[0, 4, 2]] @ values["V"].T) ** 2).sum()        # NumPy's own indexing, in range
    for inputs in ([ids, S], [S, ids]):
        prog = sg.compile(loss, [V], inputs, dtype="float64")
        assert prog.loss(values, {"S": S_rows, "idx": np.array([0, 4, 2])}) == pytest.approx(want, rel=1e-12)
        with pytest.raises(LabelRangeError, match=r"'idx'.*integers 0 \.\.\. 4.*entry 1 is 5"):
            prog.loss(values, {"S": S_rows, "idx": np.array([0, 5, 2])})
