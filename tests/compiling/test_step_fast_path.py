"""`Program.step`'s fast path reads the values it handed back itself (a `Named`, looked up by name or
symbol) without going through Named's Python-level look-up: a training loop passes them back every
step, and each such look-up cost about a microsecond — a fifth of the step's own argument handling
at 2-16-16-2 × 64 (bench/cpu_step.py). Counted, not timed: no call of Named.get or __contains__."""
import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.core import values as V


def test_values_handed_back_are_read_without_python_lookups(monkeypatch):
    net = sg.mlp([3, 4, 2], act=sg.relu)
    t = sp.MatrixSymbol("t", 2, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t],
                      optimizer=sg.optim.SGD(lr=0.1), dtype="float64")
    rng = np.random.default_rng(0)
    v = {p.name: rng.normal(size=tuple(int(d) for d in p.shape)) for p in net.params}
    batch = {"x": rng.normal(size=(5, 3)), "t": np.eye(2)[rng.integers(0, 2, 5)]}
    v, state = prog.step(v, prog.init_state(v), batch)
    assert isinstance(v, V.Named)
    calls = []
    for name in ("get", "__contains__", "__missing__"):
        original = getattr(V.Named, name)
        monkeypatch.setattr(V.Named, name, lambda self, *a, _o=original, _n=name: calls.append(_n) or _o(self, *a))
    fast = prog._fast_arguments(v, state, batch)
    assert fast is not None and calls == []
    v2, state = prog.step(v, state, batch)
    assert calls == [] and v2 is v and state["t"] == 2
    # a Named keyed by symbol holds no name: the checked path reads it (through Named's look-ups)
    assert prog._fast_arguments(V.Named({p: v[p.name] for p in net.params}), state, batch) is None
