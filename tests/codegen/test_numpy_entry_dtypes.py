"""The saved module's step refuses parameters and slots whose dtype is not its DTYPE
(codegen/numpy_entry_dtypes.py): a float32 module handed float64 arrays ran and updated them in mixed
precision, silently. The TypeError names the array (p0, s1_0; the module's comments give its
symbol: no symbol's name goes into a string of the module), what it is and what to pass, and nothing
is changed; Program.step (which converts first) behaves as before."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.saved import load_saved as _saved

N = sp.Symbol("N", integer=True, positive=True)


def _mlp_program(optimizer):
    net = sg.mlp([3, 5, 2], act=sg.gelu)
    t = sp.MatrixSymbol("t", 2, 1)
    return net, sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], optimizer=optimizer)


def _arrays(net, rng, n_slots):
    params = [rng.normal(size=tuple(int(d) for d in p.shape)).astype(np.float32) for p in net.params]
    slots = [np.full_like(p, 0.25) for _ in range(n_slots) for p in params]
    batch = [rng.normal(size=(4, 3)).astype(np.float32), np.eye(2, dtype=np.float32)[[0, 1, 1, 0]]]
    return params, slots, batch


def test_float64_parameters_are_refused_before_anything_changes(tmp_path):
    net, prog = _mlp_program(sg.optim.Adam(lr=0.01))
    mod = _saved(prog, tmp_path, "adam_step")
    params, slots, batch = _arrays(net, np.random.default_rng(0), 2)
    wide = [p.astype(np.float64) for p in params]
    before = [a.copy() for a in wide + slots]
    with pytest.raises(TypeError) as err:
        mod.step(wide, slots, 2, batch)
    msg = str(err.value)
    assert "parameter p0 is an array of float64" in msg and "float32" in msg and "comments" in msg
    assert "p0.astype(DTYPE)" in msg and "Nothing was changed" in msg
    for a, b in zip(wide + slots, before):
        np.testing.assert_array_equal(a, b)
    # one float64 parameter among float32 ones: the others are untouched too
    mixed = [p.copy() for p in params]
    mixed[3] = mixed[3].astype(np.float64)
    kept = [a.copy() for a in mixed]
    with pytest.raises(TypeError, match=r"parameter p3 is an array of float64.*p3\.astype\(DTYPE\)"):
        mod.step(mixed, slots, 2, batch)
    for a, b in zip(mixed, kept):
        np.testing.assert_array_equal(a, b)
    # float32 arrays pass and are updated
    loss = mod.step(params, slots, 1, batch)
    assert np.isfinite(loss) and params[0].dtype == np.float32


def test_a_float64_slot_is_named_with_its_optimizer_slot(tmp_path):
    net, prog = _mlp_program(sg.optim.Adam(lr=0.01))
    mod = _saved(prog, tmp_path, "adam_slots")
    params, slots, batch = _arrays(net, np.random.default_rng(1), 2)
    slots[4 + 1] = slots[4 + 1].astype(np.float64)         # slot 1 (exp_avg_sq) of p1
    before = [a.copy() for a in params + slots]
    with pytest.raises(TypeError, match=r"slot s1_1 \(the slot 'exp_avg_sq' of p1\) is an array of float64.*s1_1\.astype"):
        mod.step(params, slots, 1, batch)
    for a, b in zip(params + slots, before):
        np.testing.assert_array_equal(a, b)


def test_whole_batch_module_without_slots(tmp_path):
    """A whole-batch declaration (sizes from the inputs), SGD: step deletes its empty slots and checks
    the parameters alone; a float64 module refuses float32 arrays as well."""
    x, W = sg.tensor("x", (N, 4)), sg.tensor("W", (4, 3))
    prog = sg.compile(sg.mean(sg.gelu(x @ W) ** 2), [W], [x], dtype="float64", optimizer=sg.optim.SGD(lr=0.1))
    mod = _saved(prog, tmp_path, "whole_sgd")
    rng = np.random.default_rng(2)
    narrow, X = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(5, 4))
    before = narrow.copy()
    with pytest.raises(TypeError, match=r"parameter p0 is an array of float32.*computes in float64"):
        mod.step([narrow], [], 1, [X])
    np.testing.assert_array_equal(narrow, before)
    W64 = narrow.astype(np.float64)
    mod.step([W64], [], 1, [X])
    assert not np.array_equal(W64, before)


def test_program_step_still_converts(rng):
    """Program.step, in process, takes float64 values into a float32 program as before (it converts
    them first): the same result as float32 values."""
    net, prog = _mlp_program(sg.optim.Adam(lr=0.01))
    params, _, batch = _arrays(net, rng, 0)
    names = [p.name for p in net.params]
    data = {"x": batch[0], "t": batch[1]}
    v32, s32 = prog.step({n: p.copy() for n, p in zip(names, params)}, None, data)
    v64, s64 = prog.step({n: p.astype(np.float64) for n, p in zip(names, params)}, None, data)
    for n in names:
        np.testing.assert_array_equal(np.asarray(v32[n], dtype=np.float32), np.asarray(v64[n], dtype=np.float32))
