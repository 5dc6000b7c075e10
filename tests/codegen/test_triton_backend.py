"""The Triton backend against the NumPy backend and torch.

Without a GPU the kernels run under ``TRITON_INTERPRET=1`` (tests/codegen/conftest.py sets it
before triton is imported), so the shapes are tiny: widths 5-7-3 and batches of 19 and 1 are not
multiples of any block size, which exercises every mask. Each case compares with the NumPy backend
compiled from the same declaration — never with stored numbers.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

from codegen import runtime  # noqa: E402

HAS_CUDA = torch.cuda.is_available()
ACTS = {"relu": sg.relu, "tanh": sp.tanh, "sigmoid": sg.sigmoid}
WIDTHS = [5, 7, 3]


def _adam():
    return sg.optim.Adam(lr=0.01)


def _mlp_case(act, loss, optimizer=None, outputs=False, widths=WIDTHS):
    net = sg.mlp(widths, act=ACTS[act])
    t = sp.MatrixSymbol("t", widths[-1], 1)
    L = sg.cross_entropy(net.output, t) if loss == "cross_entropy" else sg.mse(net.output, t)
    kw = dict(optimizer=optimizer, outputs=[net.output] if outputs else None)
    tri = sg.compile(L, net.params, [net.input, t], target="triton", **kw)
    ref = sg.compile(L, net.params, [net.input, t], target="numpy", **kw)
    return net, tri, ref


def _data(rng, net, B, widths=WIDTHS):
    values = {p.name: rng.normal(size=p.shape).astype(np.float32) for p in net.params}
    X = rng.normal(size=(B, widths[0])).astype(np.float32)
    T = np.eye(widths[-1], dtype=np.float32)[rng.integers(0, widths[-1], B)]
    return values, {"x": X, "t": T}


def _close(got, want, what, tol=2e-5):
    got = got.detach().cpu().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("act", sorted(ACTS))
def test_mlp_equals_numpy_backend(act, loss, rng):
    """Loss and gradients (batches of 19 and of 1) and a 5-step Adam trajectory."""
    net, tri, ref = _mlp_case(act, loss, _adam())
    for B in (19, 1):
        values, batch = _data(rng, net, B)
        _close(tri.loss(values, batch), ref.loss(values, batch), f"loss, B={B}")
        g_tri, g_ref = tri.grad(values, batch), ref.grad(values, batch)
        assert set(g_tri) == set(g_ref)
        for k in g_ref:
            assert tuple(g_tri[k].shape) == g_ref[k].shape
            _close(g_tri[k], g_ref[k], f"d loss / d {k}, B={B}")
    vt, st = dict(values), tri.init_state()
    vr, sr = {k: v.copy() for k, v in values.items()}, ref.init_state()
    for step in range(5):
        vt, st = tri.step(vt, st, batch)
        vr, sr = ref.step(vr, sr, batch)
        _close(tri.last_loss, ref.last_loss, f"loss before step {step + 1}")
        for k in vr:
            _close(vt[k], vr[k], f"{k} after step {step + 1}")
    for slot in ref.slots:
        for k in vr:
            _close(st[slot][k], sr[slot][k], f"slot {slot} of {k}")


@pytest.mark.parametrize("fuse_rows", [128, 0])
def test_step_keeps_its_buffers_and_stays_right(fuse_rows, rng, monkeypatch):
    """The training step's temporaries live in buffers kept from one step to the next (the second
    step allocates none of them); a new batch size gets buffers of its own shape; the steps still
    follow the NumPy backend's. grad and loss allocate afresh."""
    import codegen.triton_backend as tb
    monkeypatch.setattr(tb, "FUSE_ROWS", fuse_rows)
    net, tri, ref = _mlp_case("tanh", "mse", _adam())
    ws = tri.compiled.step.__globals__["WORKSPACE"]
    ws.clear()
    vt, st = None, tri.init_state()
    vr, sr = None, ref.init_state()
    seen = None
    for step, B in enumerate((19, 19, 6, 19)):
        values, batch = _data(rng, net, B)
        if vt is None:
            vt, vr = dict(values), {k: v.copy() for k, v in values.items()}
        vt, st = tri.step(vt, st, batch)
        vr, sr = ref.step(vr, sr, batch)
        for k in vr:
            _close(vt[k], vr[k], f"{k} after step {step + 1} (B={B})")
        buffers = {(key, name): (v.data_ptr(), tuple(v.shape))      # WORKSPACE: a Workspace per (tag, device)
                   for key, kept in ws.items() for name, v in kept.items()}
        assert any(shape[0] == B for _, shape in buffers.values()), buffers     # this batch's rows
        if step == 1:
            assert buffers == seen, "the second step of the same size made new buffers"
        seen = buffers
    g1, g2 = tri.grad(vt, batch), tri.grad(vt, batch)
    assert all(g1[k] is not g2[k] and g1[k].data_ptr() != g2[k].data_ptr() for k in g1)


