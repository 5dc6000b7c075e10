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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", default="32,64,128")
    ap.add_argument("--batches", default="14,16", help="log2 of the batch sizes")
    args = ap.parse_args(argv)
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
