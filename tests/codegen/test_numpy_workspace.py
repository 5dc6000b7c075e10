"""The training step's workspace (`codegen.numpy_workspace`): the large arrays of ``step`` kept from one
call to the next. The step with it equals, bit for bit, the step compiled without it and torch's SGD
step; nothing it keeps is an array the caller holds or gets back; two threads stepping at once, and
a batch size that changes, give what separate sequential steps give; a buffer is reused only once
every name that may view it is deleted."""
from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
import torch

import codegen.numpy_workspace as nw
import symgrad as sg
from transformer_twins import Config, batch, declare, steps_equal_torch, values

C = Config(T=16, D=32, heads=2, V=11, layers=1)     # (N, 16, 32): 512 entries an example
LR = 0.05


def _compile(monkeypatch=None, dtype="float32"):
    loss, params, inputs = declare(C)
    if monkeypatch is not None:     # the step without a workspace: no array is large enough
        monkeypatch.setattr(nw, "MIN_ENTRIES", 10 ** 12)
    return sg.compile(loss, params, inputs, target="numpy", dtype=dtype, optimizer=sg.optim.SGD(lr=LR)), params


def _start(dtype):
    return {k: v.astype(dtype) for k, v in values(C, seed=3).items()}


def _steps(prog, vals, batches):
    vals, state, losses = {k: v.copy() for k, v in vals.items()}, None, []
    for b in batches:
        vals, state = prog.step(vals, state, b)
        losses.append(prog.last_loss)
    return vals, losses


@pytest.fixture(scope="module")
def prog():
    return _compile()[0]


def _module(prog):
    """The generated module's globals (its WORKSPACES emptied: programs of the same source share it)."""
    g = prog.compiled.step.__globals__
    g["WORKSPACES"].clear()
    return type("Module", (), g)


def test_the_step_uses_the_workspace_and_equals_the_step_without_it(prog, monkeypatch):
    assert "scratch(ws, " in prog.source and "done(ws)" in prog.source
    plain, _ = _compile(monkeypatch)
    assert "scratch(ws, " not in plain.source
    batches = [batch(C, n=n, seed=s) for s, n in enumerate([4, 4, 6, 4, 3])]    # the batch size changes
    got, got_losses = _steps(prog, _start(np.float32), batches)
    want, want_losses = _steps(plain, _start(np.float32), batches)
    assert got_losses == want_losses
    for k in want:
        assert np.array_equal(got[k], want[k]), k


ADAM = dict(lr=0.01, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)


@pytest.mark.parametrize("method", ["sgd", "adam"])
def test_three_steps_equal_torch(method):
    loss, params, inputs = declare(C)
    opt = sg.optim.SGD(lr=LR) if method == "sgd" else sg.optim.Adam(**ADAM)
    prog = sg.compile(loss, params, inputs, target="numpy", dtype="float64", optimizer=opt)
    assert "scratch(ws, " in prog.source
    torch_opt = (lambda ps: torch.optim.SGD(ps, lr=LR)) if method == "sgd" else \
        (lambda ps: torch.optim.Adam(ps, **ADAM))
    steps_equal_torch(prog, C, _start(np.float64), torch_opt, seeds=[20, 21, 22], n=5, moved=1e-5)


def test_no_array_of_the_workspace_is_the_callers(prog):
    mod = _module(prog)
    vals = _start(np.float32)
    b = batch(C, n=4)
    g_before = prog.grad(vals, b)
    kept_grads = {k: v.copy() for k, v in g_before.items()}
    vals, state = prog.step(vals, None, b)
    vals, state = prog.step(vals, state, batch(C, n=4, seed=9))
    assert isinstance(prog.last_loss, float)
    (ws,) = mod.WORKSPACES
    assert ws, "the step kept no buffer"
    for buf in ws.values():
        for k, v in vals.items():
            assert not np.shares_memory(buf, v), k
        for k, g in g_before.items():
            assert not np.shares_memory(buf, g), k
    for k, g in g_before.items():           # grad's arrays are its own: the steps after changed none
        assert np.array_equal(g, kept_grads[k]), k
    g_after = prog.grad(vals, b)
    for k, g in g_after.items():            # nor are two grads' arrays the same
        assert not np.shares_memory(g, g_before[k]), k


def test_the_workspace_is_kept_between_calls(prog):
    mod = _module(prog)
    vals, state = prog.step(_start(np.float32), None, batch(C, n=4))
    (ws,) = mod.WORKSPACES
    ids = {k: id(v) for k, v in ws.items()}
    vals, state = prog.step(vals, state, batch(C, n=4, seed=5))
    assert mod.WORKSPACES == [ws] and {k: id(v) for k, v in ws.items()} == ids


