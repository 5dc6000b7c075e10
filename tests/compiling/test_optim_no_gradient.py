"""torch parity for parameters without a gradient: torch's optimizer.step() skips a parameter whose
.grad is None (not used by the loss, or only through .detach()) — no weight decay, no momentum, no
moments — but decays one whose gradient is a zero tensor (used, on a dead relu path). The compiled
step does the same, says so in a comment, and compile warns naming the parameters."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
F = torch.nn.functional
w, u, s, v, x, y = sp.symbols("w u s v x y", real=True)
# u: not in the loss; s: only through stop_gradient; v: used, but relu(v·x − 100) is 0 for |x| < 10
LOSS = (w * x - y) ** 2 + sg.stop_gradient(s) * x + sg.relu(v * x - 100)
PARAMS = [w, u, s, v]
START = {"w": 0.5, "u": 2.0, "s": -1.5, "v": 0.8}


def _torch_loss(t, data):
    X, Y = (torch.tensor(data[k]) for k in ("x", "y"))
    return ((t["w"] * X - Y) ** 2 + t["s"].detach() * X + F.relu(t["v"] * X - 100)).mean()


@pytest.mark.parametrize("make, torch_make", [
    (lambda: sg.optim.AdamW(lr=0.1, weight_decay=0.3),
     lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.3)),
    (lambda: sg.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.2),
     lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.2)),
    (lambda: sg.optim.Adam(lr=0.1, weight_decay=0.3),
     lambda ps: torch.optim.Adam(ps, lr=0.1, weight_decay=0.3)),
])
def test_parameters_without_gradient_are_skipped_as_torch_does(make, torch_make):
    with pytest.warns(sg.optim.NoGradientWarning, match=r"parameters 'u', 's' get no gradient") as rec:
        prog = sg.compile(LOSS, PARAMS, [x, y], dtype="float64", optimizer=make())
    assert all("'v'" not in str(r.message) for r in rec)         # v has a gradient: zero, but one
    assert "p1 (the parameter 'u') gets no gradient: not updated" in prog.source
    assert "p2 (the parameter 's') gets no gradient: not updated" in prog.source
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=8), "y": rng.normal(size=8)}
    vals = {k: np.array(val) for k, val in START.items()}
    t = {k: torch.tensor(val, dtype=torch.float64, requires_grad=True) for k, val in START.items()}
    opt = torch_make([t[p.name] for p in PARAMS])
    state = prog.init_state(vals)
    for _ in range(4):
        vals, state = prog.step(vals, state, data)
        opt.zero_grad()
        _torch_loss(t, data).backward()
        assert t["u"].grad is None and t["s"].grad is None and t["v"].grad.item() == 0.0
        opt.step()
    for k in START:
        np.testing.assert_allclose(vals[k], t[k].detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=k)
    assert vals["u"] == START["u"] and vals["s"] == START["s"]          # not even decayed
    assert abs(vals["v"]) < START["v"]                                   # a zero gradient: decayed
    for name, st in state.items():                                       # no slot of u, s moved
        if isinstance(st, dict):
            assert np.all(st["u"] == 0) and np.all(st["s"] == 0), name


def test_program_grad_gives_zeros_for_them_and_no_warning_when_every_parameter_has_one():
    with pytest.warns(sg.optim.NoGradientWarning, match="'u'"):
        prog = sg.compile(LOSS, PARAMS, [x, y], dtype="float64")
    g = prog.grad({k: np.array(val) for k, val in START.items()}, {"x": np.ones(3), "y": np.zeros(3)})
    assert g["u"] == 0 and g["s"] == 0 and g["v"] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sg.compile((w * x - y) ** 2 + sg.relu(v * x - 100), [w, v], [x, y])


def test_the_warning_reads_as_english_for_one_and_for_several():
    w, u, v, x = sp.symbols("w u v x")
    for params, pronoun in (([w, v], "it is not used"), ([w, u, v], "they are not used")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sg.compile((w * x - 1) ** 2, params, [x])
        texts = [str(c.message) for c in caught if issubclass(c.category, sg.optim.NoGradientWarning)]
        assert len(texts) == 1 and f"({pronoun}," in texts[0], texts
