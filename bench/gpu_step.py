"""GPU training step: the generated Triton step against PyTorch eager and torch.compile (issue 6).

    PYTHONPATH=. python bench/gpu_step.py [--quick] [--steps 200] [--widths 64] [--batches 14,16] [--precompile 16]
    PYTHONPATH=. python bench/gpu_step.py --host [--widths 64] [--batches 14]    # no GPU: host time

The network: an MLP with input 32, three hidden layers of width 32, 64 or 128 (relu) and output 16;
the loss ½‖ŷ − y‖² per example, mean over the batch; Adam (lr 1e-3, β = (0.9, 0.999), ε = 1e-8);
float32; batches of 2^14, 2^16 and 2^18. One training step = forward, loss, backward, update.

    ours, fused rows       the step compiled by ``sg.compile(..., target="triton")``, called as the
                           generated function (params, Adam slots, batch, the step count and a loss
                           buffer already tensors on the GPU; no host sync), with FUSE_ROWS = 128: one kernel for the forward and
                           backward rows, one for the weight gradients, one update
    ours, kernel/product   the same with FUSE_ROWS = 0: a rows kernel per product, a weight gradient
                           per layer, one update
    (the backend's default, FUSE_ROWS = 64, is the fused schedule at widths 32 and 64 and the kernel
    per product at 128; its row is marked *, and this/ours is relative to it)
    ours, CUDA graph       ``Program.step`` (the default schedule) captured once in a CUDA graph and
                           replayed: the step count and Adam's bias corrections live on the device,
                           and nothing in the step reads back from it (issue 15)
    eager       the same network in PyTorch, ``torch.optim.Adam(fused=True)``
    compile     the loss function through ``torch.compile`` (default), fused Adam
    max-autot.  the same with ``mode="max-autotune"``

Each step is timed with CUDA events, for ``--steps`` (≥ 200) steps after a warm-up (which includes
autotuning and torch.compile's compilation); the median is printed with the ratios eager/ours and
compile/ours, samples per second, kernel launches per step (counted by torch.profiler: every CUDA
kernel of one step) and the peak GPU memory during the timed steps (torch.cuda.max_memory_allocated;
ours must not exceed eager's). The goal (issue 6): at width 64 and batch 2^14-2^16, ours at least
3x faster than eager and 1.5x faster than torch.compile.

``--host`` needs no GPU: it runs ``Program.step`` on CPU tensors with the kernels stubbed and prints
the launches per step, the torch operations per step (each a CUDA activity or an allocation on a
GPU; 0: the host launches our kernels and nothing else), the host time per step (argument checks,
buffers, launch arguments; CPU time, best of 5 runs) and the host syncs counted by a dispatch mode
(0: the step never waits for the device).

``--cnn`` times the digits CNN instead (`codegen.triton_aot.digits_cnn`: 8×8 images, conv 3×3 with 8
filters and padding 1 with its bias, relu, 2×2 max pooling, flatten, dense → 10, softmax cross-entropy at
integer labels, Adam as above), batches 2^14 and 2^16: ours (the generated step, called as above, and
in a CUDA graph), eager (``F.conv2d``, ``F.max_pool2d``, ``F.cross_entropy``; cuDNN's convolution) and
torch.compile. ``--cnn --lenet`` times the LeNet (`digits_lenet`: conv 3×3 1 → 4 and 4 → 8 with
padding 1, each with relu and 2×2 max pooling, dense 32 → 10) the same way, and ``--cnn --up-conv`` a
decoder's up-convolution (`digits_up_conv`: conv 3×3 1 → 4 stride 2, relu, ``F.conv_transpose2d``
2×2 4 → 4 stride 2, relu, dense 256 → 10). ``--cnn --check`` (with or without ``--lenet`` or
``--up-conv``) needs no GPU: three steps of ours under TRITON_INTERPRET=1 and of eager on
the CPU at batch 16, from the same start, and the largest difference of their losses and
parameters (the script's own code checked before device time is spent on it).

Compiling every autotuning candidate takes minutes on one core; ``--precompile 16`` compiles them in
16 processes first (codegen.triton_aot), so that autotuning finds them in Triton's cache. Split a
long run with ``--widths`` and ``--batches`` (each device command has a time limit).
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time

WIDTHS = (32, 64, 128)
PRECISION = None            # --precision: sg.compile(..., precision=...) for ours (None: "ieee")
BATCHES = (2 ** 14, 2 ** 16, 2 ** 18)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from codegen.triton_aot import BETAS, EPS, HIDDEN_LAYERS, LR, N_IN, N_OUT, benchmark_mlp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_stub import stub_kernels  # noqa: E402


def _require_cuda():
    try:
        import torch
    except ImportError:
        sys.exit("bench/gpu_step.py needs torch with CUDA (and triton); torch is not installed")
    if not torch.cuda.is_available():
        sys.exit("bench/gpu_step.py needs a CUDA GPU: torch.cuda.is_available() is False on this machine. "
                 "(The Triton backend's correctness tests run on the CPU under TRITON_INTERPRET=1; timing "
                 "them there means nothing.)")
    if os.environ.get("TRITON_INTERPRET") == "1":
        sys.exit("unset TRITON_INTERPRET: the benchmark times compiled kernels on the GPU")
    return torch


# -------------------------------------------------------------------------------------------------
# The contestants: each returns (step(), cleanup names) where step() runs one training step


def ours(torch, width, X, Y, init, fuse_rows):
    import codegen.triton_backend as tb
    import symgrad as sg
    tb.FUSE_ROWS = fuse_rows          # 0: one kernel per product instead of one for all the rows
    loss, net_params, inputs, adam = benchmark_mlp(width)
    prog = sg.compile(loss, net_params, inputs, target="triton", optimizer=adam, precision=PRECISION)
    params = [init[p.name].clone().contiguous() for p in net_params]
    slots = [torch.zeros_like(p) for _ in prog.slots for p in params]     # slot-major
    step_fn, rng = prog.compiled.step, prog.rng
    # the step count on the device (the update kernel advances it) and a loss buffer, as Program.step
    # passes them: the host launches the three kernels and nothing else
    count = step_fn.__globals__["step_count"](0, X.device)
    loss_buf = torch.empty((), device=X.device)

    def step():
        step_fn(params, slots, count, [X, Y], rng, loss=loss_buf)
    return step


def captured_step(torch, prog, net_params, X, Y, init):
    """``prog.step`` from ``init``, warmed up on a side stream (autotuning, buffers) outside the
    capture, then captured once in a CUDA graph: returns its replay, one graph launch a step."""
    values = {p.name: init[p.name].clone().contiguous() for p in net_params}
    state = prog.init_state()
    batch = {"x": X, "y": Y}
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            values, state = prog.step(values, state, batch)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        prog.step(values, state, batch)
    return graph.replay


def ours_graph(torch, width, X, Y, init, fuse_rows):
    """ours through ``Program.step`` (the step count on the device), captured once in a CUDA graph
    and replayed: one graph launch a step, no host work but the replay."""
    import codegen.triton_backend as tb
    import symgrad as sg
    tb.FUSE_ROWS = fuse_rows
    loss, net_params, inputs, adam = benchmark_mlp(width)
    prog = sg.compile(loss, net_params, inputs, target="triton", optimizer=adam, precision=PRECISION)
    return captured_step(torch, prog, net_params, X, Y, init)


# -------------------------------------------------------------------------------------------------
# The digits CNN (--cnn): the same contestants on a convolution, relu, max pooling and a dense layer

CNN_BATCHES = (2 ** 14, 2 ** 16)
CNN_SHAPES = {"w": (8, 1, 3, 3), "b": (8,), "V": (128, 10), "c": (10,)}
CNN_FANS = {"w": 9, "b": 9, "V": 128, "c": 128}
# --lenet: `codegen.triton_aot.digits_lenet`, two convolutions (conv 3×3 1 → 4 and 4 → 8, padding 1,
# each with relu and 2×2 max pooling), dense 32 → 10; it replaces the two dicts above (`use_lenet`)
LENET_SHAPES = {"w1": (4, 1, 3, 3), "b1": (4,), "w2": (8, 4, 3, 3), "b2": (8,), "V": (32, 10), "c": (10,)}
LENET_FANS = {"w1": 9, "b1": 9, "w2": 36, "b2": 36, "V": 32, "c": 32}
LENET = False
# --up-conv: `codegen.triton_aot.digits_up_conv`, a decoder's up-convolution (conv 3×3 1 → 4 stride 2,
# relu, conv_transpose2d 2×2 4 → 4 stride 2 back to 8×8, relu, dense 256 → 10); 3 launches a step
# since 2026-12-01, twelfth session (its weight gradient one stacked product; 26 before)
UPCONV_SHAPES = {"w1": (4, 1, 3, 3), "b1": (4,), "wt": (4, 4, 2, 2), "bt": (4,), "V": (256, 10), "c": (10,)}
UPCONV_FANS = {"w1": 9, "b1": 9, "wt": 16, "bt": 16, "V": 256, "c": 256}
UPCONV = False


def use_lenet():
    """The CNN contestants below run the LeNet instead of the one-convolution digits CNN."""
    global LENET, CNN_SHAPES, CNN_FANS
    LENET, CNN_SHAPES, CNN_FANS = True, LENET_SHAPES, LENET_FANS


def use_up_conv():
    """The CNN contestants below run the up-convolution decoder instead of the digits CNN."""
    global UPCONV, CNN_SHAPES, CNN_FANS
    UPCONV, CNN_SHAPES, CNN_FANS = True, UPCONV_SHAPES, UPCONV_FANS


def cnn_init(torch, device, gen) -> dict:
    """Uniform ±1/√fan-in, as torch's layers start (the same start for every contestant)."""
    return {k: (torch.rand(s, device=device, generator=gen) * 2 - 1) / CNN_FANS[k] ** 0.5
            for k, s in CNN_SHAPES.items()}


