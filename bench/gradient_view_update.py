"""Two statements of the generated NumPy step, before and after the session "2026-12-01, eleventh
session", timed in the same process by this thread's CPU time (a loaded machine's other processes
not counted), in turns:

- a convolution kernel's SGD update from its gradient, which the backward pass makes in another
  axis order: copied first (``g = numpy.array(v.transpose((1, 0, 2, 3)), dtype=DTYPE); p -= g``)
  or read as the view (``g = v.transpose((1, 0, 2, 3)); p -= g``), kernels (C, C, 3, 3);
- the mean's seed in a cross-entropy's backward pass: filled into an (N,) array and multiplied in
  by rows (``v48 = numpy.array(numpy.broadcast_to(v46, (N,)), dtype=DTYPE); v56 *= v48.reshape((N,
  1))``), or one number of DTYPE (``v48 = DTYPE(v46); v56 *= v48``), softmax (N, 10).

    PYTHONPATH=. python bench/gradient_view_update.py [--repeat 7]

Printed: microseconds a statement pair (the best of ``--repeat`` runs) and the ratio after / before.
The whole step's change is below what bench/cnn_step.py --baseline resolves (a step is ~1.4 ms).
"""
from __future__ import annotations

import argparse
import os
import time
import timeit

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

DTYPE = np.float32


def kernel_update(c: int, repeat: int) -> tuple:
    rng = np.random.default_rng(0)
    ns = {"numpy": np, "DTYPE": DTYPE, "v": rng.random((3, 3, c, c), dtype=DTYPE).transpose(2, 3, 0, 1),
          "p": rng.random((c, c, 3, 3), dtype=DTYPE)}
    # (numpy.subtract(p, g, out=p) is p -= g: timeit's function would make p a local name)
    before = "g = numpy.array(v.transpose((1, 0, 2, 3)), dtype=DTYPE); numpy.subtract(p, g, out=p)"
    after = "g = v.transpose((1, 0, 2, 3)); numpy.subtract(p, g, out=p)"
    return _pair(ns, before, after, max(20, 200000 // (c * c)), repeat)


def mean_seed(n: int, repeat: int) -> tuple:
    ns = {"numpy": np, "DTYPE": DTYPE, "v46": 0.01 / n, "v56": np.random.default_rng(0).random((n, 10), dtype=DTYPE)}
    before = (f"v48 = numpy.array(numpy.broadcast_to(v46, ({n},)), dtype=DTYPE); "
              f"numpy.multiply(v56, v48.reshape(({n}, 1)), out=v56)")
    after = "v48 = DTYPE(v46); numpy.multiply(v56, v48, out=v56)"
    return _pair(ns, before, after, 20000, repeat)


def _pair(ns: dict, before: str, after: str, number: int, repeat: int) -> tuple:
    """(before, after) in seconds a run of the statement, the best of ``repeat``, in turns."""
    best = {before: float("inf"), after: float("inf")}
    for _ in range(repeat):
        for stmt in (before, after):
            t = timeit.timeit(stmt, globals=ns, number=number, timer=time.thread_time) / number
            best[stmt] = min(best[stmt], t)
    return best[before], best[after]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    print(f"numpy {np.__version__}, float32, CPU time of this thread, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for c in (16, 32, 64, 256):
        b, a = kernel_update(c, args.repeat)
        print(f"kernel ({c}, {c}, 3, 3): copy + update {b * 1e6:.1f} us, view + update {a * 1e6:.1f} us, "
              f"after / before {a / b:.2f}")
    for n in (64, 512):
        b, a = mean_seed(n, args.repeat)
        print(f"mean's seed, N = {n}: (N,) array {b * 1e6:.2f} us, one number {a * 1e6:.2f} us, after / before {a / b:.2f}")


if __name__ == "__main__":
    main()
