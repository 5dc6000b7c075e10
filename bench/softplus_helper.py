"""softplus over an array, two ways, in turns in one process: the generated module's helper
``softplus(x)`` (max(x, 0) + log1p(exp(−|x|)) in NumPy's vectorized exp and log1p loops over one
temporary; `codegen.printers.numpy_printer.NumpyPrinter.HELPERS`) against ``numpy.logaddexp(0, x)``,
the form it replaced (the same formula, entry by entry through the C library). The helper's code is
taken from the printer's table, so this times what the compiler writes.

    PYTHONPATH=. python bench/softplus_helper.py [--rounds 101] [--wall]

Printed per shape and dtype: the median time of each and the median of the per-round ratios
helper / logaddexp (the docstring's "9 times faster at (128, 256) float32": a ratio of about 0.11).
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import statistics    # noqa: E402
import sys           # noqa: E402

import numpy as np   # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from statement_timer import interleaved_rounds, median_ratio, rounds_and_clock  # noqa: E402

from codegen.printers.numpy_printer import NumpyPrinter  # noqa: E402

SHAPES = [(128, 256), (64, 16), (256, 1024)]


def helper():
    ns = {"numpy": np}
    exec("\n".join(NumpyPrinter.HELPERS["softplus"]), ns)
    return ns["softplus"]


def main(argv=None):
    a, clock = rounds_and_clock(__doc__, argv)
    softplus = helper()
    print(f"{'shape':>12} {'dtype':>8} {'helper ms':>10} {'logaddexp ms':>13} {'helper / logaddexp':>19}")
    for shape in SHAPES:
        for dtype in (np.float32, np.float64):
            x = (np.random.default_rng(0).normal(size=shape) * 8).astype(dtype)
            assert np.allclose(softplus(x), np.logaddexp(0, x), rtol=8 * np.finfo(dtype).eps)
            times = interleaved_rounds({"helper": lambda: softplus(x), "logaddexp": lambda: np.logaddexp(0, x)},
                                       a.rounds, clock)
            print(f"{str(shape):>12} {np.dtype(dtype).name:>8} {statistics.median(times['helper']) * 1e3:>10.3f} "
                  f"{statistics.median(times['logaddexp']) * 1e3:>13.3f} {median_ratio(times, 'helper', 'logaddexp'):>19.2f}")


if __name__ == "__main__":
    main()
