"""The Triton step skips a parameter without a gradient, as torch's optimizers do (.grad is None: not
used by the loss, or only through .detach()) — no weight decay, no momentum, no moment update — and
still decays one whose gradient is a zero tensor (used, on a dead relu path). Compared under the
interpreter with the NumPy target and with torch.optim.AdamW / SGD (momentum, weight decay) at
float32 tolerance; the NumPy target's skip is tested in float64 in
tests/compiling/test_optim_no_gradient.py. Tiny widths, a batch of 8, 3 steps."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")
F = torch.nn.functional
TOL = dict(rtol=2e-5, atol=2e-6)
STEPS = 3

OPTIMIZERS = [
    (lambda: sg.optim.AdamW(lr=0.1, weight_decay=0.3), lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.3)),
    (lambda: sg.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.2),
     lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.2)),
]


def _np(a):
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def _run(prog, vals, data):
    """``STEPS`` steps of ``prog`` from ``vals``: (values, state) after them."""
    vals = {k: np.array(v, dtype=np.float32) for k, v in vals.items()}
    state = prog.init_state(vals)
    for _ in range(STEPS):
        vals, state = prog.step(vals, state, data)
    return {k: _np(v) for k, v in vals.items()}, state


def _torch_run(torch_loss, torch_make, vals, data, order):
    t = {k: torch.tensor(np.asarray(v, dtype=np.float32), requires_grad=True) for k, v in vals.items()}
    opt = torch_make([t[k] for k in order])
    for _ in range(STEPS):
        opt.zero_grad()
        torch_loss(t, data).backward()
        opt.step()
    return {k: v.detach().numpy() for k, v in t.items()}, t


def _compile(loss, params, inputs, optimizer, target):
    with pytest.warns(sg.optim.NoGradientWarning) as rec:
        prog = sg.compile(loss, params, inputs, target=target, optimizer=optimizer)
    words = " ".join(str(r.message) for r in rec)
    assert "the training step leaves" in words and "still updates" not in words, words
    return prog


# -- scalars per example: u not used, s only through stop_gradient, v on a dead relu path ----------
w, u, s, v, x, y = sp.symbols("w u s v x y", real=True)
LOSS = (w * x - y) ** 2 + sg.stop_gradient(s) * x + sg.relu(v * x - 100)
START = {"w": 0.5, "u": 2.0, "s": -1.5, "v": 0.8}


def _scalar_torch_loss(t, data):
    X, Y = (torch.tensor(data[k]) for k in ("x", "y"))
    return ((t["w"] * X - Y) ** 2 + t["s"].detach() * X + F.relu(t["v"] * X - 100)).mean()


@pytest.mark.parametrize("make, torch_make", OPTIMIZERS)
def test_scalar_parameters_without_gradient_are_skipped_as_numpy_and_torch(make, torch_make):
    tri = _compile(LOSS, [w, u, s, v], [x, y], make(), "triton")
    ref = _compile(LOSS, [w, u, s, v], [x, y], make(), "numpy")
    assert "p2 (the parameter 's') gets no gradient: not updated" in tri.source
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=8).astype(np.float32), "y": rng.normal(size=8).astype(np.float32)}
    got, state = _run(tri, START, data)
    want, _ = _run(ref, START, data)
    by_torch, t = _torch_run(_scalar_torch_loss, torch_make, START, data, "wusv")
    assert t["u"].grad is None and t["s"].grad is None and t["v"].grad.item() == 0.0
    for k in START:
        np.testing.assert_allclose(got[k], want[k], err_msg=k, **TOL)
        np.testing.assert_allclose(got[k], by_torch[k], err_msg=k, **TOL)
    assert got["u"] == np.float32(START["u"]) and got["s"] == np.float32(START["s"])   # not even decayed
    assert abs(got["v"]) < START["v"]                                   # a zero gradient: decayed
    for name, st in state.items():                                       # no slot of u, s moved
        if isinstance(st, dict):
            assert np.all(_np(st["u"]) == 0) and np.all(_np(st["s"]) == 0), name


# -- tensors over the batch: a target network T reached only through .detach() -------------------
N = sp.Symbol("N", integer=True, positive=True)
D, C = 3, 2


@pytest.mark.parametrize("make, torch_make", OPTIMIZERS)
def test_a_detached_target_network_is_not_decayed(make, torch_make):
    X, Y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    W, T = sg.tensor("W", (D, C)), sg.tensor("T", (D, C))
    loss = sg.cross_entropy(X @ W + (X @ T).detach(), Y)
    tri = _compile(loss, [W, T], [X, Y], make(), "triton")
    ref = _compile(loss, [W, T], [X, Y], make(), "numpy")
    rng = np.random.default_rng(1)
    start = {"W": rng.normal(size=(D, C)), "T": rng.normal(size=(D, C))}
    data = {"x": rng.normal(size=(8, D)).astype(np.float32), "y": rng.integers(0, C, 8)}

    def tl(t, d):
        xx = torch.tensor(d["x"])
        return F.cross_entropy(xx @ t["W"] + (xx @ t["T"]).detach(), torch.tensor(d["y"]))
    got, _ = _run(tri, start, data)
    want, _ = _run(ref, start, data)
    by_torch, _ = _torch_run(tl, torch_make, start, data, "WT")
    for k in start:
        np.testing.assert_allclose(got[k], want[k], err_msg=k, **TOL)
        np.testing.assert_allclose(got[k], by_torch[k], err_msg=k, **TOL)
    np.testing.assert_array_equal(got["T"], start["T"].astype(np.float32))
    assert not np.allclose(got["W"], start["W"])


# -- a zero derivative is a gradient: a reached only through sign(a) is decayed, as torch does -------
def test_a_parameter_reached_only_through_sign_is_decayed_as_numpy_and_torch():
    a = sp.Symbol("a", real=True)
    loss = (w * x - y) ** 2 + sp.sign(a) * x + sg.stop_gradient(s) * x
    make, torch_make = OPTIMIZERS[0]
    tri = _compile(loss, [w, a, s], [x, y], make(), "triton")          # s: warned; a: not
    assert "p1 (the parameter 'a') gets no gradient" not in tri.source
    assert "p2 (the parameter 's') gets no gradient" in tri.source
    ref = _compile(loss, [w, a, s], [x, y], make(), "numpy")
    start = {"w": 0.5, "a": 2.0, "s": -1.5}
    rng = np.random.default_rng(3)
    data = {"x": rng.normal(size=8).astype(np.float32), "y": rng.normal(size=8).astype(np.float32)}

    def tl(t, d):
        X, Y = (torch.tensor(d[k]) for k in ("x", "y"))
        return ((t["w"] * X - Y) ** 2 + torch.sign(t["a"]) * X + t["s"].detach() * X).mean()
    got, _ = _run(tri, start, data)
    want, _ = _run(ref, start, data)
    by_torch, t = _torch_run(tl, torch_make, start, data, "was")
    assert t["a"].grad.item() == 0.0 and t["s"].grad is None
    for k in start:
        np.testing.assert_allclose(got[k], want[k], err_msg=k, **TOL)
        np.testing.assert_allclose(got[k], by_torch[k], err_msg=k, **TOL)
    assert got["a"] < np.float32(start["a"]) and got["s"] == np.float32(start["s"])
