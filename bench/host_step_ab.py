"""The host time of the Triton target's entry points, this tree against another, in one process.

    PYTHONPATH=. python bench/host_step_ab.py [OTHER] [--widths 64] [--batch 14] [--rounds 20]
        [--entries step,grad,loss,module,module.loss] [--labels] [--up-conv]

OTHER: another checkout (a directory), or a commit of this repository (default a10c142, the start
of the 2026-11-30 third session), exported with ``git archive`` into a temporary directory.

No GPU needed: both trees' programs run on CPU tensors with the kernels stubbed (each launch only
counted, its grid evaluated: bench/kernel_stub.py), as ``bench/gpu_step.py --host`` does, on the
benchmark's MLP (codegen.triton_aot.benchmark_mlp: input 32, three hidden layers, output 16,
½‖ŷ − y‖², Adam; compiled with ``outputs=[the network's output]`` for the module's forward). With
``--labels``: cross-entropy at an integer class label k instead, the labels an int64 tensor as
``torch.randint`` makes them (checked by the kernels in ``step``). The entry points timed:

    step          Program.step(values, state, batch)         (the training loop's call)
    grad          Program.grad(values, batch)
    loss          Program.loss(values, batch)                (reads the loss back: float)
    module        as_torch() module: out = module(x); out.backward(g)   (forward kernels + the VJP)
    module.loss   as_torch() module: module.loss(x, y).backward()       (the fused loss and gradients)

The other tree's ``symgrad`` and ``codegen`` are imported first, its programs compiled, and its
modules then moved aside so that this tree's import fresh; the two then take turns, ``--steps``
calls each per round, and the table prints the best round of each (this thread's CPU time, so the
time the machine's other processes take is not counted) with their ratio, the launches per call,
and the torch operations each dispatches per call (a dispatch mode's count: each would be a CUDA
activity or an allocation on a GPU; the module's include autograd's own). Turns in one process: the
ratio holds where the absolute times of a shared machine do not.
"""
from __future__ import annotations

import argparse
import atexit
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = ("symgrad", "codegen")
SESSION_START = "a10c142"
ENTRIES = ("step", "grad", "loss", "module", "module.loss")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_stub import stub_kernels  # noqa: E402


class Tree:
    """One tree's symgrad and codegen. ``with tree:`` puts its modules in sys.modules and its path
    first on sys.path (symgrad imports codegen lazily, when it compiles), taking the other's out."""

    def __init__(self, path: str):
        self.path, self.modules = path, {}
        with self:
            import codegen.torch_module  # noqa: F401
            import codegen.torch_program  # noqa: F401
            import codegen.triton_aot as aot
            import codegen.triton_backend as tb
            import symgrad as sg
        self.sg, self.tb, self.aot = sg, tb, aot

    def __enter__(self):
        for name in [n for n in sys.modules if n.split(".")[0] in OURS]:
            del sys.modules[name]
        sys.modules.update(self.modules)
        sys.path.insert(0, self.path)
        return self

    def __exit__(self, *exc):
        sys.path.remove(self.path)
        self.modules = {n: m for n, m in sys.modules.items() if n.split(".")[0] in OURS}


def checkout(other: str) -> str:
    """``other`` as a directory: itself, or the commit exported into a temporary one."""
    if os.path.isdir(other):
        path = os.path.abspath(other)
        if not os.path.isdir(os.path.join(path, "codegen")):
            sys.exit(f"{path} is not a symgrad tree (no codegen/ in it)")
        return path
    path = tempfile.mkdtemp(prefix="symgrad-ab-")
    atexit.register(shutil.rmtree, path, True)
    try:
        archive = subprocess.run(["git", "-C", HERE, "archive", other], check=True, capture_output=True).stdout
    except subprocess.CalledProcessError as e:
        sys.exit(f"{other!r} is neither a directory nor a commit of {HERE}: {e.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", path], input=archive, check=True)
    return path


def _up_conv_calls(tree: Tree, batch: int) -> dict:
    """{entry: (one call, [launches])} of the decoder's up-convolution (`triton_aot.digits_up_conv`:
    8×8 image, conv 3×3-4 stride 2, conv_transpose2d 2×2-4 stride 2, dense 10, int64 labels, Adam)
    compiled by ``tree``, kernels stubbed: step, grad and loss."""
    import torch
    sg, aot = tree.sg, tree.aot
    loss, params, inputs = aot.digits_up_conv()
    prog = sg.compile(loss, params, inputs, target="triton", optimizer=sg.optim.Adam(lr=aot.LR))
    launches = stub_kernels(prog)
    gen = torch.Generator().manual_seed(0)
    run = {"values": {p.name: torch.rand(tuple(int(d) for d in p.shape), generator=gen) for p in params},
           "state": prog.init_state(), "data": {"x": torch.rand(batch, 1, 8, 8, generator=gen),
                                                 "y": torch.randint(0, 10, (batch,), generator=gen)}}

    def step():
        run["values"], run["state"] = prog.step(run["values"], run["state"], run["data"])
    calls = {"step": step, "grad": lambda: prog.grad(run["values"], run["data"]),
             "loss": lambda: prog.loss(run["values"], run["data"])}
    for f in calls.values():
        for _ in range(3):
            f()
    return {k: (f, launches) for k, f in calls.items()}