def cnn_data(torch, B, device, gen):
    """B images (B, 1, 8, 8) of pixels in [0, 1) and their labels (B,) int64 in 0..9."""
    X = torch.rand(B, 1, 8, 8, device=device, generator=gen)
    Y = torch.randint(0, 10, (B,), device=device, generator=gen)
    return X, Y


def cnn_program():
    """The digits CNN compiled for target="triton" with Adam (the backend's default schedule)."""
    import symgrad as sg
    from codegen.triton_aot import digits_cnn, digits_lenet, digits_up_conv
    loss, params, inputs = digits_lenet() if LENET else digits_up_conv() if UPCONV else \
        digits_cnn(padding=1, pool=True)
    return sg.compile(loss, params, inputs, target="triton", optimizer=sg.optim.Adam(lr=LR, betas=BETAS, eps=EPS),
                      precision=PRECISION), params


def cnn_ours(torch, X, Y, init):
    """The generated step called directly, as `ours` (the step count, the loss buffer and the record
    of bad labels on the device, made once)."""
    prog, net_params = cnn_program()
    params = [init[p.name].clone().contiguous() for p in net_params]
    slots = [torch.zeros_like(p) for _ in prog.slots for p in params]
    step_fn, rng = prog.compiled.step, prog.rng
    count = step_fn.__globals__["step_count"](0, X.device)
    labels = step_fn.__globals__["label_record"](None, 1, X.device)
    loss_buf = torch.empty((), device=X.device)

    def step():
        step_fn(params, slots, count, [X, Y], rng, bad_labels=labels, loss=loss_buf)
    return step


