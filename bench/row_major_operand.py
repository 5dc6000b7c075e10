"""An attention's batched products with a column-major right operand, as the NumPy step wrote them
before 2026-12-01, against the operand copied row-major first (`codegen/numpy_row_major.py`).

    PYTHONPATH=. python bench/row_major_operand.py [--rounds 101] [--shapes 32,4,64,32 8,8,128,64 ...]

For each shape (N, H, T, Dh): K, (N·T, H·Dh) in memory, read as ``k.reshape((N, T, H, Dh)).transpose((0,
2, 3, 1))``, multiplied by Q's heads ``q.reshape(…).transpose((0, 2, 1, 3))`` (the scores Q·Kᵀ,
(N, H, T, T)), timed by this thread's CPU time, in turns, float32, one thread (BLAS too). Printed:
the medians (ms) of the product reading the transposed view, of the copy alone, of copy + product, and
the median per-round ratio copy + product / view (below 1: the copy pays), and whether the two
products' numbers are the same bit for bit (BLAS may sum in another order for another layout).
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse      # noqa: E402
import datetime      # noqa: E402
import platform      # noqa: E402
import statistics    # noqa: E402
import sys           # noqa: E402
import time          # noqa: E402

import numpy as np   # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from statement_timer import interleaved_rounds, median_ratio  # noqa: E402


def runs(N: int, H: int, T: int, Dh: int) -> dict:
    rng = np.random.default_rng(0)
    q = rng.standard_normal((N * T, H * Dh)).astype(np.float32)
    k = rng.standard_normal((N * T, H * Dh)).astype(np.float32)
    qh = q.reshape((N, T, H, Dh)).transpose((0, 2, 1, 3))
    kt = k.reshape((N, T, H, Dh)).transpose((0, 2, 3, 1))
    out = np.empty((N, H, T, T), np.float32)
    buf = np.empty((N, H, Dh, T), np.float32)

    def copied():
        buf[...] = kt
        return np.matmul(qh, buf, out=out)

    a = np.matmul(qh, kt)
    b = copied()
    same = "bit for bit" if a.tobytes() == b.tobytes() else \
        f"max |difference| {np.max(np.abs(a - b)) / np.max(np.abs(a)):.1e} of the largest entry"
    return same, {"view": lambda: np.matmul(qh, kt, out=out), "copy": lambda: buf.__setitem__(Ellipsis, kt),
            "copy + product": copied}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=101)
    ap.add_argument("--shapes", nargs="+", default=["32,4,64,32", "8,4,16,8", "8,8,128,64", "2,4,512,64",
                                                    "16,12,64,64"])
    args = ap.parse_args(argv)
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"numpy {np.__version__}, float32, one thread, CPU time, {args.rounds} rounds")
    for sh in args.shapes:
        N, H, T, Dh = (int(s) for s in sh.split(","))
        same, fs = runs(N, H, T, Dh)
        times = interleaved_rounds(fs, args.rounds, time.thread_time)
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        print(f"(N, H, T, Dh) = ({N}, {H}, {T}, {Dh}): " + " | ".join(f"{k} {v:.3f} ms" for k, v in med.items())
              + f" | copy + product / view = {median_ratio(times, 'copy + product', 'view'):.3f} ({same})")


if __name__ == "__main__":
    main()