def test_two_calls_at_once_take_two_workspaces(prog):
    mod = _module(prog)
    a, b = mod.workspace(), mod.workspace()
    assert a is not b
    mod.done(a)
    mod.done(b)
    assert mod.workspace() is b and mod.workspace() is a


def test_two_threads_stepping_at_once_equal_sequential_steps(prog):
    batches = [batch(C, n=48, seed=s) for s in range(8)]
    want = [_steps(prog, _start(np.float32), batches[k::2]) for k in range(2)]
    got = [None, None]
    go = threading.Barrier(2)

    def run(k):
        go.wait()
        got[k] = _steps(prog, _start(np.float32), batches[k::2])

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)             # the two threads take turns as often as they can
    try:
        for _ in range(3):
            threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            for k in range(2):
                assert got[k][1] == want[k][1]
                for name in want[k][0]:
                    assert np.array_equal(got[k][0][name], want[k][0][name]), name
    finally:
        sys.setswitchinterval(interval)


def _arranged(lines, shapes):
    return nw.use_workspace(lines, shapes, {"d0"})


def test_a_buffer_is_reused_only_after_every_view_of_it_is_deleted():
    shapes = {"v1": "(d0, 1024)", "v2": "(d0, 1024)", "v3": "(d0, 1024)"}
    lines = ["v1 = x0 @ p0",
             "a = v1.reshape((d0, 32, 32))",
             "del v1",
             "v2 = x0 @ p1",            # a still views v1's buffer: v2 gets another
             "del a",
             "v3 = v2 @ p2",            # v1's buffer is free now
             "del v2",
             "L = v3.sum()",
             "del v3",
             "return L"]
    out = _arranged(lines, shapes)
    assert "v2 = numpy.matmul(x0, p1, out=scratch(ws, 'w1', (d0, 1024)))" in out
    assert "v3 = numpy.matmul(v2, p2, out=scratch(ws, 'w0', (d0, 1024)))" in out
    assert out[0].startswith("ws = workspace()") and out[-2].startswith("done(ws)")


def test_an_elementwise_statement_keeps_numpys_order_and_needs_an_operand_of_its_shape():
    shapes = {"v1": "(d0, 1024)", "v2": "(d0, 1024)", "v5": "(d0, 1024)"}
    out = _arranged(["v2 = p3 * v1 * v5 - 2.0", "v4 = p3 * p4", "return v2"], {**shapes, "v4": "(d0, 1024)"})
    assert out[1:4] == ["v2 = numpy.multiply(p3, v1, out=scratch(ws, 'w0', (d0, 1024)))", "v2 *= v5", "v2 -= 2.0"]
    assert "v4 = p3 * p4" in out        # no operand of (d0, 1024): NumPy's result is not known to fit
    small = _arranged(["v2 = v1 * 2.0", "return v2"], {"v1": "(d0, 8)", "v2": "(d0, 8)"})
    assert small == ["v2 = v1 * 2.0", "return v2"]      # 8 entries an example: left to glibc


def test_erf_into_its_buffer_equals_erf():
    ns: dict = {}
    exec(compile(_compile()[0].source, "<module>", "exec"), ns)
    x = np.random.default_rng(0).normal(0, 2, (70000,)).astype(np.float32)
    want = ns["erf"](x)
    buf = x.copy()
    assert ns["erf"](buf, out=buf) is buf and np.array_equal(buf, want)
    y = np.empty_like(x)
    assert ns["erf"](x, out=y) is y and np.array_equal(y, want)
    assert np.array_equal(ns["erf"](x.astype(np.float64), out=np.empty(x.shape)), ns["erf"](x.astype(np.float64)))


def test_arrays_of_one_size_share_a_buffer_in_their_own_shapes():
    shapes = {"v1": "(64*d0, 128)", "v2": "(d0, 64, 128)"}
    out = _arranged(["v1 = x0 @ p0", "L = v1.sum()", "del v1", "v2 = x1 @ p1", "del v2", "return L"], shapes)
    assert "v1 = numpy.matmul(x0, p0, out=scratch(ws, 'w0', (64*d0, 128)))" in out
    assert "v2 = numpy.matmul(x1, p1, out=scratch(ws, 'w0', (d0, 64, 128)))" in out
    ws: dict = {}
    ns = {"numpy": np, "math": __import__("math"), "DTYPE": np.float32}
    exec("\n".join(nw.HELPERS), ns)
    a = ns["scratch"](ws, "w0", (64 * 2, 128))
    b = ns["scratch"](ws, "w0", (2, 64, 128))
    assert b.shape == (2, 64, 128) and np.shares_memory(a, b)
    assert ns["scratch"](ws, "w0", (3, 64, 128)).size == 3 * 64 * 128      # another batch size: made anew