def cnn_ours_graph(torch, X, Y, init):
    """`Program.step` of the CNN captured once in a CUDA graph and replayed (see `ours_graph`)."""
    prog, net_params = cnn_program()
    return captured_step(torch, prog, net_params, X, Y, init)


def cnn_torch_model(torch, init):
    F = torch.nn.functional
    params = [torch.nn.Parameter(init[n].clone()) for n in CNN_SHAPES]

    def loss_fn(X, Y):
        *convs, V, c = params
        h = X
        if UPCONV:
            w1, b1, wt, bt = convs
            h = F.relu(F.conv2d(h, w1, b1, stride=2, padding=1))
            h = F.relu(F.conv_transpose2d(h, wt, bt, stride=2))
            return F.cross_entropy(h.reshape(h.shape[0], -1) @ V + c, Y)
        for w, b in zip(convs[::2], convs[1::2]):      # one convolution, or the LeNet's two
            h = F.max_pool2d(F.relu(F.conv2d(h, w, b, padding=1)), 2)
        return F.cross_entropy(h.reshape(h.shape[0], -1) @ V + c, Y)
    return params, loss_fn


def cnn_eager(torch, X, Y, init, mode=None):
    params, loss_fn = cnn_torch_model(torch, init)
    if mode is not None:
        loss_fn = torch.compile(loss_fn, mode=None if mode == "default" else mode)
    opt = torch.optim.Adam(params, lr=LR, betas=BETAS, eps=EPS, fused=X.is_cuda)

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(X, Y).backward()
        opt.step()
    return step, params, loss_fn