def _grads_and_two_steps_match(tri, ref, values, batch):
    """The Triton program's gradients, and its values after two steps, equal the NumPy backend's."""
    g_tri, g_ref = tri.grad(values, batch), ref.grad(values, batch)
    for k in g_ref:
        _close(g_tri[k], g_ref[k], k)
    vt, st = dict(values), tri.init_state()
    vr, sr = {k: v.copy() for k, v in values.items()}, ref.init_state()
    for _ in range(2):
        vt, st = tri.step(vt, st, batch)
        vr, sr = ref.step(vr, sr, batch)
    for k in vr:
        _close(vt[k], vr[k], k)


@pytest.mark.parametrize("act, loss", [("relu", "cross_entropy"), ("sigmoid", "mse")])
def test_one_kernel_per_layer_equals_numpy_backend(act, loss, rng, monkeypatch):
    """With the rows kernels left apart (FUSE_ROWS = 0: one launch per product, as for wide
    layers, and a weight-gradient launch per layer), loss, gradients and two Adam steps equal the
    NumPy backend's too."""
    import codegen.triton_backend as tb
    monkeypatch.setattr(tb, "FUSE_ROWS", 0)
    net, tri, ref = _mlp_case(act, loss, _adam())
    monkeypatch.setitem(tri.compiled.grad.__globals__, "SPLIT_ROWS", 8)     # 3 slices of 19
    step = tri.source[tri.source.index("def step("):]
    assert step.count("launch_train_kernel") == 3
    values, batch = _data(rng, net, 19)
    _close(tri.loss(values, batch), ref.loss(values, batch), "loss")
    _grads_and_two_steps_match(tri, ref, values, batch)


def test_three_hidden_layers_one_rows_kernel(rng):
    """The benchmark's shape (three hidden layers), small: 7 products in one rows kernel's stages."""
    widths = [6, 5, 9, 5, 4]
    net, tri, ref = _mlp_case("relu", "mse", _adam(), widths=widths)
    step = tri.source[tri.source.index("def step("):]
    assert step.count("launch_") == 2            # the rows kernel and the weight gradients
    values, batch = _data(rng, net, 21, widths=widths)
    _grads_and_two_steps_match(tri, ref, values, batch)


def test_launches_per_step():
    """The fused step of a 2-layer MLP: one kernel for the forward and backward rows, one for the
    weight (and bias) gradients of every layer, one update for every parameter (with the loss)."""
    _, tri, _ = _mlp_case("relu", "cross_entropy", _adam())
    step = tri.source[tri.source.index("def step("):]
    calls = [line.strip() for line in step.splitlines() if "(" in line and not line.strip().startswith(("#", "assert", "def"))]
    launches = [c for c in calls if "launch_" in c or "weight_grad(" in c or "batch_sum(" in c or "update(" in c]
    assert len(launches) == 3, launches


@pytest.mark.parametrize("max_splits", [128, 3])
def test_two_stage_batch_reduction(max_splits, rng, monkeypatch):
    """Weight and bias gradients summed over several slices of the batch (stage 1) and added up
    (stage 2) equal the NumPy backend's; SPLIT_ROWS is lowered so that 37 examples make 5 slices,
    or 3 when MAX_SPLITS caps them (13 examples a slice)."""
    net, tri, ref = _mlp_case("tanh", "mse", sg.optim.SGD(lr=0.1))
    module = tri.compiled.grad.__globals__
    monkeypatch.setitem(module, "SPLIT_ROWS", 8)
    monkeypatch.setitem(module, "MAX_SPLITS", max_splits)
    assert module["batch_splits"](37) == min(5, max_splits)
    values, batch = _data(rng, net, 37)
    g_tri, g_ref = tri.grad(values, batch), ref.grad(values, batch)
    for k in g_ref:
        _close(g_tri[k], g_ref[k], k)
    vt, _ = tri.step(values, tri.init_state(), batch)
    vr, _ = ref.step({k: v.copy() for k, v in values.items()}, ref.init_state(), batch)
    for k in vr:
        _close(vt[k], vr[k], k)


