"""Filling a convolution's im2col buffer (N, *O, *K, C), 3 × 3 kernel, padding 1, two ways, in turns
in one process: the per-offset slice copies (one clipped slice copy per kernel offset, as the
generated step did before the twelfth session of 2026-12-01) and the one copy of the windows (x placed
channel-last once into a zero-bordered buffer, then its sliding_window_view copied at once;
`codegen.printers.numpy_conv._windows_at_once`). Before every timed fill a 16 MB array is written,
so the caches are as cold as in a training step between two convolutions.

    PYTHONPATH=. python bench/im2col_copy.py [--rounds 101] [--wall]

Printed per shape (N, C, S, and whether x is laid out (N, C, S, S) or channel-last as the
convolutions' outputs are): the median time of each and the median of the per-round ratios.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import sys           # noqa: E402
import statistics    # noqa: E402

import numpy as np   # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from statement_timer import interleaved_rounds, median_ratio, rounds_and_clock  # noqa: E402

SWV = np.lib.stride_tricks.sliding_window_view
SHAPES = [(64, 16, 4, False), (64, 16, 4, True), (128, 16, 8, False), (128, 16, 8, True), (64, 1, 28, False), (64, 16, 14, False),
          (64, 16, 14, True), (256, 3, 32, False), (32, 64, 16, True)]


def fills(N: int, C: int, S: int, channel_last: bool):
    x = np.random.default_rng(0).normal(size=(N, C, S, S)).astype(np.float32)
    if channel_last:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    cols = np.zeros((N, S, S, 3, 3, C), np.float32)
    pad = np.zeros((N, S + 2, S + 2, C), np.float32)
    offsets = ((0, slice(1, S), slice(0, S - 1)), (1, slice(0, S), slice(0, S)), (2, slice(0, S - 1), slice(1, S)))
    cold = np.zeros(4_000_000, np.float32)

    def per_offset():
        cold.fill(1.0)
        for k0, o0, i0 in offsets:
            for k1, o1, i1 in offsets:
                cols[:, o0, o1, k0, k1, :] = x[:, :, i0, i1].transpose((0, 2, 3, 1))

    def one_copy():
        cold.fill(1.0)
        pad[:, 1:S + 1, 1:S + 1, :] = x.transpose((0, 2, 3, 1))
        cols[...] = SWV(pad, (3, 3), axis=(1, 2)).transpose((0, 1, 2, 4, 5, 3))

    def cold_only():
        cold.fill(1.0)

    per_offset()
    want = cols.copy()
    cols[...] = 0
    one_copy()
    assert np.array_equal(cols, want)
    return {"per_offset": per_offset, "one_copy": one_copy, "cold_only": cold_only}


def main(argv=None):
    a, clock = rounds_and_clock(__doc__, argv)
    print(f"{'N':>4} {'C':>3} {'S':>3} {'x laid out':>12} {'per-offset ms':>14} {'one copy ms':>12} {'one / per-offset':>17}")
    for N, C, S, last in SHAPES:
        times = interleaved_rounds(fills(N, C, S, last), a.rounds, clock)
        base = statistics.median(times["cold_only"])
        times = {k: [t - c for t, c in zip(v, times["cold_only"])] for k, v in times.items() if k != "cold_only"}
        print(f"{N:>4} {C:>3} {S:>3} {'(N, S, S, C)' if last else '(N, C, S, S)':>12} "
              f"{statistics.median(times['per_offset']) * 1e3:>14.3f} {statistics.median(times['one_copy']) * 1e3:>12.3f} "
              f"{median_ratio(times, 'one_copy', 'per_offset'):>17.2f}")
    print(f"(the 16 MB write before each fill, {base * 1e3:.3f} ms, taken off)")


if __name__ == "__main__":
    main()