def cnn_check(steps: int = 3, B: int = 16) -> float:
    """No GPU: ``steps`` Adam steps of ours (kernels interpreted) and of eager on the CPU from one
    start and batch; prints and returns the largest difference of a loss or a parameter entry."""
    import torch
    gen = torch.Generator().manual_seed(0)
    init = cnn_init(torch, "cpu", gen)
    X, Y = cnn_data(torch, B, "cpu", gen)
    prog, net_params = cnn_program()
    values, state = {k: v.clone() for k, v in init.items()}, None
    step, params, loss_fn = cnn_eager(torch, X, Y, init)
    worst = 0.0
    for k in range(steps):
        with torch.no_grad():
            want = float(loss_fn(X, Y))
        values, state = prog.step(values, state, {"x": X, "y": Y})
        step()
        diffs = [abs(float(prog.last_loss) - want)] + [float((values[n] - p.detach()).abs().max())
                                                        for n, p in zip(CNN_SHAPES, params)]
        print(f"step {k + 1}: loss {want:.6f} (eager), |ours − eager| ≤ {max(diffs):.2e} (loss and parameters)")
        worst = max(worst, *diffs)
    return worst


def cnn_table(args, torch, contestants):
    """The CNN's rows, each printed as soon as it and the default (ours) and eager are measured."""
    batches = tuple(2 ** int(b) for b in args.batches.split(",")) if args.batches else CNN_BATCHES
    if args.quick:
        batches = (2 ** 14,)
    what = "LeNet" if LENET else "up-conv" if UPCONV else "CNN"
    print(f"# GPU training step of the digits {what}, {datetime.date.today().isoformat()}, "
          f"{torch.cuda.get_device_name()}, torch {torch.__version__}, triton {__import__('triton').__version__}")
    net = "conv 3×3 (1 → 4, padding 1, bias) → relu → max pool 2 → conv 3×3 (4 → 8) → relu → max pool 2 → " \
        "dense 32 → 10" if LENET else "conv 3×3 (1 → 4, stride 2, padding 1, bias) → relu → " \
        "conv_transpose 2×2 (4 → 4, stride 2, bias) → relu → dense 256 → 10" if UPCONV else \
        "conv 3×3 (1 → 8, padding 1, bias) → relu → max pool 2 → dense 128 → 10"
    print(f"8×8 images, {net}, cross-entropy, "
          f"Adam, float32 (ours' products: {args.precision or 'ieee'}); median of {args.steps} steps (CUDA events) "
          f"after {args.warmup} warm-up steps\n")
    head = "| batch | contestant | ms/step | eager/this | this/ours | samples/s | launches/step | peak MiB | set-up s |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    gen = torch.Generator(device="cuda").manual_seed(0)
    init = cnn_init(torch, "cuda", gen)
    for B in batches:
        X, Y = cnn_data(torch, B, "cuda", gen)
        order = sorted(contestants, key=lambda c: (c[0] != "ours", c[0] != "eager"))     # ours and eager first
        results, printed = {}, set()
        for name, mode in order:
            t0 = time.perf_counter()
            if name == "ours, CUDA graph":
                step = cnn_ours_graph(torch, X, Y, init)
            elif name.startswith("ours"):
                step = cnn_ours(torch, X, Y, init)
            else:
                step = cnn_eager(torch, X, Y, init, mode)[0]
            ms, peak = time_steps(torch, step, args.steps, args.warmup)
            results[name] = (ms, peak, count_launches(torch, step), time.perf_counter() - t0)
            del step
            torch.cuda.empty_cache()
            if "ours" not in results or "eager" not in results:
                continue
            for row in [n for n in results if n not in printed]:
                printed.add(row)
                ms, peak, launches, setup = results[row]
                print(f"| 2^{B.bit_length() - 1} | {row}{' *' if row == 'ours' else ''} | {ms:.3f} | "
                      f"{results['eager'][0] / ms:.2f} | {ms / results['ours'][0]:.2f} | {B / ms * 1e3:,.0f} | "
                      f"{launches} | {peak / 2 ** 20:,.0f} | {setup:.0f} |", flush=True)
    print("\neager/this > 1: faster than PyTorch eager; this/ours > 1: slower than ours (the row marked *); "
          "set-up: building, compiling, autotuning and the timed steps, in seconds.")