def test_scalar_perceptron_and_forward(rng):
    """Scalar parameters and per-example scalar inputs (the seeds' y = w·x), and ``forward``."""
    w, x, y = sp.symbols("w x y")
    tri = sg.compile((w * x - y) ** 2 / 2, params=[w], inputs=[x, y], target="triton")
    ref = sg.compile((w * x - y) ** 2 / 2, params=[w], inputs=[x, y])
    batch = {"x": np.array([10, 2, 3.5, 1]), "y": np.array([10.1, 1.9, 3.4, 1.1])}
    _close(tri.loss({"w": 0.7}, batch), ref.loss({"w": 0.7}, batch), "loss")
    _close(tri.grad({"w": 0.7}, batch)["w"], ref.grad({"w": 0.7}, batch)["w"], "d loss / d w")
    net, tri, ref = _mlp_case("relu", "mse", outputs=True)
    values, batch = _data(rng, net, 11)
    _close(tri.forward(values, batch)[0], ref.forward(values, batch)[0], "forward")


def test_parameter_the_loss_does_not_use():
    """Its gradient is 0 and the optimizer still moves it as its rules say (Adam: not at all)."""
    w, c, x, y = sp.symbols("w c x y")
    progs = [sg.compile((w * x - y) ** 2 / 2, params=[w, c], inputs=[x, y], target=tgt,
                        optimizer=sg.optim.Adam(lr=0.1)) for tgt in ("triton", "numpy")]
    batch = {"x": np.array([1.0, 2, 3]), "y": np.array([2.0, 1, 0])}
    (gt, gr) = (p.grad({"w": 0.5, "c": 1.0}, batch) for p in progs)
    for k in gr:
        _close(gt[k], gr[k], k)
    runs = []
    for p in progs:
        v, s = {"w": 0.5, "c": 1.0}, p.init_state()
        for _ in range(2):
            v, s = p.step(v, s, batch)
        runs.append(v)
    for k in runs[1]:
        _close(runs[0][k], runs[1][k], k)


@pytest.mark.parametrize("target", ["triton", "numpy"])
def test_as_torch_gradients_equal_autograd(target, rng):
    """loss.backward() through the generated code equals torch.autograd on the same network, and
    torch.optim steps the module's parameters (the NumPy target's module runs through the CPU)."""
    net, tri, ref = _mlp_case("tanh", "cross_entropy")
    prog = tri if target == "triton" else ref
    device = getattr(prog, "device", torch.device("cpu"))
    values, batch = _data(rng, net, 13)
    model = prog.as_torch(values)
    X, T = (torch.tensor(batch[k], device=device) for k in ("x", "t"))
    loss = model(X, T)
    loss.backward()
    p = {k: torch.tensor(v, device=device, requires_grad=True) for k, v in values.items()}
    z = torch.tanh(X @ p["W1"].T + p["b1"].T) @ p["W2"].T + p["b2"].T
    want = torch.nn.functional.cross_entropy(z, T.argmax(1))
    want.backward()
    _close(loss, want.item(), "loss")
    for k in values:
        _close(model.parameter(k).grad.reshape(p[k].shape), p[k].grad.cpu().numpy(), f"d loss / d {k}")
    before = model.parameter("W1").detach().clone()
    torch.optim.Adam(model.parameters(), lr=0.1).step()
    assert not torch.equal(before, model.parameter("W1").detach())


_DDP_SCRIPT = textwrap.dedent("""
    import os, sys
    os.environ["TRITON_INTERPRET"] = "1"
    import numpy as np, sympy as sp, torch, torch.distributed as dist
    import symgrad as sg

    def run(rank, world, port, out):
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        dist.init_process_group("gloo", rank=rank, world_size=world)
        net = sg.mlp([4, 6, 3], act=sg.relu)
        t = sp.MatrixSymbol("t", 3, 1)
        prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], target="triton")
        model = torch.nn.parallel.DistributedDataParallel(prog.as_torch(generator=torch.Generator().manual_seed(rank)))
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        rng = np.random.default_rng(rank)                 # each replica sees its own data
        losses = []
        for _ in range(3):
            X = torch.tensor(rng.normal(size=(8, 4)), dtype=torch.float32)
            T = torch.eye(3)[torch.tensor(rng.integers(0, 3, 8))]
            opt.zero_grad()
            loss = model(X, T)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        np.save(os.path.join(out, f"rank{rank}.npy"), flat.numpy())
        np.save(os.path.join(out, f"loss{rank}.npy"), np.array(losses))
        dist.barrier()          # neither closes its gloo pair while the other still uses it: a rank that
        dist.destroy_process_group()   # tore down first aborted the other ("terminate called ...")

    if __name__ == "__main__":
        import socket
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
        torch.multiprocessing.spawn(run, args=(2, port, sys.argv[1]), nprocs=2, join=True)
""")


