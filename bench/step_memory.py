"""Peak memory of one training step — ours against PyTorch eager — on the CPU, for the MLPs of
bench/gpu_step.py (issue 6: "peak GPU memory ... ours must not exceed PyTorch eager's").

    PYTHONPATH=. python bench/step_memory.py [--widths 32,64,128] [--batches 14,16]

An estimate for a machine without a GPU. Our step's memory is its host code's: the generated step
allocates every output and temporary with torch on the host side (on its first call; later calls
reuse those buffers), and the kernels allocate nothing. So the step's host code runs on CPU tensors with the kernel
launches intercepted (codegen.triton_aot.Launches: nothing is computed), and torch.profiler's memory
events give the peak of what the step allocates beyond the parameters, optimizer state and batch it
is given (its first call, which makes the buffers it keeps). Eager: the same network in PyTorch on the CPU (addmm, relu, ½‖ŷ − y‖², backward,
torch.optim.Adam), after two warm-up steps (so the Adam state exists), measured the same way.
On the GPU, torch.cuda.max_memory_allocated adds the parameters, state and batch to both sides
and rounds blocks up; bench/gpu_step.py prints that.

``--cpu`` (issue 16): the NumPy step on the CPU instead, one SGD step of a relu MLP
784-1024-1024-10 with softmax cross-entropy at batch 512, float32, one thread, against the same
step in PyTorch eager (F.linear, relu, F.cross_entropy, backward, p -= lr·grad) and the hand-written
NumPy step of bench/cpu_step.py. Two measures, each the median over fresh processes:

- RSS: how far one step raises the process's resident memory above where it stood before the
  step (the peak, VmHWM, reset through /proc/self/clear_refs just before the step), after one
  warm-up step at batch 8 (lazy initialisation, BLAS buffers), with glibc's mmap threshold fixed
  at 64 KiB so that a freed buffer leaves RSS at once;
- allocated: the peak of what the step allocates and has not freed — tracemalloc for NumPy
  (which reports its buffers to it), torch.profiler's memory events for torch — plus, for the
  generated NumPy step, the arrays its workspace keeps between calls (codegen/numpy_workspace.py:
  allocated by an earlier step, they are memory the step holds all the same).

    PYTHONPATH=. python bench/step_memory.py --cpu [--repeats 5]

``--whole-batch``: the same two measures for a program declared over the batch (a symbolic N,
`codegen.numpy_whole_batch`): one SGD step of the batch-norm MLP of bench/tensor_step.py (``--layers``
hidden layers of ``--width``, batch ``--batch``, float32, one thread) against torch eager and the
hand-written NumPy step of bench/tensor_step.py.

    PYTHONPATH=. python bench/step_memory.py --whole-batch [--repeats 5] [--layers 10] [--width 512] [--batch 256]
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys

os.environ.pop("TRITON_INTERPRET", None)      # real @triton.jit kernels: launches are intercepted
os.environ.setdefault("SYMGRAD_TRITON_AUTOTUNE", "0")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpu_step import HIDDEN_LAYERS, N_IN, N_OUT, _torch_model, layer_shapes  # noqa: E402


def step_peak(fn) -> int:
    """Bytes: the peak, over one call of ``fn``, of what it allocated and has not freed."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted((e for e in prof.events() if e.cpu_memory_usage), key=lambda e: e.time_range.start)
    now = peak = 0
    for e in events:
        now += e.cpu_memory_usage
        peak = max(peak, now)
    return peak


def ours_peak(torch, width, X, Y, fuse_rows: int) -> int:
    import codegen.triton_backend as tb
    from codegen.torch_program import TorchProgram
    from codegen.triton_aot import Launches, benchmark_mlp
    from symgrad.compiling.compiler import specify
    tb.FUSE_ROWS = fuse_rows
    loss, params, inputs, adam = benchmark_mlp(width)
    spec = specify(loss, params, inputs, optimizer=adam)
    prog = TorchProgram(spec, tb.build(spec), device="cpu")
    params = [torch.randn(tuple(s)) * 0.1 for s in prog.param_shapes]
    slots = [torch.zeros_like(p) for _ in prog.slots for p in params]
    prog.compiled.step.__globals__["WORKSPACE"].clear()    # buffers an earlier measurement left
    with Launches(all_configs=False):
        # the first step allocates the step's buffers (kept for the next steps, which allocate nothing
        # but the returned loss): its peak is the step's footprint
        first = step_peak(lambda: prog.compiled.step(params, slots, 1, [X, Y], None))
        again = step_peak(lambda: prog.compiled.step(params, slots, 2, [X, Y], None))
    return max(first, again)


