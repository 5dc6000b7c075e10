"""What the Triton step's host code keeps from call to call, and what it must not.

The generated step looks up one Workspace of buffers per (tag, device), made anew when the batch
size or the number of slices of the batch changes; the strides of parameters and buffers are
printed from their shapes (symgrad decides that layout), an input's row stride is read at every
call; inputs are checked once at entry, not in every launch wrapper; ``TorchProgram`` checks
parameters, slots and a ready batch in one tight loop. None of it may ever hand a launch a stale
value: each test changes what the kept values depend on (batch size, slices, device, an input's
strides, dtypes) and compares the results with the NumPy target, compiled from the same
declaration (never with stored numbers). Tiny shapes: the kernels run under Triton's interpreter.
"""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.test_triton_backend import _close, _data, _mlp_case

torch = pytest.importorskip("torch")
pytest.importorskip("triton")


def _step_both(tri, ref, vt, st, vr, sr, batch_t, batch_r):
    vt, st = tri.step(vt, st, batch_t)
    vr, sr = ref.step(vr, sr, batch_r)
    for k in vr:
        _close(vt[k], vr[k], k)
    return vt, st, vr, sr


def test_a_workspace_per_batch_size_slices_and_device():
    """The module's ``workspace``: the same Workspace for the same (B, slices, device), a new one
    when any of them changes (SPLIT_ROWS lowered at the same B: more slices, bigger partial sums)."""
    _, tri, _ = _mlp_case("tanh", "mse", sg.optim.SGD(lr=0.1))
    module = tri.compiled.step.__globals__
    module["WORKSPACE"].clear()
    ws = module["workspace"]
    cpu, meta = torch.device("cpu"), torch.device("meta")
    a = ws("step", 37, cpu)
    a["x"] = torch.empty(3)
    assert ws("step", 37, cpu) is a
    assert ws("step", 36, cpu) is not a and "x" not in ws("step", 36, cpu)      # a new B: a new one
    b = ws("step", 37, cpu)
    assert ws("step", 37, meta) is not b and ws("step", 37, cpu) is b           # another device
    old = module["SPLIT_ROWS"]
    try:
        module["SPLIT_ROWS"] = 8
        assert ws("step", 37, cpu) is not b and ws("step", 37, cpu).sizes == (37, 5)
    finally:
        module["SPLIT_ROWS"] = old


@pytest.mark.parametrize("fuse_rows", [128, 0])
def test_changing_batch_size_and_slices_keeps_the_step_right(fuse_rows, rng, monkeypatch):
    """Steps at B = 19, 6, 19, then at 19 again with more slices of the batch (SPLIT_ROWS 8: the
    partial sums' buffers change shape at the same B), follow the NumPy target's SGD trajectory."""
    import codegen.triton_backend as tb
    monkeypatch.setattr(tb, "FUSE_ROWS", fuse_rows)
    net, tri, ref = _mlp_case("tanh", "mse", sg.optim.SGD(lr=0.1))
    module = tri.compiled.step.__globals__
    vt = vr = None
    st, sr = tri.init_state(), ref.init_state()
    for B, split in ((19, 512), (6, 512), (19, 512), (19, 8)):
        monkeypatch.setitem(module, "SPLIT_ROWS", split)
        values, batch = _data(rng, net, B)
        if vt is None:
            vt, vr = dict(values), {k: v.copy() for k, v in values.items()}
        vt, st, vr, sr = _step_both(tri, ref, vt, st, vr, sr, batch, batch)
    sizes = {w.sizes for w in module["WORKSPACE"].values()}
    assert (19, 3) in sizes, sizes        # the last step's: 19 examples in 3 slices


def test_strided_and_float64_inputs_are_read_right(rng):
    """An input that is a column slice of a wider tensor (row stride 9, not 5: read by the kernels
    with its own stride, never a kept one), then one whose entries are not contiguous (transposed:
    copied), then float64 values and inputs (converted): each step equals the NumPy target's."""
    net, tri, ref = _mlp_case("relu", "mse", sg.optim.Adam(lr=0.01))
    dev = tri.device
    values, batch = _data(rng, net, 11)
    vt = {k: torch.tensor(v, device=dev) for k, v in values.items()}
    vr = {k: v.copy() for k, v in values.items()}
    st, sr = tri.init_state(), ref.init_state()
    wide = rng.normal(size=(11, 9)).astype(np.float32)
    x = torch.tensor(wide, device=dev)[:, 2:7]
    assert x.stride() == (9, 1)
    t = torch.tensor(batch["t"], device=dev)
    vt, st, vr, sr = _step_both(tri, ref, vt, st, vr, sr, {"x": x, "t": t}, {"x": wide[:, 2:7], "t": batch["t"]})
    xt_np = rng.normal(size=(5, 11)).astype(np.float32)
    xt = torch.tensor(xt_np, device=dev).T
    assert xt.stride(-1) != 1
    vt, st, vr, sr = _step_both(tri, ref, vt, st, vr, sr, {"x": xt, "t": t}, {"x": xt_np.T, "t": batch["t"]})
    x64 = rng.normal(size=(11, 5))
    v64 = {k: v.double() for k, v in vt.items()}
    vt, st, vr, sr = _step_both(tri, ref, v64, st, vr, sr, {"x": torch.tensor(x64, device=dev), "t": t},
                                {"x": x64.astype(np.float32), "t": batch["t"]})
    assert all(v.dtype == torch.float32 for v in vt.values())
    g, gr = tri.grad(vt, {"x": x, "t": t}), ref.grad(vr, {"x": wide[:, 2:7], "t": batch["t"]})
    for k in gr:
        _close(g[k], gr[k], f"grad {k}")
    _close(tri.loss(vt, {"x": x, "t": t}), ref.loss(vr, {"x": wide[:, 2:7], "t": batch["t"]}), "loss")