def host_time(width: int, batch: int, steps: int, fuse_rows: int) -> tuple:
    """(launches per step, torch operations per step, host µs per step, syncs in the counted steps)
    of ``Program.step`` on CPU tensors with the kernels stubbed: the host code alone (argument
    checks, buffers, the update's factors), measurable without a GPU. The time is the thread's CPU
    time, the best of five runs of ``steps`` steps (the machine is shared: CPU time leaves out the
    time the thread waits for a core, and the best run is the one least disturbed); the
    operations (each a CUDA activity or an allocation on a GPU) and syncs are counted by a dispatch
    mode over three more steps. Needs TRITON_INTERPRET=1 (set by --host)."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    import codegen.triton_backend as tb
    import symgrad as sg
    tb.FUSE_ROWS = fuse_rows
    loss, net_params, inputs, adam = benchmark_mlp(width)
    prog = sg.compile(loss, net_params, inputs, target="triton", optimizer=adam, precision=PRECISION)
    launches = stub_kernels(prog)

    class Ops(TorchDispatchMode):
        n = syncs = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            Ops.n += 1
            if func.overloadpacket.__name__ in ("_local_scalar_dense", "item", "is_nonzero", "equal"):
                Ops.syncs += 1
            return func(*args, **(kwargs or {}))
    gen = torch.Generator().manual_seed(0)
    values = {p.name: torch.rand(p.shape, generator=gen) for p in net_params}
    data = {"x": torch.randn(batch, N_IN, generator=gen), "y": torch.randn(batch, N_OUT, generator=gen)}
    state = prog.init_state()
    for _ in range(3):
        values, state = prog.step(values, state, data)
    launches[0] = 0
    runs = []
    for _ in range(5):
        t0 = time.thread_time()     # this thread's CPU time: nothing waits (the kernels are stubbed), and
        for _ in range(steps):      # time spent descheduled on a loaded machine is not counted
            values, state = prog.step(values, state, data)
        runs.append(time.thread_time() - t0)
    n = launches[0] / (5 * steps)
    with Ops():                             # counted apart: the mode's own overhead is not timed
        for _ in range(3):
            values, state = prog.step(values, state, data)
    return n, Ops.n / 3, min(runs) / steps * 1e6, Ops.syncs


def host_table(widths, batch: int, steps: int):
    print(f"# Host time of Program.step, kernels stubbed (CPU, {datetime.date.today().isoformat()}), "
          f"batch {batch}, CPU time, best of 5 runs of {steps} steps\n")
    print("| width | schedule | launches/step | torch ops/step | host µs/step | host syncs |")
    print("|---|---|---|---|---|---|")
    for w in widths:
        for label, fuse in (("fused rows", 128), ("kernel/product", 0)):
            n, ops, us, syncs = host_time(w, batch, steps, fuse)
            print(f"| {w} | {label} | {n:g} | {ops:g} | {us:.0f} | {syncs} |", flush=True)


def layer_shapes(width) -> dict:
    """W1, b1, W2, ... of the benchmark's MLP at ``width``, in declared shapes."""
    shapes = {}
    for i in range(1, HIDDEN_LAYERS + 2):
        n_in = N_IN if i == 1 else width
        n_out = N_OUT if i == HIDDEN_LAYERS + 1 else width
        shapes[f"W{i}"], shapes[f"b{i}"] = (n_out, n_in), (n_out, 1)
    return shapes