def test_ddp_two_processes_gloo_keeps_replicas_equal(tmp_path):
    """A 2-process DistributedDataParallel run on the CPU (gloo, localhost): the replicas start
    from different values (DDP broadcasts rank 0's), see different data, and stay equal."""
    script = tmp_path / "ddp.py"
    script.write_text(_DDP_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd()] + sys.path),
               CUDA_VISIBLE_DEVICES="")        # the CPU and gloo, even on a machine with a GPU
    proc = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=150)
    assert proc.returncode == 0, proc.stderr[-3000:]
    w0, w1 = np.load(tmp_path / "rank0.npy"), np.load(tmp_path / "rank1.npy")
    np.testing.assert_array_equal(w0, w1)
    l0 = np.load(tmp_path / "loss0.npy")
    assert np.all(np.isfinite(l0)) and not np.allclose(l0, l0[0])


def test_corrupt_cache_entry_is_rebuilt(rng):
    net, tri, ref = _mlp_case("relu", "mse")
    path = runtime.cached_path(tri.source)
    with open(path, "w") as f:
        f.write("raise RuntimeError('corrupt')\n")
    runtime._LOADED.pop(runtime.digest(tri.source), None)
    again = _mlp_case("relu", "mse")[1]
    with open(path) as f:
        assert f.read() == tri.source
    values, batch = _data(rng, net, 5)
    _close(again.loss(values, batch), ref.loss(values, batch), "loss after the rebuild")


def test_generated_source_reads_like_the_tutorials():
    _, tri, _ = _mlp_case("relu", "cross_entropy", _adam())
    src = tri.source
    compile(src, "<generated>", "exec")
    for needle in ("@triton.jit", "tl.constexpr", "_ptr,", "stride_", "offs_m", "mask", "tl.dot(",
                   "dtype=tl.float32", "def rows_configs(", "@triton.autotune(configs=rows_configs(",
                   "weight_grad_kernel[grid](", "update_kernel[("):
        assert needle in src, needle
    step = src[src.index("def step("):]
    assert step.count("update(") == 1           # one launch updates every parameter


def test_unsupported_is_an_error_that_names_it():
    net = sg.mlp([3, 2])
    t = sp.MatrixSymbol("t", 2, 1)
    with pytest.raises(sg.UnsupportedError, match="float32"):
        sg.compile(sg.mse(net.output, t), net.params, [net.input, t], target="triton", dtype="float64")
    # (dropout compiles for the Triton target: tests/codegen/test_triton_dropout.py, its refusals too)


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")
def test_gpu_width_64_batch_4096_equals_numpy(rng):
    """On a GPU (compiled kernels, autotuning): the 64-64-10 MLP at a real batch size."""
    net, tri, ref = _mlp_case("relu", "cross_entropy", _adam(), widths=[64, 64, 10])
    values, batch = _data(rng, net, 4096, widths=[64, 64, 10])
    _close(tri.loss(values, batch), ref.loss(values, batch), "loss", tol=1e-4)
    g_tri, g_ref = tri.grad(values, batch), ref.grad(values, batch)
    for k in g_ref:
        _close(g_tri[k], g_ref[k], k, tol=1e-4)


def test_hostile_symbol_names_stay_in_comments(rng):
    """Names are made by symgrad; a symbol's own name appears only in comments, escaped."""
    import ast
    W = sp.MatrixSymbol('W"""\nimport shutil #', 3, 2)
    x, b, t = sp.MatrixSymbol("lambda", 2, 1), sp.MatrixSymbol("b\\n'", 3, 1), sp.MatrixSymbol("t; del B", 3, 1)
    L = sg.cross_entropy(W * x + b, t)
    tri, ref = (sg.compile(L, [W, b], [x, t], target=tgt) for tgt in ("triton", "numpy"))
    imports = {a.name for node in ast.walk(ast.parse(tri.source)) if isinstance(node, ast.Import) for a in node.names}
    assert imports == {"math", "os", "torch", "triton", "triton.language"}
    values = {W.name: rng.normal(size=(3, 2)), b.name: rng.normal(size=(3, 1))}
    batch = {x.name: rng.normal(size=(4, 2)), t.name: np.eye(3)[[0, 1, 2, 0]]}
    _close(tri.loss(values, batch), ref.loss(values, batch), "loss")