def eager_peak(torch, width, X, Y) -> int:
    params, loss_fn = _torch_model(torch, {k: torch.randn(s) * 0.1 for k, s in layer_shapes(width).items()})
    opt = torch.optim.Adam(params, lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(X, Y).backward()
        opt.step()
    step()
    step()
    return step_peak(step)


# -------------------------------------------------------------------------------------------------
# --cpu: the NumPy step against torch eager, one SGD step of 784-1024-1024-10 × 512

CPU_WIDTHS, CPU_BATCH = (784, 1024, 1024, 10), 512


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _rss_growth(step) -> float:
    """MiB: the peak resident memory during ``step()`` above the resident memory just before it."""
    import gc
    gc.collect()
    before = _rss_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:      # VmHWM := VmRSS (Linux 4.0+)
        f.write("5")
    step()
    return (_rss_kib("VmHWM") - before) / 1024


def _self_peak(fn) -> int:
    """Bytes: like `step_peak`, counting each allocation once — by the operator that made it (an
    operator's ``cpu_memory_usage`` includes its children's, so nested operators would count twice)."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted((e for e in prof.events() if e.self_cpu_memory_usage), key=lambda e: e.time_range.start)
    now = peak = 0
    for e in events:
        now += e.self_cpu_memory_usage
        peak = max(peak, now)
    return peak


def _cpu_measure(method: str) -> tuple:
    """In a fresh process: (RSS growth MiB, allocated peak MiB) of one step of ``method``."""
    import numpy as np
    from cpu_step import LR, data, hand_step, make_program, torch_step_fn
    _, prog = make_program(CPU_WIDTHS)
    X, T, labels, params = data(CPU_WIDTHS, CPU_BATCH)
    small = data(CPU_WIDTHS, 8, seed=1)
    n = len(CPU_WIDTHS) - 1
    if method == "torch":
        import torch
        torch.set_num_threads(1)
        torch_step_fn(CPU_WIDTHS, params, small[0], small[1], small[2])()     # warm-up
        step = torch_step_fn(CPU_WIDTHS, params, X, T, labels)
        del params
        rss = _rss_growth(step)
        return rss, _self_peak(step) / 2**20
    values = {k: v.copy() for k, v in params.items()}
    if method == "generated":
        state = prog.init_state(values)
        prog.step({k: v.copy() for k, v in values.items()}, prog.init_state(values), {"x": small[0], "t": small[1]})

        def step():
            prog.step(values, state, {"x": X, "t": T})
        return _measure(step, prog)
    else:
        Ws, bs = [values[f"W{k}"] for k in range(1, n + 1)], [values[f"b{k}"] for k in range(1, n + 1)]
        hand_step([w.copy() for w in Ws], [b.copy() for b in bs], small[0], small[1], LR)

        def step():
            hand_step(Ws, bs, X, T, LR)
    return _measure(step)


def _measure(step, prog=None) -> tuple:
    """(RSS growth, allocated peak) of one call of ``step``, in MiB; with ``prog`` (a NumPy program),
    the peak plus what its step's workspace keeps between calls."""
    rss = _rss_growth(step)
    import tracemalloc
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    if prog is not None:
        peak += sum(a.nbytes for ws in prog.compiled.step.__globals__.get("WORKSPACES", ()) for a in ws.values())
    return rss, peak / 2**20


def _run_and_print(flags: list, header: str, labels: tuple, repeats: int) -> None:
    """Each method measured in ``repeats`` fresh processes (``this script *flags METHOD``), in turns,
    so that load from other processes hits them alike; then the table of medians, RSS against torch's."""
    import platform
    import statistics
    import subprocess
    # A fixed mmap threshold: glibc then maps every buffer over 64 KiB on its own and unmaps it when
    # freed, for NumPy and torch alike, so RSS follows the live buffers (by default the threshold
    # grows with the first large free, and freed heap memory stays resident).
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               MALLOC_MMAP_THRESHOLD_="65536")
    results = {m: [] for m, _ in labels}
    for _ in range(repeats):
        for m in results:
            argv = [sys.executable, os.path.abspath(__file__), flags[0], m] + flags[1:]
            out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
            results[m].append(tuple(map(float, out.stdout.split())))
    import numpy
    import torch
    print(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{os.cpu_count()} cores, NumPy {numpy.__version__}, torch {torch.__version__}; {header}; MiB, "
          f"medians of {repeats} fresh processes")
    print("| method | RSS growth of one step | allocated peak of one step | RSS / torch eager's |")
    print("|---|---|---|---|")
    torch_rss = statistics.median(r for r, _ in results["torch"])
    for m, label in labels:
        rss = statistics.median(r for r, _ in results[m])
        alloc = statistics.median(a for _, a in results[m])
        print(f"| {label} | {rss:.1f} | {alloc:.1f} | {rss / torch_rss:.2f} |")
    print("all runs (RSS, allocated): " + "; ".join(
        f"{m}: " + ", ".join(f"({r:.1f}, {a:.1f})" for r, a in v) for m, v in results.items()))


def cpu_main(repeats: int) -> None:
    _run_and_print(["--cpu-measure"], f"MLP {'-'.join(map(str, CPU_WIDTHS))} x {CPU_BATCH}, relu, softmax "
                   f"cross-entropy, SGD, float32, one thread",
                   (("generated", "generated NumPy (Program.step)"), ("torch", "torch eager"),
                    ("hand", "hand-written NumPy")), repeats)


