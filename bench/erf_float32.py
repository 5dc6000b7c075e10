"""The generated module's float32 erf helper (codegen/numpy_erf_float32.py) alone, against torch.erf and
another checkout's helper, in one process, by CPU time and by the wall clock.

    PYTHONPATH=. python bench/erf_float32.py [--shape 32 64 512] [--rounds 40] [--baseline DIR]

Timed in turns each round, over GELU's erf of a transformer layer ((N, T, 4D) float32, values of a
layer's pre-activations: standard normal × 1.5): this checkout's helper over the whole array; the
same helper's blocks one after another on data already in the cache (one block's entries, as many
times as the array has blocks: what the whole array would take if reading it from memory and
writing a new array cost nothing); torch.erf (one thread); with ``--baseline DIR``, the helper of
another checkout. Printed: medians of the CPU time (time.thread_time: what the call itself used,
not the time the machine gave to other processes meanwhile) and of the wall clock, and the median
per-round ratio to this checkout's helper.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse      # noqa: E402
import datetime      # noqa: E402
import importlib.util  # noqa: E402
import math          # noqa: E402
import statistics    # noqa: E402
import time          # noqa: E402

import numpy as np   # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def helper(checkout: str) -> dict:
    """The namespace of the erf helper as ``checkout``'s codegen/numpy_erf_float32.py prints it."""
    path = os.path.join(checkout, "codegen", "numpy_erf_float32.py")
    spec = importlib.util.spec_from_file_location("erf_helper", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ns = {"numpy": np, "math": math}
    exec(compile("import threading\n" + "\n".join(mod.HELPER_LINES), f"<erf helper of {checkout}>", "exec"), ns)
    return ns


def cached_blocks(ns: dict, x: np.ndarray):
    """One block of x worked out as many times as x has blocks, its data and output in the cache."""
    block = ns["_ERF_BLOCK"]
    flat = x.reshape(-1)[:block]
    out = np.empty_like(flat)
    ns["_erf_float32"](flat)                       # the per-thread scratch arrays made
    count = -(-x.size // block)

    work = [w[:flat.size] for w in ns["_erf_scratch"].work]

    def run():
        for _ in range(count):
            ns["_erf_block"](flat, out, *work)
    return run


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, nargs="+", default=[32, 64, 512])
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--baseline", metavar="DIR", help="also time another checkout's helper")
    args = ap.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    x = (np.random.default_rng(0).standard_normal(args.shape) * 1.5).astype(np.float32)
    tx = torch.from_numpy(x)
    ours = helper(os.path.join(HERE, ".."))
    runs = {"helper": lambda: ours["_erf_float32"](x),
            "helper, blocks on cached data": cached_blocks(ours, x),
            "torch.erf": lambda: torch.erf(tx)}
    if args.baseline:
        theirs = helper(args.baseline)
        runs["baseline's helper"] = lambda: theirs["_erf_float32"](x)
    cpu = {k: [] for k in runs}
    wall = {k: [] for k in runs}
    for _ in range(args.rounds):
        for k, f in runs.items():
            c, w = time.thread_time(), time.perf_counter()
            f()
            cpu[k].append(time.thread_time() - c)
            wall[k].append(time.perf_counter() - w)
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, numpy {np.__version__}, "
          f"torch {torch.__version__}, load average {os.getloadavg()[0]:.1f}; erf over {tuple(args.shape)} "
          f"float32, {args.rounds} rounds")
    for k in runs:
        r_cpu = statistics.median(a / b for a, b in zip(cpu[k], cpu["helper"]))
        r_wall = statistics.median(a / b for a, b in zip(wall[k], wall["helper"]))
        print(f"  {k:30s} CPU {statistics.median(cpu[k]) * 1e3:6.2f} ms  "
              f"wall {statistics.median(wall[k]) * 1e3:6.2f} ms   / helper: CPU {r_cpu:.2f}, wall {r_wall:.2f}")


if __name__ == "__main__":
    main()
