"""GELU's Φ(x) = 0.5·erf(x/√2) + 0.5 of a float32 (32, 64, 512) array: the generated module's
``gelu_phi`` (codegen/numpy_gelu_phi.py: since 2026-11-30's tenth session 1/(1 + exp2(x·R(x²))),
18 passes a block; before, erf's 31 and three around it on erf's blocks) against the four statements
the step printed before that helper (three passes over the whole array around erf), in one process,
in turns, by this thread's CPU time.

    PYTHONPATH=. python bench/gelu_phi.py [--rounds 101] [--shape 32,64,512]

Printed: the median time of each and the median with the quartiles of the per-round ratios
gelu_phi / four statements (below 1: gelu_phi is faster). The two results are checked first: within
3.5·2⁻²⁴ of each other (the helper is within 2.5·2⁻²⁴ of the true Φ, tests/codegen/test_numpy_gelu_phi.py;
the four statements within about 1.1·2⁻²⁴, bench/fit_gelu_phi_float32.py's grid).
"""
from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from codegen.numpy_gelu_phi import HELPER_LINES
from codegen.printers.numpy_printer import NumpyPrinter


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=101)
    ap.add_argument("--shape", default="32,64,512")
    args = ap.parse_args(argv)
    ns = {"numpy": np, "math": math, "DTYPE": np.float32}
    exec("\n".join(NumpyPrinter.HELPERS["erf"] + ["", ""] + HELPER_LINES), ns)
    erf, phi = ns["erf"], ns["gelu_phi"]
    shape = tuple(int(d) for d in args.shape.split(","))
    x = (np.random.default_rng(0).standard_normal(shape) * 2).astype(np.float32)
    before, after = np.empty_like(x), np.empty_like(x)

    def four_statements():
        v = np.multiply(0.5 * 1.4142135623730951, x, out=before)
        erf(v, out=v)
        v *= 0.5
        v += 0.5

    def helper():
        phi(x, out=after)

    four_statements()
    helper()
    assert np.abs(before.astype(np.float64) - after).max() <= 3.5 * 2.0 ** -24
    times = {"four statements": [], "gelu_phi": []}
    for _ in range(args.rounds):
        for name, f in (("four statements", four_statements), ("gelu_phi", helper)):
            t = time.thread_time()
            f()
            times[name].append(time.thread_time() - t)
    r = sorted(a / b for a, b in zip(times["gelu_phi"], times["four statements"]))
    q = len(r) // 4
    print(f"Φ of float32 {shape}, {args.rounds} rounds, CPU time of this thread: " + " | ".join(
        f"{k} {statistics.median(v) * 1e3:.3f} ms" for k, v in times.items()))
    print(f"gelu_phi / four statements = {statistics.median(r):.3f} (quartiles {r[q]:.3f}, {r[-q - 1]:.3f})")


if __name__ == "__main__":
    main()
