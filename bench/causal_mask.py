"""An attention's causal mask as the generated NumPy code writes it now, row by row
(``for row in range(T - 1): s[..., row, row + 1:] = -numpy.inf``, `codegen.numpy_causal_mask`),
against the masked copy written before 2026-12-01
(``numpy.copyto(s, -numpy.inf, where=numpy.logical_not(numpy.greater(m, 0)))``, m the (T, T) lower
triangle of ones), in one process, in turns.

    PYTHONPATH=. python bench/causal_mask.py [--rounds 101] [--wall]

The scores are (N, H, T, T) float32; the shapes are bench/transformer_step.py's (32, 4, 64, 64) and a
few around it. Printed: each form's median time and the median of the per-round ratios rows / copyto
(below 1: the rows are quicker; each round runs the two in a shuffled order,
`statement_timer.interleaved_rounds`). Before timing, the two give the same array bit for bit. Timed
by this thread's CPU time (time.thread_time) unless ``--wall``: the machine these were measured on is
shared.
"""
from __future__ import annotations

import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # bench/, also when loaded from its path
from statement_timer import interleaved_rounds, median_ratio, rounds_and_clock  # noqa: E402

SHAPES = [(32, 4, 64, 64), (8, 4, 16, 16), (8, 8, 128, 128), (2, 4, 512, 512)]


def main(argv=None):
    args, clock = rounds_and_clock(__doc__, argv)
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        T = shape[-1]
        s = rng.standard_normal(shape).astype(np.float32)
        m = np.tril(np.full((T, T), 1.0, dtype=np.float32), 0)

        def copyto():
            np.copyto(s, -np.inf, where=np.logical_not(np.greater(m, 0)))

        def rows():
            for row in range(T - 1):
                s[..., row, row + 1:] = -np.inf

        a, b = s.copy(), s.copy()
        np.copyto(a, -np.inf, where=np.logical_not(np.greater(m, 0)))
        for row in range(T - 1):
            b[..., row, row + 1:] = -np.inf
        assert a.tobytes() == b.tobytes(), shape
        times = interleaved_rounds({"copyto": copyto, "rows": rows}, args.rounds, clock)
        ratio = median_ratio(times, "rows", "copyto")
        print(f"  {str(shape):20} copyto {statistics.median(times['copyto']) * 1e3:7.3f} ms  "
              f"rows {statistics.median(times['rows']) * 1e3:7.3f} ms  rows / copyto {ratio:.3f}")


if __name__ == "__main__":
    main()