# -------------------------------------------------------------------------------------------------
# --whole-batch: a program declared over the batch (the BN-MLP of bench/tensor_step.py)


def _wb_measure(method: str, layers: int, width: int, batch: int) -> tuple:
    """In a fresh process: (RSS growth MiB, allocated peak MiB) of one step of ``method``."""
    import numpy as np
    import sympy as sp   # noqa: F401 - tensor_step's declaration
    from tensor_step import LR, declare, hand_step, init, torch_step_fn
    import symgrad as sg
    loss, params, inputs = declare(layers, width)
    rng = np.random.default_rng(0)
    start = init(params, rng)
    X = rng.standard_normal((batch, width)).astype(np.float32)
    Y = rng.integers(0, 10, batch)
    Xs, Ys = X[:8].copy(), Y[:8].copy()
    if method == "torch":
        import torch
        torch.set_num_threads(1)
        step_fn, _ = torch_step_fn(start, layers)
        step_fn(torch.tensor(Xs), torch.tensor(Ys))                 # warm-up
        Xt, Yt = torch.tensor(X), torch.tensor(Y)
        del start

        def step():
            step_fn(Xt, Yt)
        rss = _rss_growth(step)
        return rss, _self_peak(step) / 2**20
    if method == "generated":
        prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=LR), dtype="float32")
        values = start
        prog.step({k: v.copy() for k, v in values.items()}, None, {"x": Xs, "y": Ys.astype(np.float32)})
        state = prog.init_state(values)
        b = {"x": X, "y": Y.astype(np.float32)}

        def step():
            prog.step(values, state, b)
        return _measure(step, prog)
    else:
        hand_step({k: v.copy() for k, v in start.items()}, Xs, Ys, layers)

        def step():
            hand_step(start, X, Y, layers)
    return _measure(step)


def wb_main(repeats: int, layers: int, width: int, batch: int) -> None:
    _run_and_print(["--wb-measure", "--layers", str(layers), "--width", str(width), "--batch", str(batch)],
                   f"whole-batch BN-MLP {layers} x {width}, batch {batch}, cross-entropy, SGD, float32, one thread",
                   (("generated", "generated NumPy, whole-batch (Program.step)"), ("torch", "torch eager"),
                    ("hand", "hand-written NumPy (bench/tensor_step.py)")), repeats)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", default="32,64,128")
    ap.add_argument("--batches", default="14,16", help="log2 of the batch sizes")
    ap.add_argument("--cpu", action="store_true", help="the NumPy step against torch eager on the CPU")
    ap.add_argument("--repeats", type=int, default=5, help="fresh processes per method (--cpu)")
    ap.add_argument("--cpu-measure", choices=["generated", "torch", "hand"], help=argparse.SUPPRESS)
    ap.add_argument("--whole-batch", action="store_true",
                    help="a program declared over the batch (the BN-MLP of bench/tensor_step.py) against torch eager")
    ap.add_argument("--layers", type=int, default=10, help="hidden layers (--whole-batch)")
    ap.add_argument("--width", type=int, default=512, help="hidden width (--whole-batch)")
    ap.add_argument("--batch", type=int, default=256, help="batch size (--whole-batch)")
    ap.add_argument("--wb-measure", choices=["generated", "torch", "hand"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.wb_measure:
        print(*_wb_measure(args.wb_measure, args.layers, args.width, args.batch))
        return
    if args.whole_batch:
        wb_main(args.repeats, args.layers, args.width, args.batch)
        return
    if args.cpu_measure:
        print(*_cpu_measure(args.cpu_measure))
        return
    if args.cpu:
        cpu_main(args.repeats)
        return
    import torch
    torch.manual_seed(0)
    print(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, torch {torch.__version__}, "
          f"MLP {N_IN}-(w x {HIDDEN_LAYERS}, relu)-{N_OUT}, ½‖ŷ − y‖², Adam, float32; MiB a step allocates")
    print("| width | batch | ours, fused rows | ours, kernel/product | eager | fused/eager | kernel/product/eager |")
    print("|---|---|---|---|---|---|---|")
    for w in (int(v) for v in args.widths.split(",")):
        for b in (int(v) for v in args.batches.split(",")):
            B = 2 ** b
            X, Y = torch.randn(B, N_IN), torch.randn(B, N_OUT)
            fused, per, eager = ours_peak(torch, w, X, Y, 128), ours_peak(torch, w, X, Y, 0), eager_peak(torch, w, X, Y)
            print(f"| {w} | 2^{b} | {fused / 2**20:,.1f} | {per / 2**20:,.1f} | {eager / 2**20:,.1f} | "
                  f"{fused / eager:.2f} | {per / eager:.2f} |", flush=True)


if __name__ == "__main__":
    main()