def test_parameters_given_otherwise_are_copied_not_updated_in_place(rng):
    """A float64 parameter, a non-contiguous one (a transposed view), one of another shape: the
    step's checks send each to the copy (the caller's tensor untouched) or to the clear error
    naming it — as before the checks became one loop."""
    net, tri, ref = _mlp_case("tanh", "mse", sg.optim.SGD(lr=0.1))
    dev = tri.device
    values, batch = _data(rng, net, 7)
    vt = {k: torch.tensor(v, device=dev) for k, v in values.items()}
    vt["W1"] = vt["W1"].double()
    vt["W2"] = torch.tensor(values["W2"].T.copy(), device=dev).T     # the same values, not contiguous
    keep = {k: v.clone() for k, v in vt.items()}
    new, _ = tri.step(vt, None, batch)
    want, _ = ref.step({k: v.copy() for k, v in values.items()}, None, batch)
    for k in want:
        _close(new[k], want[k], k)
    assert torch.equal(vt["W1"], keep["W1"]) and torch.equal(vt["W2"], keep["W2"])   # copied
    assert not torch.equal(vt["b1"], keep["b1"])                                     # in place
    bad = dict(vt, W2=torch.zeros(3, 3))
    with pytest.raises(sg.ShapeError, match=r"parameter 'W2' has shape \(3, 3\)"):
        tri.step(bad, None, batch)
    with pytest.raises(sg.ShapeError, match=r"input 'x'"):
        tri.step(vt, None, {"x": torch.zeros(7, 4), "t": torch.tensor(batch["t"])})


def test_the_generated_code_reads_an_inputs_stride_and_prints_the_rest():
    """In the launch lines: an input's row stride is read from it at every call; a parameter's and
    a buffer's are numbers; the launch wrappers check nothing the entry has checked; the entry
    checks each input's rows once; the grid is computed with plain ints (no triton.cdiv)."""
    _, tri, _ = _mlp_case("relu", "mse", sg.optim.SGD(lr=0.1))
    src = tri.source
    launches = [line for line in src.splitlines() if re.search(r"_kernel\d*\[grid\]\(", line)]
    assert launches and all("stride_x0=x0.stride(0)" in line or "x0" not in line for line in launches)
    assert any(re.search(r"stride_w1n=5, stride_w1k=1", line) for line in launches), launches
    assert not re.search(r"\bp\d+\.stride\(|\bv\d+\.stride\(", src)
    assert "triton.cdiv(" not in src
    for name in re.findall(r"def (launch_\w+)\(", src):
        body = src[src.index(f"def {name}("):].split("\n\n\n")[0]
        assert "assert" not in body, name
    step = src[src.index("def step("):]
    assert re.search(r"assert x0\.shape\[1:\] == \(5,\) and x0\.shape\[0\] == B and x0\.stride\(-1\) == 1", step)
    assert 'ws = workspace("step", B, x0.device)' in step


def test_the_entry_check_of_a_label_input_reads_as_its_shape():
    """A label or id per example is a (B,) input: its entry check's words say (B,), not (B, ), nor
    'one contiguous row per example' (an example has no row), and the entries must be contiguous."""
    N = sp.Symbol("N", integer=True, positive=True)
    W, x, y = sg.tensor("W", (6, 3)), sg.tensor("x", (N, 6)), sg.tensor("y", (N,), integer=True)
    src = sg.compile(sg.cross_entropy(x @ W, y), [W], [x, y], target="triton").source
    step = src[src.index("def grad("):]
    assert "'input x1 must have shape (B,), its entries contiguous'" in step, step[:1500]
    assert "'input x0 must have shape (B, 6), one contiguous row per example'" in step


def test_the_generated_step_alone_refuses_rows_that_are_not_contiguous(rng):
    """Called without TorchProgram (as `program.save` users do), the step still refuses an input
    whose rows are not contiguous, with the same words a launch wrapper used."""
    net, tri, _ = _mlp_case("tanh", "mse", sg.optim.SGD(lr=0.1))
    values, batch = _data(rng, net, 6)
    params = [torch.tensor(values[p.name]) for p in net.params]
    x = torch.tensor(rng.normal(size=(5, 6)).astype(np.float32)).T
    with pytest.raises(AssertionError, match="one contiguous row per example"):
        tri.compiled.step(params, [], 1, [x, torch.tensor(batch["t"])])