def _torch_model(torch, init):
    names = [f"{k}{i}" for i in range(1, HIDDEN_LAYERS + 2) for k in ("W", "b")]
    params = [torch.nn.Parameter(init[n].clone()) for n in names]

    def loss_fn(X, Y):
        h = X
        for i in range(HIDDEN_LAYERS + 1):
            W, b = params[2 * i], params[2 * i + 1]
            h = torch.addmm(b.T, h, W.T)
            if i < HIDDEN_LAYERS:
                h = torch.relu(h)
        return 0.5 * ((h - Y) ** 2).sum(1).mean()
    return params, loss_fn


def eager(torch, width, X, Y, init, mode=None):
    params, loss_fn = _torch_model(torch, init)
    if mode is not None:
        loss_fn = torch.compile(loss_fn, mode=None if mode == "default" else mode)
    opt = torch.optim.Adam(params, lr=LR, betas=BETAS, eps=EPS, fused=True)

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(X, Y).backward()
        opt.step()
    return step


# -------------------------------------------------------------------------------------------------


def time_steps(torch, step, n_steps: int, warmup: int):
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(n_steps)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(n_steps)]
    for s, e in zip(starts, ends):
        s.record()
        step()
        e.record()
    torch.cuda.synchronize()
    ms = statistics.median(s.elapsed_time(e) for s, e in zip(starts, ends))
    return ms, torch.cuda.max_memory_allocated()


def count_launches(torch, step) -> int:
    """CUDA kernels launched by one step (torch.profiler sees Triton's launches too)."""
    from torch.profiler import ProfilerActivity, profile
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        step()
        torch.cuda.synchronize()
    return sum(1 for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA)


