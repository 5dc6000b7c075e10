"""Fits the coefficients of the float32 erf helper (codegen/numpy_erf_float32.py) and measures the
helper with them over a dense grid, in units in the last place of float32 against SciPy's float64 erf.

    PYTHONPATH=. python bench/fit_erf_float32.py

P (degree 5 in x²) is fitted to erf(x)/x on [0, 1], relative error; Q (degree 4 in u = 2/(2 + t)) to
e^(t²)·erfc(t) on [1, 4], error weighted by e^(−t²) (the error of erfc itself). Each fit is a least
squares fit on Chebyshev points reweighted towards its largest errors (Lawson's iteration: it tends
to the minimax fit). The coefficients are rounded to float32; then Q's are scaled by 1 + k·2e-9 for
the k that brings P(1) + E(1) — the two branches' sum past the seam, erf(1) + erfc(1) — closest to 1
as the helper computes them in float32, so that the branch past the seam has no constant offset.
Printed: the two tuples for the module, and the helper's largest and mean error over the grid.
Needs SciPy (special.erf, special.erfcx).
"""
from __future__ import annotations

import math
import os
import sys

import numpy as np
from scipy import special

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from codegen.numpy_erf_float32 import SEAM, LARGEST, helper_lines  # noqa: E402


def lawson(basis, f, weight, iterations=400):
    """Coefficients c with max |weight·(basis @ c − f)| small: weighted least squares whose weights
    grow where the error is largest."""
    w = np.full(len(f), 1 / len(f))
    for _ in range(iterations):
        root = np.sqrt(w) * weight
        c = np.linalg.lstsq(basis * root[:, None], f * root, rcond=None)[0]
        err = np.abs(weight * (basis @ c - f))
        w = w * err
        w /= w.sum()
    return c, err.max()


def chebyshev_points(a, b, n=4000):
    k = np.arange(n)
    return (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (k + 0.5) / n)


def helper(small, large):
    ns = {"numpy": np, "math": math}
    exec(compile("import threading\n" + "\n".join(helper_lines(small, large)), "<erf helper>", "exec"), ns)
    return ns


def grid():
    return np.concatenate([np.linspace(-6, 6, 2_000_001, dtype=np.float32),
                           np.float32(10) ** np.linspace(-30, 1, 20001, dtype=np.float32),
                           -np.float32(10) ** np.linspace(-30, 1, 20001, dtype=np.float32)])


def ulps(y, x):
    exact = special.erf(x.astype(np.float64))
    return np.abs(y.astype(np.float64) - exact) / np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)


def main():
    x = chebyshev_points(1e-4, SEAM)
    f = special.erf(x) / x
    p, p_err = lawson(np.vander(x * x, 6), f, 1 / f)
    t = chebyshev_points(SEAM, LARGEST)
    q, q_err = lawson(np.vander(2 / (2 + t), 5), special.erfcx(t), np.exp(-t * t))
    small = tuple(float(np.float32(c)) for c in p)
    at_seam = float(helper(small, tuple(float(np.float32(c)) for c in q))["_erf_float32"](
        np.full(16, SEAM, np.float32))[0])                      # P(1), the tail term being 0 there
    best = None
    for k in range(-400, 401):
        large = tuple(float(np.float32(c * (1 + k * 2e-9))) for c in q)
        offset = at_seam + float(helper(small, large)["_ERFC_AT_1"]) - 1
        if best is None or abs(offset) < abs(best[0]):
            best = (offset, large)
    offset, large = best
    print(f"P: largest relative error {p_err:.2g}; Q: largest error of erfc {q_err:.2g}; "
          f"P(1) + E(1) − 1 = {offset:.2g}")
    print(f"ERF_SMALL = {small!r}")
    print(f"ERF_LARGE = {large!r}")
    xs = grid()
    err = ulps(helper(small, large)["_erf_float32"](xs), xs)
    print(f"helper over {xs.size} points in [-6, 6] and ±[1e-30, 10]: largest error {err.max():.3f} ulp "
          f"at {xs[err.argmax()]!r}, mean {err.mean():.3f}")


if __name__ == "__main__":
    main()
