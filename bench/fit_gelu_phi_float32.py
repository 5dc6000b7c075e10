"""Fits the coefficients of GELU's float32 Φ helper (codegen/numpy_gelu_phi.py) and measures the helper
with them over a dense grid against SciPy's float64 Φ (special.ndtr), in units of 2⁻²⁴ (the spacing of
float32 numbers in [1/2, 1)): an absolute error, as Φ = 0.5·erf(x/√2) + 0.5 has.

    PYTHONPATH=. python bench/fit_gelu_phi_float32.py [--degree 6]

Φ(x) = 1/(1 + e^(−h(x))) with h = log Φ(x) − log Φ(−x), odd; the helper computes e^(−h) as
exp2(x·R(min(x², 36))), R a polynomial in s = x² fitted to −log₂(e)·h(x)/x on x in (0, 6]. The error
of Φ from an error δR is Φ(1 − Φ)·ln 2·x·δR: the fit weights by that (Lawson's iteration: weighted
least squares reweighted towards the largest error, towards the minimax fit). Past |x| = 6 the
helper keeps R(36) (x² clipped): h grows linearly there, Φ still goes to 0 and 1, and its error is
below 1e-9. The coefficients are rounded to float32. Printed: the tuple for the module, the fit's
own largest error, and the helper's largest error over the grid. Needs SciPy.
"""
from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np
from scipy import special

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from codegen.numpy_gelu_phi import CLIP, helper_lines  # noqa: E402
from codegen.printers.numpy_printer import NumpyPrinter  # noqa: E402
from fit_erf_float32 import lawson  # noqa: E402  (the weighted minimax iteration, as erf's fit)

ULP = 2.0 ** -24


def fit(degree: int) -> tuple:
    x = np.linspace(1e-3, math.sqrt(CLIP), 20000)
    h = special.log_ndtr(x) - special.log_ndtr(-x)
    phi = special.ndtr(x)
    c, err = lawson(np.vander(x * x, degree + 1), -h / x / math.log(2), phi * (1 - phi) * math.log(2) * x,
                    iterations=200)
    return tuple(float(np.float32(v)) for v in c), err


def helper(coefficients):
    ns = {"numpy": np, "math": math, "DTYPE": np.float32}
    src = NumpyPrinter.HELPERS["erf"] + ["", ""] + helper_lines(coefficients)
    exec(compile("import threading\n" + "\n".join(src), "<helpers>", "exec"), ns)
    return ns["gelu_phi"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--degree", type=int, default=6)
    args = ap.parse_args(argv)
    coefficients, err = fit(args.degree)
    print("_PHI_R =", repr(coefficients))
    print(f"fit: largest error of Φ {err:.2e} ({err / ULP:.2f} × 2⁻²⁴), float64")
    x = np.concatenate([np.linspace(-12, 12, 4_000_001), np.random.default_rng(0).normal(0, 3, 1_000_000)])
    x = x.astype(np.float32)
    got = helper(coefficients)(x).astype(np.float64)
    err = np.abs(got - special.ndtr(x.astype(np.float64)))
    print(f"helper, float32: largest error {err.max() / ULP:.2f} × 2⁻²⁴ at x = {x[err.argmax()]}, "
          f"mean {err.mean() / ULP:.3f} × 2⁻²⁴")


if __name__ == "__main__":
    main()
