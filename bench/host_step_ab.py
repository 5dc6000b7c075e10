"""The host time of ``Program.step`` on the Triton target, this tree against another, in one process.

    git worktree add /tmp/before <commit>     # or: git archive <commit> | tar -x -C /tmp/before
    PYTHONPATH=. python bench/host_step_ab.py /tmp/before [--widths 64] [--batch 14] [--rounds 20]

No GPU needed: both trees' programs run ``Program.step`` on CPU tensors with the kernels stubbed
(each launch only counted), as ``bench/gpu_step.py --host`` does, on the benchmark's MLP
(codegen.triton_aot.benchmark_mlp: input 32, three hidden layers, output 16, ½‖ŷ − y‖², Adam). The
other tree's ``symgrad`` and ``codegen`` are imported first, its programs compiled, and its modules
then moved aside so that this tree's import fresh; the two programs then take turns, ``--steps``
steps each per round, and the table prints the best round of each (this thread's CPU time, so the
time the machine's other processes take is not counted) with their ratio, and the torch operations
each dispatches per step (a dispatch mode's count: each would be a CUDA activity or an allocation on
a GPU). Turns in one process: the ratio holds where the absolute times of a shared machine do not.
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = ("symgrad", "codegen")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_stub import stub_kernels  # noqa: E402


class Tree:
    """One tree's symgrad and codegen. ``with tree:`` puts its modules in sys.modules and its path
    first on sys.path (symgrad imports codegen lazily, when it compiles), taking the other's out."""

    def __init__(self, path: str):
        self.path, self.modules = path, {}
        with self:
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


def _program(tree: Tree, width: int, fuse_rows: int, batch: int):
    """(one step, launches counter) of ``Program.step`` of the benchmark's MLP, kernels stubbed."""
    import torch
    tree.tb.FUSE_ROWS = fuse_rows
    loss, net_params, inputs, adam = tree.aot.benchmark_mlp(width)
    prog = tree.sg.compile(loss, net_params, inputs, target="triton", optimizer=adam)
    launches = stub_kernels(prog)
    gen = torch.Generator().manual_seed(0)
    run = {"values": {p.name: torch.rand(p.shape, generator=gen) for p in net_params},
           "state": prog.init_state(),
           "data": {"x": torch.randn(batch, tree.aot.N_IN, generator=gen),
                    "y": torch.randn(batch, tree.aot.N_OUT, generator=gen)}}

    def step():
        run["values"], run["state"] = prog.step(run["values"], run["state"], run["data"])
    for _ in range(3):          # the first steps make the buffers
        step()
    launches[0] = 0
    return step, launches


def _ops_per_step(step, n: int = 3) -> float:
    from torch.utils._python_dispatch import TorchDispatchMode

    class Ops(TorchDispatchMode):
        count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            Ops.count += 1
            return func(*args, **(kwargs or {}))
    with Ops():
        for _ in range(n):
            step()
    return Ops.count / n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("other", help="the other tree (a checkout of an earlier commit)")
    ap.add_argument("--widths", default="64", help="hidden widths, e.g. 32,64,128")
    ap.add_argument("--batch", type=int, default=14, help="log2 of the batch size")
    ap.add_argument("--rounds", type=int, default=20, help="turns of each program")
    ap.add_argument("--steps", type=int, default=20, help="steps per turn")
    args = ap.parse_args(argv)
    os.environ.setdefault("TRITON_INTERPRET", "1")      # triton without a GPU; no kernel runs
    other = os.path.abspath(args.other)
    if not os.path.isdir(os.path.join(other, "codegen")):
        sys.exit(f"{other} is not a symgrad tree (no codegen/ in it)")
    trees = {"other": Tree(other), "this": Tree(HERE)}
    batch = 2 ** args.batch
    print(f"# Host time of Program.step, kernels stubbed (CPU, {datetime.date.today().isoformat()}): this "
          f"tree against {other}; batch 2^{args.batch}, best of {args.rounds} turns of {args.steps} steps, "
          f"CPU time\n")
    print("| width | schedule | launches/step | torch ops/step, other → this | host µs/step, other | this "
          "| other/this |")
    print("|---|---|---|---|---|---|---|")
    for w in (int(x) for x in args.widths.split(",")):
        for label, fuse in (("fused rows", 128), ("kernel/product", 0)):
            progs = {}
            for k, tree in trees.items():
                with tree:
                    progs[k] = _program(tree, w, fuse, batch)
            best = {k: float("inf") for k in progs}
            for _ in range(args.rounds):
                for k, (step, _) in progs.items():
                    with trees[k]:
                        t0 = time.thread_time()
                        for _ in range(args.steps):
                            step()
                        best[k] = min(best[k], (time.thread_time() - t0) / args.steps * 1e6)
            launches = {k: c[0] / (args.rounds * args.steps) for k, (_, c) in progs.items()}
            ops = {}
            for k, (step, _) in progs.items():
                with trees[k]:
                    ops[k] = _ops_per_step(step)
            print(f"| {w} | {label} | {launches['this']:g} | {ops['other']:g} → {ops['this']:g} | "
                  f"{best['other']:.0f} | {best['this']:.0f} | {best['other'] / best['this']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
