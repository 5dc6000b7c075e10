"""An optimizer slot of the state that is not a dict (a list of arrays, as zip of the parameters
might give) is a DataError naming the slot and what it must be, on either target — the NumPy
program's step failed with AttributeError: 'list' object has no attribute 'get'."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import DataError


def test_a_slot_given_as_a_list_is_named():
    net, t = sg.mlp([3, 4, 2]), sp.MatrixSymbol("t", 2, 1)
    prog = sg.compile(sg.mse(net.output, t), net.params, [net.input, t], optimizer=sg.optim.Adam(lr=0.1))
    rng = np.random.default_rng(0)
    values = {p.name: rng.normal(size=p.shape) for p in net.params}
    batch = {"x": rng.normal(size=(5, 3)), "t": rng.normal(size=(5, 2))}
    state = prog.init_state(values)
    bad = dict(state, exp_avg=list(state["exp_avg"].values()))
    want = r"optimizer slot 'exp_avg'.*must be a dict keyed by symbol or name, got a list"
    with pytest.raises(DataError, match=want):
        prog.step(values, bad, batch)
    prog.step(values, state, batch)           # the state as init_state made it: a step