def _calls(tree: Tree, width: int, fuse_rows: int, batch: int, labels: bool = False, up_conv: bool = False) -> dict:
    """{entry: (one call, [launches])} of the benchmark's MLP compiled by ``tree``, kernels stubbed
    (``up_conv``: of `_up_conv_calls`' decoder instead)."""
    import sympy as sp
    import torch
    if up_conv:
        return _up_conv_calls(tree, batch)
    sg, aot = tree.sg, tree.aot
    tree.tb.FUSE_ROWS = fuse_rows
    net = sg.mlp([aot.N_IN] + [width] * aot.HIDDEN_LAYERS + [aot.N_OUT], act=sg.relu)
    y = sp.Symbol("y") if labels else sp.MatrixSymbol("y", aot.N_OUT, 1)
    adam = sg.optim.Adam(lr=aot.LR, betas=aot.BETAS, eps=aot.EPS)
    loss = sg.cross_entropy(net.output, y) if labels else sg.mse(net.output, y)
    prog = sg.compile(loss, net.params, [net.input, y], target="triton", optimizer=adam,
                      outputs=[net.output])
    launches = stub_kernels(prog)
    gen = torch.Generator().manual_seed(0)
    X, Y = torch.randn(batch, aot.N_IN, generator=gen), torch.randn(batch, aot.N_OUT, generator=gen)
    if labels:          # class labels as torch makes them: int64
        Y = torch.randint(0, aot.N_OUT, (batch,), generator=gen)
    G = torch.randn(batch, aot.N_OUT, generator=gen)
    run = {"values": {p.name: torch.rand(p.shape, generator=gen) for p in net.params},
           "state": prog.init_state(), "data": {"x": X, "y": Y}}
    module = prog.as_torch()
    vspec, vjp = module._kernel("vjp")          # the VJP's generated module: its kernels stubbed too
    stub_kernels(prog, launches, vjp.__globals__)

    def step():
        run["values"], run["state"] = prog.step(run["values"], run["state"], run["data"])

    def backward_of_outputs():
        module(X).backward(G)

    def backward_of_loss():
        module.loss(X, Y).backward()
    calls = {"step": step, "grad": lambda: prog.grad(run["values"], run["data"]),
             "loss": lambda: prog.loss(run["values"], run["data"]),
             "module": backward_of_outputs, "module.loss": backward_of_loss}
    for f in calls.values():
        for _ in range(3):          # the first calls make the buffers (and the step's count)
            f()
    return {k: (f, launches) for k, f in calls.items()}


def _ops_per_call(call, n: int = 3) -> float:
    from torch.utils._python_dispatch import TorchDispatchMode

    class Ops(TorchDispatchMode):
        count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            Ops.count += 1
            return func(*args, **(kwargs or {}))
    with Ops():
        for _ in range(n):
            call()
    return Ops.count / n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("other", nargs="?", default=SESSION_START,
                    help=f"the other tree: a directory, or a commit of this repository (default {SESSION_START})")
    ap.add_argument("--widths", default="64", help="hidden widths, e.g. 32,64,128")
    ap.add_argument("--batch", type=int, default=14, help="log2 of the batch size")
    ap.add_argument("--rounds", type=int, default=20, help="turns of each program")
    ap.add_argument("--steps", type=int, default=20, help="calls per turn")
    ap.add_argument("--entries", default=",".join(ENTRIES), help=f"entry points, of {', '.join(ENTRIES)}")
    ap.add_argument("--labels", action="store_true",
                    help="cross-entropy at int64 class labels (torch.randint) instead of mse")
    ap.add_argument("--up-conv", action="store_true",
                    help="the decoder's up-convolution (codegen.triton_aot.digits_up_conv) instead of the MLP: "
                         "step, grad and loss")
    args = ap.parse_args(argv)
    if args.up_conv and args.entries == ",".join(ENTRIES):
        args.entries = "step,grad,loss"
    entries = [e for e in args.entries.split(",") if e]
    unknown = [e for e in entries if e not in ENTRIES]
    if unknown:
        sys.exit(f"unknown entry points {unknown}; the entry points are {', '.join(ENTRIES)}")
    os.environ.setdefault("TRITON_INTERPRET", "1")      # triton without a GPU; no kernel runs
    other = checkout(args.other)
    trees = {"other": Tree(other), "this": Tree(HERE)}
    batch = 2 ** args.batch
    print(f"# Host time of the Triton target's entry points, kernels stubbed (CPU, "
          f"{datetime.date.today().isoformat()}): this tree against {args.other}; batch 2^{args.batch}"
          f"{', int64 class labels' if args.labels else ''}, best of "
          f"{args.rounds} turns of {args.steps} calls, CPU time\n")
    print("| width | schedule | entry | launches/call | torch ops/call, other → this | host µs/call, other | this "
          "| other/this |")
    print("|---|---|---|---|---|---|---|---|")
    for w in (int(x) for x in args.widths.split(",")):
        for label, fuse in ((("up-conv", 0),) if args.up_conv else (("fused rows", 128), ("kernel/product", 0))):
            calls = {}
            for k, tree in trees.items():
                with tree:
                    calls[k] = _calls(tree, w, fuse, batch, args.labels, args.up_conv)
            for entry in entries:
                best = {k: float("inf") for k in calls}
                launches = {}
                for k, c in calls.items():
                    f, counter = c[entry]
                    with trees[k]:
                        counter[0] = 0
                        f()
                        launches[k] = counter[0]
                for _ in range(args.rounds):
                    for k, c in calls.items():
                        f = c[entry][0]
                        with trees[k]:
                            t0 = time.thread_time()
                            for _ in range(args.steps):
                                f()
                            best[k] = min(best[k], (time.thread_time() - t0) / args.steps * 1e6)
                ops = {}
                for k, c in calls.items():
                    with trees[k]:
                        ops[k] = _ops_per_call(c[entry][0])
                moved = f"{launches['other']} → {launches['this']}" if launches["other"] != launches["this"] \
                    else f"{launches['this']}"
                print(f"| {w} | {label} | {entry} | {moved} | {ops['other']:g} → {ops['this']:g} | "
                      f"{best['other']:.0f} | {best['this']:.0f} | {best['other'] / best['this']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
