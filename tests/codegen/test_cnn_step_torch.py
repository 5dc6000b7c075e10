"""The digits CNN of `examples/train_cnn_digits.py` (conv 3×3 1 → c1, relu, max pool 2, conv 3×3 c1 →
c2, relu, max pool 2, dense → 10, cross-entropy with integer labels) compiled to one NumPy step, under
torch.autograd: its gradients in float64 (random values, and small integers where most pooling
windows hold ties: δ goes to the first arg-max, as torch's), and several float32 SGD steps against
torch's, the batch size changing between them (the step keeps its im2col buffers from one call to
the next, `codegen.numpy_whole_batch.kept_buffers`)."""
from __future__ import annotations

import ast

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import symgrad as sg
from tests.codegen.lenet_digits import lenet, torch_lenet_loss

rng = np.random.default_rng(5)


def _lenet(c1=4, c2=6):
    return lenet(c1, c2)


def _torch_loss(vals, x, y):
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    return torch_lenet_loss(t, x, y), t


def _values(params, draw):
    return {p.name: draw(tuple(int(d) for d in p.shape)) for p in params}


def _check_grads(prog, vals, x, y, rtol):
    loss, t = _torch_loss(vals, x, y)
    loss.backward()
    g = prog.grad(vals, {"x": x, "y": y})
    np.testing.assert_allclose(prog.loss(vals, {"x": x, "y": y}), loss.item(), rtol=rtol)
    for k in vals:
        np.testing.assert_allclose(g[k], t[k].grad.numpy(), rtol=rtol, atol=rtol * 1e-2, err_msg=k)


def test_lenet_gradients_equal_torch():
    _, loss, params, inputs = _lenet()
    prog = sg.compile(loss, params, inputs, dtype="float64")
    vals = _values(params, lambda s: rng.standard_normal(s))
    x, y = rng.uniform(0, 1, (5, 1, 8, 8)), rng.integers(0, 10, 5)
    _check_grads(prog, vals, x, y, 1e-10)


def test_lenet_pooling_ties_go_to_the_first_arg_max_as_torch():
    """Images and kernels of small integers, so that most pooling windows hold equal maxima; the
    biases are odd halves, so that no relu input is exactly 0 (where torch's relu′ is 0, symgrad's 1)."""
    _, loss, params, inputs = _lenet()
    prog = sg.compile(loss, params, inputs, dtype="float64")
    vals = _values(params, lambda s: rng.integers(-1, 2, s).astype(np.float64) + (0.5 if len(s) == 1 else 0.0))
    x, y = rng.integers(0, 3, (6, 1, 8, 8)).astype(np.float64), rng.integers(0, 10, 6)
    # the windows do tie: the first pool's input has repeated maxima in many windows
    t = torch.tensor(x)
    a = F.relu(F.conv2d(t, torch.tensor(vals["w1"]), torch.tensor(vals["b1"]), padding=1))
    win = a.unfold(2, 2, 2).unfold(3, 2, 2).reshape(*a.shape[:2], 4, 4, 4)
    assert ((win == win.amax(-1, keepdim=True)).sum(-1) > 1).float().mean() > 0.2
    _check_grads(prog, vals, x, y, 1e-10)


def test_float32_sgd_steps_equal_torch_across_batch_sizes():
    """Steps of batch 16, 9, 16 (the step's kept buffers made anew for 9, and again for 16), the
    parameters after each under torch's SGD from the same start; grad and loss in between agree."""
    _, loss, params, inputs = _lenet()
    lr = 0.05
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=lr), dtype="float32")
    vals = _values(params, lambda s: (0.5 * rng.standard_normal(s)).astype(np.float32))
    mine = {k: v.copy() for k, v in vals.items()}
    ref = {k: v.astype(np.float64) for k, v in vals.items()}
    state = prog.init_state(mine)
    for n in (16, 9, 16):
        x, y = rng.uniform(0, 1, (n, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, n)
        tl, t = _torch_loss(ref, x.astype(np.float64), y)
        tl.backward()
        ref = {k: (t[k] - lr * t[k].grad).detach().numpy() for k in ref}
        mine, state = prog.step(mine, state, {"x": x, "y": y})
        np.testing.assert_allclose(prog.last_loss, tl.item(), rtol=1e-5)
        for k in ref:
            np.testing.assert_allclose(mine[k], ref[k], rtol=1e-4, atol=1e-5, err_msg=f"{k}, batch {n}")


def test_kept_buffers_are_the_steps_own():
    """Only ``step`` takes its buffers from the module's WORKSPACE; ``grad`` allocates afresh, so the
    gradients it returns stay the caller's when it runs again."""
    _, loss, params, inputs = _lenet()
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=0.1), dtype="float32")
    tree = ast.parse(prog.source)
    calls = {f.name: {n.func.id for n in ast.walk(f) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
             for f in tree.body if isinstance(f, ast.FunctionDef)}
    assert "kept" in calls["step"]
    assert not any("kept" in calls[k] for k in ("loss", "grad"))
    vals = _values(params, lambda s: rng.standard_normal(s).astype(np.float32))
    b1 = {"x": rng.uniform(0, 1, (8, 1, 8, 8)).astype(np.float32), "y": rng.integers(0, 10, 8)}
    b2 = {"x": rng.uniform(0, 1, (8, 1, 8, 8)).astype(np.float32), "y": rng.integers(0, 10, 8)}
    g1 = prog.grad(vals, b1)
    before = {k: v.copy() for k, v in g1.items()}
    prog.grad(vals, b2)
    for k in before:
        np.testing.assert_array_equal(g1[k], before[k])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_no_float64_temporary_in_a_float32_step(dtype):
    """Every array the step makes has the program's dtype (no silent float64 upcast in float32)."""
    _, loss, params, inputs = _lenet()
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=0.1), dtype=dtype)
    want = np.dtype(dtype)
    seen = []

    class Watch(ast.NodeTransformer):    # record the dtype of every float array a statement binds
        def visit_FunctionDef(self, f):
            if f.name == "step":
                body = []
                for st in f.body:
                    body.append(st)
                    if isinstance(st, ast.Assign) and all(isinstance(t, ast.Name) for t in st.targets):
                        body += ast.parse(f"_seen({st.targets[0].id!r}, {st.targets[0].id})").body
                f.body = body
            return f

    tree = ast.fix_missing_locations(Watch().visit(ast.parse(prog.source)))

    def watch(name, a):
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            seen.append((name, a.dtype))
    ns = {"_seen": watch}
    exec(compile(tree, "<step, watched>", "exec"), ns)
    vals = [_values(params, lambda s: rng.standard_normal(s).astype(want))[p.name] for p in params]
    ns["step"](vals, [], 1, [rng.uniform(0, 1, (4, 1, 8, 8)).astype(want), rng.integers(0, 10, 4).astype(want)])
    assert seen and all(d == want for _, d in seen), [s for s in seen if s[1] != want]