def test_a_step_that_raises_drops_its_workspace_and_the_next_starts_another(prog, monkeypatch):
    mod = _module(prog)
    g = prog.compiled.step.__globals__
    b = batch(C, n=4)
    vals, _ = prog.step(_start(np.float32), None, b)
    (ws,) = mod.WORKSPACES

    def broken(*args, **kwargs):
        raise RuntimeError("erf failed")
    for helper in ("erf", "gelu_phi"):      # (GELU's Φ calls erf's blocks itself: codegen.numpy_gelu_phi)
        if helper in g:
            monkeypatch.setitem(g, helper, broken)
    with pytest.raises(RuntimeError, match="erf failed"):
        prog.step(_start(np.float32), None, b)
    assert mod.WORKSPACES == []             # the raising call held it: dropped, never handed back
    monkeypatch.undo()
    got, _ = prog.step(_start(np.float32), None, b)
    assert len(mod.WORKSPACES) == 1 and mod.WORKSPACES[0] is not ws
    for k in vals:
        assert np.array_equal(got[k], vals[k]), k


def test_heads_read_through_a_permutation_are_laid_out_in_its_order():
    shapes = {"v1": "(d0, 4, 64, 32)", "v2": "(64*d0, 128)"}
    lines = ["v1 = numpy.matmul(s0, x0.transpose((0, 2, 1, 3)))",
             "v2 = v1.transpose((0, 2, 1, 3)).reshape((64*d0, 128)) @ p0",
             "g0 = x1.T @ v1.transpose((0, 2, 1, 3)).reshape((64*d0, 128))",
             "del v1",
             "return v2"]
    out = _arranged(lines, shapes)
    assert "v1 = numpy.matmul(s0, x0.transpose((0, 2, 1, 3)), " \
           "out=scratch(ws, 'w0', (d0, 64, 4, 32)).transpose((0, 2, 1, 3)))" in out
    ns = {"numpy": np, "math": __import__("math"), "DTYPE": np.float32}
    exec("\n".join(nw.HELPERS), ns)
    v1 = ns["scratch"]({}, "w0", (2, 64, 4, 32)).transpose((0, 2, 1, 3))
    assert v1.shape == (2, 4, 64, 32) and v1.transpose((0, 2, 1, 3)).flags.c_contiguous
    # read otherwise too (an elementwise statement): the product keeps NumPy's own layout
    out = _arranged(lines[:3] + ["v1 *= 2.0"] + lines[3:], shapes)
    assert "v1 = numpy.matmul(s0, x0.transpose((0, 2, 1, 3)), out=scratch(ws, 'w0', (d0, 4, 64, 32)))" in out
    # two different permutations: NumPy's layout too
    out = _arranged(lines[:3] + ["g1 = v1.transpose((0, 1, 3, 2)) @ x2"] + lines[3:], shapes)
    assert "v1 = numpy.matmul(s0, x0.transpose((0, 2, 1, 3)), out=scratch(ws, 'w0', (d0, 4, 64, 32)))" in out


def test_the_attention_step_lays_its_heads_out_for_their_readers(prog):
    made = [ln for ln in prog.source.splitlines() if "out=scratch(ws, " in ln and ").transpose((0, 2, 1, 3)))" in ln]
    assert len(made) >= 2           # the heads' outputs, forward and backward


def test_sizes_are_read_from_the_shape_code_never_evaluated():
    assert nw.size_key("(64*d0, 128)") == nw.size_key("(d0, 64, 128)") == (8192, ("d0",))
    assert nw.per_example("(64*d0, 128)", {"d0"}) == 8192
    assert nw.per_example("(64, 128)", {"d0"}) is None               # no batch size
    assert nw.per_example("(d0 - 1, 128)", {"d0"}) is None           # not a product: left alone
    assert nw.per_example("(__import__('os').getpid(), 8)", {"d0"}) is None


def test_a_buffer_viewed_by_a_name_bound_twice_is_never_given_back():
    shapes = {"v1": "(d0, 1024)", "v2": "(d0, 1024)"}
    lines = ["v1 = x0 @ p0", "a = v1.T", "del a", "a = v1.T", "del v1", "v2 = x1 @ p1", "L = a.sum() + v2.sum()",
             "del a, v2", "return L"]
    out = _arranged(lines, shapes)
    assert "v2 = numpy.matmul(x1, p1, out=scratch(ws, 'w1', (d0, 1024)))" in out
