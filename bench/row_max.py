"""The max of each row, the shift of a softmax or log-sum-exp, as the generated NumPy code writes it now
(``numpy.fmax.reduce(z, axis=k, keepdims=True)``, `codegen.printers.numpy_tensor.row_max`) against
``z.max(k, keepdims=True)``, written before 2026-12-01, in one process, in turns.

    PYTHONPATH=. python bench/row_max.py [--rounds 101] [--wall]

The shapes are those of bench/transformer_step.py's step (the attention's scores (32, 4, 64, 64),
the logits (32, 64, 64)) and of bench/cpu_step.py's MLPs (a batch of 256 rows of 10, 1000 classes),
with a third of the entries −inf (a causal mask's). Printed: each form's median time and the median of
the per-round ratios fmax / max (below 1: fmax is quicker; each round runs the two in a shuffled order,
`statement_timer.interleaved_rounds`). Before timing, the two give the same array bit for bit. By
default each call is timed by this thread's CPU time (time.thread_time): the machine these were
measured on is shared; ``--wall`` for the wall clock.
"""
from __future__ import annotations

import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # bench/, also when loaded from its path
from statement_timer import interleaved_rounds, median_ratio, rounds_and_clock  # noqa: E402

SHAPES = {"attention scores (32, 4, 64, 64), axis 3": ((32, 4, 64, 64), 3),
          "logits (32, 64, 64), axis 2": ((32, 64, 64), 2),
          "MLP logits (256, 10), axis 1": ((256, 10), 1),
          "(256, 1000), axis 1": ((256, 1000), 1)}


def main(argv=None):
    args, clock = rounds_and_clock(__doc__, argv)
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        for label, (shape, axis) in SHAPES.items():
            z = rng.standard_normal(shape).astype(dtype)
            z[..., ::3] = -np.inf
            forms = {"max": lambda: z.max(axis, keepdims=True),
                     "fmax": lambda: np.fmax.reduce(z, axis=axis, keepdims=True)}
            a, b = forms["max"](), forms["fmax"]()
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), label
            times = interleaved_rounds(forms, args.rounds, clock)
            ratio = median_ratio(times, "fmax", "max")
            print(f"  {np.dtype(dtype).name:8} {label:42} max {statistics.median(times['max']) * 1e3:7.3f} ms"
                  f"  fmax {statistics.median(times['fmax']) * 1e3:7.3f} ms  fmax / max {ratio:.3f}")


if __name__ == "__main__":
    main()