def test_a_bias_rides_with_a_weight_the_host_computes(rng):
    """x @ W.T + b and x @ W[:4] + b: the bias's batch sum joins the weight gradient's launch (3
    launches a step, no batch_sum), though the host transposes or pads the weight's sums after it;
    loss, gradients and 3 Adam steps equal the NumPy target's."""
    from tests.codegen.test_triton_tensors import _same_as_numpy, _values
    N = sp.Symbol("N", integer=True, positive=True)
    W, b, V = sg.tensor("W", (8, 6)), sg.tensor("b", (8,)), sg.tensor("V", (8, 3))
    x, y = sg.tensor("x", (N, 6)), sg.tensor("y", (N,), integer=True)
    x4 = sg.tensor("x", (N, 4))
    for loss, params, inputs, width in (
            (sg.cross_entropy(sg.relu(x @ W.T + b) @ V, y), [W, b, V], [x, y], 6),
            (sg.cross_entropy(sg.tanh(x4 @ W.T[:4] + b) @ V, y), [W, b, V], [x4, y], 4)):
        tri, ref = (sg.compile(loss, params, inputs, target=t, optimizer=sg.optim.Adam(lr=0.05))
                    for t in ("triton", "numpy"))
        step = tri.source[tri.source.index("def step("):]
        assert "batch_sum(" not in step and step.count("launch_") + step.count("update(") == 3, step
        batch = {"x": rng.normal(size=(7, width)).astype(np.float32), "y": rng.integers(0, 3, 7)}
        _same_as_numpy(tri, ref, _values(params, rng), batch)


def test_grad_and_loss_keep_their_temporaries_but_return_their_own(rng):
    """grad and loss take their temporaries from Workspaces of their own; what they return stays
    the caller's: gradients of an earlier call are unchanged by later calls on other data at the
    same batch size (one Workspace: a kept buffer handed out would be overwritten) and at other
    batch sizes, and every call equals the NumPy target."""
    net, tri, ref = _mlp_case("tanh", "cross_entropy")
    module = tri.compiled.grad.__globals__
    module["WORKSPACE"].clear()
    kept = []
    for B in (7, 7, 4, 7):
        values, batch = _data(rng, net, B)
        g, gr = tri.grad(values, batch), ref.grad(values, batch)
        for k in gr:
            _close(g[k], gr[k], f"grad {k}, B={B}")
        _close(tri.loss(values, batch), ref.loss(values, batch), f"loss, B={B}")
        kept.append(({k: v.clone() for k, v in g.items()}, g))
    for copy, g in kept:
        assert all(torch.equal(copy[k], g[k]) for k in g)
    tags = {tag for tag, _ in module["WORKSPACE"]}
    assert tags == {"grad", "loss"}, tags


def test_a_scaled_module_loss_scales_every_gradient(rng):
    """as_torch(): (3 · module.loss(x, t)).backward() gives 3 × the program's gradients (the
    backward multiplies the kept gradients by ḡ in one operation)."""
    net, tri, _ = _mlp_case("relu", "mse")
    values, batch = _data(rng, net, 9)
    module = tri.as_torch(values)
    (3.0 * module.loss(torch.tensor(batch["x"]), torch.tensor(batch["t"]))).backward()
    want = tri.grad(values, batch)
    for name in module.names:
        p = module.parameter(name)
        _close(p.grad, 3.0 * want[name].reshape(p.shape).numpy(), name)


@pytest.mark.parametrize("fuse_rows", [128, 0])
def test_forward_and_the_modules_vjp_return_their_own(fuse_rows, rng, monkeypatch):
    """forward and an as_torch() module's VJP keep their temporaries, not what they return: the
    outputs and input gradients of a first call are unchanged by a second call on other data (a
    kept buffer handed out would have been overwritten), and both equal the NumPy target / torch."""
    import codegen.triton_backend as tb
    monkeypatch.setattr(tb, "FUSE_ROWS", fuse_rows)
    net, tri, ref = _mlp_case("tanh", "mse", outputs=True)
    values, b1 = _data(rng, net, 6)
    _, b2 = _data(rng, net, 6)
    o1 = tri.forward(values, b1)[0]
    keep = o1.clone()
    o2 = tri.forward(values, b2)[0]
    assert torch.equal(o1, keep)
    _close(o1, ref.forward(values, b1)[0], "outputs, first batch")
    _close(o2, ref.forward(values, b2)[0], "outputs, second batch")
    module = tri.as_torch(values)
    grads = []
    for b in (b1, b2):
        x = torch.tensor(b["x"], device=tri.device, requires_grad=True)
        module(x).sum().backward()
        grads.append((x.grad, x.grad.clone()))
    for g, copy in grads:
        assert torch.equal(g, copy)
    assert not torch.equal(grads[0][0], grads[1][0])
