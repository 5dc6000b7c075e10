"""Minor page faults and CPU time of the generated NumPy transformer step run alone in a process (no
torch step in between, as in a NumPy-only training loop).

    PYTHONPATH=. python bench/step_page_faults.py [--steps 15] [--torch] [--checkout DIR] [--network bn-mlp|cnn]
    GLIBC_TUNABLES=glibc.malloc.trim_threshold=4000000000:glibc.malloc.mmap_threshold=4000000000 \\
        PYTHONPATH=. python bench/step_page_faults.py

The network and shapes are bench/transformer_step.py's defaults (2 layers, T = 64, D = 128, N = 32,
SGD, float32, one thread). Printed: the minor page faults a step (getrusage's ru_minflt over
``--steps`` steps after 3) and the median CPU time of a step (time.thread_time). glibc hands the
big arrays of a step back to the kernel when they are freed (mmap above its threshold, trimming
of the heap's top), and the next step's arrays are mapped and zeroed again, page by page; the
second command (malloc keeping its memory) shows what that costs. Two processes: compare their
numbers as indications, run each more than once. ``--torch`` takes torch eager's step instead (the
same network, weights and batch, bench/transformer_step.py's twin), alone in its process as a
torch training loop runs; ``--checkout DIR``: the step that another checkout's symgrad generates;
``--network bn-mlp``: bench/tensor_step.py's batch-norm MLP instead of the transformer, with
``--program`` through `Program.step` of the symgrad on PYTHONPATH (argument handling included);
``--network cnn``: bench/cnn_step.py's digits CNN (batch 64; without torch in the process, as a NumPy
training loop runs it, not as cnn_step.py times it).
Since the step keeps its large arrays in a workspace (codegen/numpy_workspace.py) it has no page
faults of its own.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse      # noqa: E402
import resource      # noqa: E402
import statistics    # noqa: E402
import sys           # noqa: E402
import time          # noqa: E402

import numpy as np   # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import transformer_step as ts  # noqa: E402
from other_checkout import first_and_next_step  # noqa: E402


def _transformer_step(args):
    """The transformer's step (module docstring), and what it is."""
    ex = ts._example()
    V, T, D, H, L, N = 64, 64, 128, 4, 2, 32
    loss, _, params, inputs = ex.gpt(V, T, D, H, L)
    start = ts.start_values(ex, params)
    rng = np.random.default_rng(0)
    batch = [rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))]
    if args.torch:
        import torch
        ids, targets = (torch.tensor(b) for b in batch)
        torch_step = ts.torch_step_fn(start, V, T, D, H, L)
        return (lambda: torch_step(ids, targets)), "torch eager's transformer step"
    step, _ = first_and_next_step(ts.module_source(args.checkout, V, T, D, H, L), start, params, batch)
    return step, f"NumPy transformer step of {os.path.abspath(args.checkout)}"


def _bn_mlp_step(args):
    """bench/tensor_step.py's batch-norm MLP (10 × 512, batch 256, SGD, float32): its step, and what it is."""
    import tensor_step as bn
    layers, width, n = 10, 512, 256
    loss, params, inputs = bn.declare(layers, width)
    rng = np.random.default_rng(0)
    start = bn.init(params, rng)
    x = rng.standard_normal((n, width)).astype(np.float32)
    y = rng.integers(0, 10, n)
    if args.torch:
        import torch
        torch.set_num_threads(1)
        torch_step, _ = bn.torch_step_fn(start, layers)
        xt, yt = torch.tensor(x), torch.tensor(y)
        return (lambda: torch_step(xt, yt)), "torch eager's batch-norm MLP step"
    if args.program:
        import symgrad as sg
        prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=bn.LR), dtype="float32")
        values = {k: v.copy() for k, v in start.items()}
        state, b = prog.init_state(values), {"x": x, "y": y.astype(np.float32)}
        where = os.path.dirname(os.path.dirname(os.path.abspath(sg.__file__)))
        return (lambda: prog.step(values, state, b)), f"Program.step of the batch-norm MLP, symgrad of {where}"
    step, _ = bn.module_step(bn.module_source(args.checkout, layers, width), start, params,
                             {"x": x, "y": y.astype(np.float32)})
    return step, f"NumPy batch-norm MLP step of {os.path.abspath(args.checkout)}"


def _cnn_step(args):
    """bench/cnn_step.py's digits CNN (batch 64, SGD, float32): its step, and what it is."""
    import cnn_step as cnn
    _, loss, params, inputs = cnn.lenet()
    start = cnn.init(params)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (cnn.B, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, cnn.B)
    if args.torch:
        import torch
        torch.set_num_threads(1)
        return cnn.torch_step_fn(start, x, y.astype(np.int64)), "torch eager's digits CNN step"
    step, _ = first_and_next_step(cnn.module_source(args.checkout), start, params, [x, y.astype(np.float32)])
    return step, f"NumPy digits CNN step of {os.path.abspath(args.checkout)}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--torch", action="store_true", help="torch eager's step instead of the generated one")
    ap.add_argument("--checkout", metavar="DIR", default=os.path.join(HERE, ".."),
                    help="the symgrad checkout whose generated step is taken")
    ap.add_argument("--network", choices=("transformer", "bn-mlp", "cnn"), default="transformer",
                    help="bn-mlp: bench/tensor_step.py's batch-norm MLP (10 x 512, batch 256); "
                         "cnn: bench/cnn_step.py's digits CNN (batch 64)")
    ap.add_argument("--program", action="store_true",
                    help="(bn-mlp) Program.step of the symgrad this process imports (PYTHONPATH), as a user calls it")
    args = ap.parse_args(argv)
    step, what = {"bn-mlp": _bn_mlp_step, "cnn": _cnn_step, "transformer": _transformer_step}[args.network](args)
    for _ in range(3):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    cpu = []
    for _ in range(args.steps):
        t = time.thread_time()
        step()
        cpu.append(time.thread_time() - t)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    print(f"malloc: {os.environ.get('GLIBC_TUNABLES', 'glibc defaults')}; load average {os.getloadavg()[0]:.1f}")
    print(f"{what}, alone: {faults / args.steps:.0f} minor page faults a step, "
          f"{statistics.median(cpu) * 1e3:.1f} ms of CPU (median of {args.steps})")


if __name__ == "__main__":
    main()