def precompile(widths, jobs: int, cnn: bool = False):
    """Compile our kernels for this GPU before anything is timed, in parallel (codegen.triton_aot), for
    both schedules (``cnn``: the digits CNN's, the default schedule); autotuning then only times them.
    Prints how long it took."""
    import codegen.triton_backend as tb
    from codegen.triton_aot import benchmark_specs, compile_step
    torch = __import__("torch")
    major, minor = torch.cuda.get_device_capability()
    t0 = time.perf_counter()
    n = 0
    default = tb.FUSE_ROWS
    for fuse in ((default,) if cnn else (128, 0)):
        tb.FUSE_ROWS = fuse
        for name, spec in benchmark_specs():
            mlp = any(name.startswith(f"{N_IN}-{w}-") for w in widths)
            key = "lenet" if LENET else "conv_transpose2x2" if UPCONV else "maxpool"
            if (cnn and key in name) or (not cnn and mlp):
                spec.precision = PRECISION
                n += len(compile_step(spec, 2 ** 14, 10 * major + minor, all_configs=True, jobs=jobs))
    tb.FUSE_ROWS = default
    print(f"(precompiled {n} kernel configurations in {time.perf_counter() - t0:.0f} s with {jobs} processes)\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=200, help="timed steps after the warm-up (>= 200)")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="width 64, batch 2^14 only (a smoke run)")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile contestants")
    ap.add_argument("--compile-modes", default="default,max-autotune",
                    help="torch.compile's modes to time (max-autotune takes minutes at batch 2^16)")
    ap.add_argument("--widths", default=",".join(map(str, WIDTHS)), help="hidden widths, e.g. 64 or 32,64")
    ap.add_argument("--batches", default=None, help="log2 of the batch sizes, e.g. 14,16 (default 14,16,18; "
                                                    "14,16 with --cnn)")
    ap.add_argument("--precompile", type=int, default=0, metavar="JOBS",
                    help="first compile our kernels (every autotuning candidate) in JOBS processes with "
                         "codegen.triton_aot, so that autotuning finds them in Triton's cache")
    ap.add_argument("--host", action="store_true",
                    help="no GPU needed: the host time and launches of Program.step with the kernels stubbed")
    ap.add_argument("--no-graph", action="store_true", help="skip the CUDA-graph contestant of ours")
    ap.add_argument("--precision", default=None, choices=["ieee", "tf32", "tf32x3", "bf16"],
                    help="ours' products (sg.compile(..., precision=...)); eager and compile stay float32")
    ap.add_argument("--cnn", action="store_true", help="the digits CNN instead of the MLP (batches 14,16 by default)")
    ap.add_argument("--lenet", action="store_true", help="with --cnn, the LeNet (two convolutions) instead")
    ap.add_argument("--up-conv", action="store_true",
                    help="with --cnn, a decoder's up-convolution (conv_transpose2d 2×2 stride 2) instead")
    ap.add_argument("--check", action="store_true",
                    help="with --cnn, no GPU needed: 3 steps of ours (interpreted) and eager on the CPU, compared")
    args = ap.parse_args(argv)
    global PRECISION
    PRECISION = args.precision
    if args.lenet:
        if not args.cnn:
            sys.exit("--lenet goes with --cnn")
        use_lenet()
    if args.up_conv:
        if not args.cnn or args.lenet:
            sys.exit("--up-conv goes with --cnn, without --lenet")
        use_up_conv()
    if args.check and not args.cnn:
        sys.exit("--check goes with --cnn (the MLP's is tests/codegen/test_triton_backend.py)")
    if args.check:
        os.environ.setdefault("TRITON_INTERPRET", "1")     # the kernels on the CPU
        worst = cnn_check()
        if worst > 1e-4:
            sys.exit(f"ours and eager differ by {worst:.2e} (more than 1e-4)")
        print("ours and eager agree (within 1e-4)")
        return
    if args.host:
        os.environ.setdefault("TRITON_INTERPRET", "1")     # triton without a GPU; no kernel runs
        widths = tuple(int(w) for w in args.widths.split(","))
        host_table(widths, 2 ** int((args.batches or "14").split(",")[0]), max(1, min(args.steps, 100)))
        return
    torch = _require_cuda()
    import codegen.triton_backend as tb
    default_fuse = tb.FUSE_ROWS           # the backend's schedule; each contestant of ours sets its own
    if args.steps < 200 and not args.quick:
        sys.exit("--steps must be at least 200 (use --quick for a smoke run)")
    widths = tuple(int(w) for w in args.widths.split(","))
    batches = tuple(2 ** int(b) for b in (args.batches or "14,16,18").split(","))
    if args.quick:
        widths, batches = (64,), (2 ** 14,)
    contestants = [("ours, fused rows", 128), ("ours, kernel/product", 0), ("eager", None)]
    if not args.no_graph:
        contestants.insert(2, ("ours, CUDA graph", default_fuse))
    if not args.no_compile:
        modes = [m for m in args.compile_modes.split(",") if m]
        unknown = [m for m in modes if m not in ("default", "max-autotune")]
        if unknown:
            sys.exit(f"--compile-modes takes default and max-autotune; got {', '.join(unknown)}")
        contestants += [("compile" if m == "default" else m, m) for m in modes]
    if args.cnn:
        contestants = [("ours", None), ("eager", None)] + [c for c in contestants if c[1] in ("default", "max-autotune")]
        if not args.no_graph:
            contestants.insert(1, ("ours, CUDA graph", None))
        if args.precompile:
            precompile((), args.precompile, cnn=True)
        return cnn_table(args, torch, contestants)
    if args.precompile:
        precompile(widths, args.precompile)
    gpu = torch.cuda.get_device_name()
    print(f"# GPU training step, {datetime.date.today().isoformat()}, {gpu}, torch {torch.__version__}, "
          f"triton {__import__('triton').__version__}")
    print(f"MLP {N_IN}-(w x {HIDDEN_LAYERS}, relu)-{N_OUT}, ½‖ŷ − y‖², Adam, float32 (ours' products: "
          f"{args.precision or 'ieee'}); median of {args.steps} "
          f"steps (CUDA events) after {args.warmup} warm-up steps\n")
    head = ("| width | batch | contestant | ms/step | eager/this | this/ours | samples/s | launches/step "
            "| peak MiB | set-up s |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for width in widths:
        gen = torch.Generator(device="cuda").manual_seed(0)
        init = {k: (torch.rand(s, device="cuda", generator=gen) * 2 - 1) / (s[1] ** 0.5 if s[1] > 1 else 10)
                for k, s in layer_shapes(width).items()}
        for B in batches:
            X = torch.randn(B, N_IN, device="cuda", generator=gen)
            Y = torch.randn(B, N_OUT, device="cuda", generator=gen)
            # ours (the default schedule) and eager first, and each row printed as soon as it is
            # measured: a run stopped at its time limit (torch.compile's max-autotune takes minutes
            # at large batches) keeps the rows it has
            default = "ours, fused rows" if width <= default_fuse else "ours, kernel/product"
            order = sorted(contestants, key=lambda c: (c[0] != default, c[0] != "eager"))
            results, printed = {}, set()
            for name, mode in order:
                t0 = time.perf_counter()
                if name == "ours, CUDA graph":
                    step = ours_graph(torch, width, X, Y, init, fuse_rows=mode if width <= mode else 0)
                elif name.startswith("ours"):
                    step = ours(torch, width, X, Y, init, fuse_rows=mode)
                else:
                    step = eager(torch, width, X, Y, init, mode)
                ms, peak = time_steps(torch, step, args.steps, args.warmup)
                results[name] = (ms, peak, count_launches(torch, step), time.perf_counter() - t0)
                del step
                torch.cuda.empty_cache()
                if default not in results or "eager" not in results:
                    continue
                base = results[default][0]
                for row in [n for n in results if n not in printed]:
                    printed.add(row)
                    ms, peak, launches, setup = results[row]
                    label = row + (" *" if row == default else "")
                    print(f"| {width} | 2^{B.bit_length() - 1} | {label} | {ms:.3f} | "
                          f"{results['eager'][0] / ms:.2f} | {ms / base:.2f} | {B / ms * 1e3:,.0f} | {launches} "
                          f"| {peak / 2 ** 20:,.0f} | {setup:.0f} |", flush=True)
    print("\neager/this > 1: faster than PyTorch eager; this/ours > 1: slower than ours (the row marked *, the "
          "backend's default schedule); set-up: building, compiling, autotuning and the timed steps, in seconds.")


if __name__ == "__main__":
    main()
