"""Two copies the whole-batch NumPy step no longer makes, and the aliasing they must not bring:

- a convolution kernel's gradient ``v94.transpose((1, 0, 2, 3))`` was copied (``g0 =
  numpy.array(…, dtype=DTYPE)``) only for ``p0 -= g0`` to read it: an update that only reads its
  gradient (SGD, with or without weight decay) now reads the view; one that writes into the
  gradient's buffer (momentum's ``out=g0``, Adam, clip_grad_value's ``out=g0``) keeps the copy, and
  ``grad`` returns arrays of its own;
- the mean's seed ``scale/N`` was filled into a whole (N,) array (``numpy.array(numpy.broadcast_to(v46,
  (d0,)), dtype=DTYPE)``) only to be multiplied by: it is one number of the program's dtype now,
  broadcast by NumPy where it is read.

Oracles: torch.autograd and torch.optim (float64), and the step printed with the old copy put back
(bit for bit: the same operations on the same values)."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from tests.codegen.lenet_digits import lenet, torch_lenet_loss

N = sp.Symbol("N", integer=True, positive=True)
VIEW_GRAD = re.compile(r"^(\s*)(g\d+) = (v\d+\.transpose\(\([\d, ]+\)\))$", re.M)


def _lenet(c1=2, c2=3):
    return lenet(c1, c2)



def _start(params, seed=3):
    rng = np.random.default_rng(seed)
    vals = {p.name: rng.standard_normal(tuple(int(d) for d in p.shape)) * 0.5 for p in params}
    x, y = rng.uniform(0, 1, (5, 1, 8, 8)), rng.integers(0, 10, 5)
    return vals, x, y


def _step_text(prog) -> str:
    src = prog.source
    return src[src.index("def step("):]


def _torch_steps(vals, x, y, make_opt, steps):
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    opt = make_opt(list(t.values()))
    for _ in range(steps):
        opt.zero_grad()
        torch_lenet_loss(t, x, y).backward()
        opt.step()
    return {k: v.detach().numpy() for k, v in t.items()}


def _run_module(source: str, prog, vals, x, y, steps):
    ns: dict = {}
    exec(compile(source, "<step>", "exec"), ns)
    ps = [vals[p.name].astype(ns["DTYPE"]).copy() for p in prog.spec.params]
    for t in range(1, steps + 1):
        ns["step"](ps, [], t, [x.astype(ns["DTYPE"]), y])
    return ps


def test_sgd_updates_a_kernel_from_its_gradients_view_as_torch():
    _, loss, params, inputs = _lenet()
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=0.1), dtype="float64")
    step = _step_text(prog)
    views = VIEW_GRAD.findall(step)
    assert len(views) == 2, step        # w1's and w2's gradients: read in place, no copy
    assert not re.search(r"g\d+ = numpy\.array\(v\d+\.transpose", step)
    vals, x, y = _start(params)
    got = {k: v.copy() for k, v in vals.items()}
    state = prog.init_state(got)
    for _ in range(3):
        got, state = prog.step(got, state, {"x": x, "y": y})
    want = _torch_steps(vals, x, y, lambda ps: torch.optim.SGD(ps, lr=0.1), 3)
    for k in vals:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_view_and_copy_give_the_same_bits_in_float32():
    """The step as printed now, and with each gradient copied as before: the same parameters, bit
    for bit, after several steps (the view is read before anything writes where it looks)."""
    _, loss, params, inputs = _lenet()
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=0.05, weight_decay=0.01), dtype="float32")
    src = prog.source
    assert VIEW_GRAD.search(_step_text(prog))
    copied = VIEW_GRAD.sub(r"\1\2 = numpy.array(\3, dtype=DTYPE)", src)
    assert copied != src
    vals, x, y = _start(params, seed=11)
    a = _run_module(src, prog, vals, x, y, 4)
    b = _run_module(copied, prog, vals, x, y, 4)
    for p, u, v in zip(params, a, b):
        assert np.array_equal(u, v), p.name
        assert not np.array_equal(u, vals[p.name].astype(np.float32)), p.name      # (it did move)


@pytest.mark.parametrize("name,ours,theirs", [
    ("momentum", lambda: sg.optim.SGD(lr=0.1, momentum=0.9), lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
    ("adam", lambda: sg.optim.Adam(lr=0.01), lambda ps: torch.optim.Adam(ps, lr=0.01)),
])
def test_an_update_writing_into_its_gradient_keeps_the_copy(name, ours, theirs):
    """Momentum (``numpy.multiply(s, lr, out=g)``) and Adam work in the gradient's buffer: a view
    there would write into the backward pass's array (and another gradient's, where they share it)."""
    _, loss, params, inputs = _lenet()
    prog = sg.compile(loss, params, inputs, optimizer=ours(), dtype="float64")
    step = _step_text(prog)
    assert not VIEW_GRAD.search(step), name
    assert re.search(r"g\d+ = numpy\.array\(v\d+\.transpose", step), name
    vals, x, y = _start(params, seed=7)
    got = {k: v.copy() for k, v in vals.items()}
    state = prog.init_state(got)
    for _ in range(3):
        got, state = prog.step(got, state, {"x": x, "y": y})
    want = _torch_steps(vals, x, y, theirs, 3)
    for k in vals:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-12, err_msg=f"{name}: {k}")


def test_clip_grad_value_keeps_the_copy():
    _, loss, params, inputs = _lenet()
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=0.1, clip_grad_value=1e-3), dtype="float64")
    assert not VIEW_GRAD.search(_step_text(prog))
    vals, x, y = _start(params, seed=2)
    got = {k: v.copy() for k, v in vals.items()}
    got, _ = prog.step(got, prog.init_state(got), {"x": x, "y": y})
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    torch_lenet_loss(t, x, y).backward()
    torch.nn.utils.clip_grad_value_(list(t.values()), 1e-3)
    for k in vals:
        np.testing.assert_allclose(got[k], vals[k] - 0.1 * t[k].grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=k)


def test_grad_returns_arrays_of_its_own():
    """``grad`` hands its gradients to the caller: each its own writable array, whatever step does."""
    _, loss, params, inputs = _lenet()
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=0.1), dtype="float64")
    vals, x, y = _start(params)
    g = prog.grad(vals, {"x": x, "y": y})
    before = {k: v.copy() for k, v in g.items()}
    for k, v in g.items():
        assert v.flags.writeable, k
        for j in g:
            assert not np.shares_memory(v, vals[j]), (k, j)
            assert j == k or not np.shares_memory(v, g[j]), (k, j)
        v[...] = 7.0
    again = prog.grad(vals, {"x": x, "y": y})
    for k in g:
        np.testing.assert_array_equal(again[k], before[k])


def _mlp():
    x, y = sg.tensor("x", (N, 6)), sg.tensor("y", (N,), integer=True)
    W1, b1 = sg.tensor("W1", (6, 5)), sg.tensor("b1", (5,))
    W2, b2 = sg.tensor("W2", (5, 4)), sg.tensor("b2", (4,))
    logits = sg.relu(x @ W1 + b1) @ W2 + b2
    return sg.cross_entropy(logits, y), [W1, b1, W2, b2], [x, y]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_means_seed_is_one_number_not_an_array_of_n(dtype):
    loss, params, inputs = _mlp()
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=0.1), dtype=dtype)
    for fn in ("def step(", "def grad("):
        text = prog.source[prog.source.index(fn):]
        text = text[:text.index("\ndef ", 1)] if "\ndef " in text[1:] else text
        assert not re.search(r"numpy\.broadcast_to\(-?v\d+, \(d0,\)\)", text), text
        assert re.search(r"v\d+ = DTYPE\(-?v\d+\)", text), text
    rng = np.random.default_rng(4)
    vals = {p.name: rng.standard_normal(tuple(int(d) for d in p.shape)) for p in params}
    x, y = rng.standard_normal((7, 6)), rng.integers(0, 4, 7)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    tl = F.cross_entropy(F.relu(torch.tensor(x) @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"], torch.tensor(y))
    tl.backward()
    tol = 1e-5 if dtype == "float32" else 1e-12
    g = prog.grad(vals, {"x": x, "y": y})
    for k in vals:
        np.testing.assert_allclose(g[k], t[k].grad.numpy(), rtol=tol, atol=tol, err_msg=k)
    got = {k: v.astype(dtype) for k, v in vals.items()}
    got, _ = prog.step(got, prog.init_state(got), {"x": x.astype(dtype), "y": y})
    for k in vals:
        np.testing.assert_allclose(got[k], vals[k] - 0.1 * t[k].grad.numpy(), rtol=tol, atol=tol, err_msg=k)


def test_a_view_of_memory_another_update_writes_keeps_its_copy():
    """g1 = v18.T where g0 = v18 is worked in by momentum (``out=g0``): a view would read the
    momentum step, not the gradient. Read-only updates of both: the view."""
    from codegen.lifetimes import Unit
    from codegen.numpy_backend import read_gradient_views

    def units(update0):
        return [Unit(["g0 = v18"], grad=0), Unit(["g1 = numpy.array(v18.T, dtype=DTYPE)"], grad=1),
                Unit(update0, update=0), Unit(["p1 -= g1"], update=1)]
    us = units(["s0_0 += g0", "numpy.multiply(s0_0, 0.1, out=g0)", "p0 -= g0"])
    read_gradient_views(us)
    assert us[1].code == ["g1 = numpy.array(v18.T, dtype=DTYPE)"]
    us = units(["p0 -= g0"])
    read_gradient_views(us)
    assert us[1].code == ["g1 = v18.T"]


def test_two_parameters_sharing_a_gradient_step_as_torch():
    """tanh(x @ A + x @ Bᵀ): B's gradient is A's transposed (one array, g1 = v.T)."""
    x, A, B = sg.tensor("x", (N, 3)), sg.tensor("A", (3, 2)), sg.tensor("B", (2, 3))
    loss = sg.sum(sg.tanh(x @ A + x @ B.T)) / N
    prog = sg.compile(loss, [A, B], [x], optimizer=sg.optim.SGD(lr=0.1), dtype="float64")
    assert re.search(r"g1 = v\d+\.T$", _step_text(prog), re.M)
    rng = np.random.default_rng(8)
    vals, xv = {"A": rng.standard_normal((3, 2)), "B": rng.standard_normal((2, 3))}, rng.standard_normal((4, 3))
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    opt = torch.optim.SGD(list(t.values()), lr=0.1)
    got, state = {k: v.copy() for k, v in vals.items()}, None
    for _ in range(3):
        opt.zero_grad()
        (torch.tanh(torch.tensor(xv) @ t["A"] + torch.tensor(xv) @ t["B"].T).sum() / 4).backward()
        opt.step()
        got, state = prog.step(got, state, {"x": xv})
    for k in vals:
        np.testing.assert_allclose(got[k], t[k].detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=k)
