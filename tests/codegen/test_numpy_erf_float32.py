"""The generated module's erf of a float32 array (codegen/numpy_erf_float32.py): two polynomials in
NumPy passes, within 2.5 units in the last place of float32 of the true erf (float64 SciPy and
math.erf are the oracles), NaN and infinities handled, no floating-point warnings, and float64
arrays still exact."""
import math

import numpy as np
import pytest

from codegen.printers.numpy_printer import NumpyPrinter

special = pytest.importorskip("scipy.special")


def _helper(scipy_erf=True):
    source = "\n".join(NumpyPrinter.HELPERS["erf"])
    if not scipy_erf:
        source = source.replace("from scipy.special import erf as _erf_vectorized", "raise ImportError")
    ns = {"numpy": np, "math": math, "DTYPE": np.float32}
    exec(compile(source, "<erf helper>", "exec"), ns)
    return ns


def _ulps(y, x):
    exact = special.erf(x.astype(np.float64))
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    return np.abs(y.astype(np.float64) - exact) / ulp


def test_float32_erf_within_2_5_ulp_on_a_dense_grid():
    x = np.concatenate([np.linspace(-6, 6, 2_000_001, dtype=np.float32),
                        np.float32(10) ** np.linspace(-30, 1, 20001, dtype=np.float32),
                        -np.float32(10) ** np.linspace(-30, 1, 20001, dtype=np.float32)])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = _helper()["erf"](x.reshape(-1, 7)).reshape(-1)
    assert y.dtype == np.float32
    err = _ulps(y, x)
    assert err.max() <= 2.5, (err.max(), x[err.argmax()])
    assert err.mean() < 0.3
    # around the seam between the two polynomials (|x| = 0.75) and math.erf as a second oracle
    seam = np.float32(0.75) + np.arange(-50, 50, dtype=np.float32) * np.spacing(np.float32(0.75))
    for v in np.concatenate([seam, -seam]):
        got = float(_helper()["erf"](np.array([v], np.float32))[0])
        assert abs(got - math.erf(float(v))) <= 2.5 * np.spacing(np.float32(abs(got)))


def test_float32_erf_special_values_without_warnings():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, 4.0, -4.0, 3e38, -3e38, 1e-45, -1e-45, 0.75, -0.75], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = _helper()["erf"](x)
    assert np.isnan(y[0])
    np.testing.assert_array_equal(y[1:8], [1, -1, 0, 1, -1, 1, -1])
    assert abs(y[8]) < 1e-44 and abs(y[9]) < 1e-44
    np.testing.assert_allclose(y[10:], [math.erf(0.75), -math.erf(0.75)], rtol=2e-7)


def test_float32_erf_needs_no_scipy():
    """Before: a float32 array without SciPy went through math.erf entry by entry (object arrays)."""
    ns = _helper(scipy_erf=False)
    assert ns["_erf_vectorized"] is None
    ns["_erf_entry"] = None          # the per-entry path is not taken for a float32 array
    x = np.linspace(-3, 3, 1001, dtype=np.float32).reshape(7, 11, 13)
    y = ns["erf"](x)
    assert y.shape == x.shape and y.dtype == np.float32
    assert _ulps(y, x).max() <= 2.5


def test_float64_and_scalars_stay_exact():
    ns = _helper()
    x = np.linspace(-5, 5, 1001)
    np.testing.assert_array_equal(ns["erf"](x), special.erf(x))
    assert ns["erf"](np.float32(0.3)) == np.float32(math.erf(np.float32(0.3)))


def test_float32_erf_of_a_strided_array_larger_than_a_block():
    """The helper works block by block over the flattened array: a transposed (non-contiguous) view
    of more entries than a block keeps its shape and each entry's place."""
    ns = _helper()
    x = np.linspace(-5, 5, 3 * ns["_ERF_BLOCK"] + 17, dtype=np.float32).reshape(-1, 1).repeat(2, 1).T[:, ::-1]
    y = ns["erf"](x)
    assert y.shape == x.shape and y.dtype == np.float32
    assert _ulps(y, x).max() <= 2.5
    np.testing.assert_array_equal(y[0], y[1])


@pytest.mark.parametrize("size", [1, 5, 16, 17, 40, 65536 + 33])
def test_float32_erf_below_the_seam_is_the_small_polynomial_alone(size):
    """Below |x| = 1 the tail term xs·(E(1) − E(t)) is 0 exactly (t clipped to 1, E(1) worked out by
    the same passes at import), at every place of an array of any length (NumPy's vector loops and
    their remainders): erf there is x·P(x²) in float32 bit for bit (Horner's rule written out here),
    within 2.5 ulp, its sign kept. (Fails with erfc(1) itself for E(1): E(1) differs from it by
    7e-8, P(1)'s error, so that P(1) + E(1) is 1.)"""
    ns = _helper()
    x = np.concatenate([np.float32(10) ** -np.linspace(0.01, 30, size, dtype=np.float32),
                        np.linspace(0.1, 0.999, size, dtype=np.float32)])
    x[::2] *= -1
    y = ns["erf"](x)
    P = [np.float32(c) for c in ns["_ERF_SMALL"]]
    s = x * x
    p = s * P[0]
    for c in P[1:-1]:
        p = (p + c) * s
    np.testing.assert_array_equal(y, (p + P[-1]) * x)
    assert _ulps(y, x).max() <= 2.5
    np.testing.assert_array_equal(np.signbit(y), np.signbit(x))


def _former_erf(ns, x):
    """The helper's formula before the sign moved to one product at the end, written out here in
    float32 passes: xs·P(xs²) + xs·(E(1) − E(t)), with E(t) = exp2(−t²·log₂e)·Q(2/(2 + t))."""
    f32 = np.float32
    t = np.clip(np.abs(x), f32(1), f32(4))
    e = np.exp2(t * f32(-1 / math.log(2)) * t)
    u = f32(2) / (t + f32(2))
    Q = [f32(c) for c in ns["_ERF_LARGE"]]
    q = u * Q[0]
    for c in Q[1:-1]:
        q = (q + c) * u
    tail = f32(ns["_ERFC_AT_1"]) - (q + Q[-1]) * e
    xs = np.clip(x, f32(-1), f32(1))
    P = [f32(c) for c in ns["_ERF_SMALL"]]
    s = xs * xs
    p = s * P[0]
    for c in P[1:-1]:
        p = (p + c) * s
    return (p + P[-1]) * xs + xs * tail


def test_float32_erf_with_one_sign_product_equals_the_former_formula_bit_for_bit():
    """Moving xs out of the tail term (one pass fewer) changes no float32 number: past the seam xs is
    ±1 and rounding is symmetric, below it the tail term is 0; −0.0, NaN and ±inf included."""
    ns = _helper()
    x = np.concatenate([np.linspace(-6, 6, 400_001, dtype=np.float32),
                        np.float32(10) ** np.linspace(-30, 1, 4001, dtype=np.float32),
                        -np.float32(10) ** np.linspace(-30, 1, 4001, dtype=np.float32),
                        np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0], np.float32)])
    with np.errstate(invalid="ignore"):
        former = _former_erf(ns, x)
    got = ns["erf"](x)
    np.testing.assert_array_equal(got, former)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(former))


def test_float32_erf_block_is_31_passes():
    """Each NumPy call of a block is a pass over its entries: the helper makes 31 (32 before the
    sign was one product at the end)."""
    ns = _helper()
    calls = []

    class Counting:
        """numpy, with each call of one of its functions noted."""

        def __getattr__(self, name):
            f = getattr(np, name)
            return (lambda *a, **k: (calls.append(name), f(*a, **k))[1]) if callable(f) else f

    x = np.linspace(-5, 5, 1000, dtype=np.float32)
    work = np.empty((3, x.size), np.float32)
    out = np.empty_like(x)
    ns["numpy"] = Counting()
    in_place = []

    class Tracked(np.ndarray):
        """An array that notes each in-place operator applied to it (a pass that is no call)."""

        def __iadd__(self, other):
            in_place.append("+=")
            return super().__iadd__(other)

        def __isub__(self, other):
            in_place.append("-=")
            return super().__isub__(other)

        def __imul__(self, other):
            in_place.append("*=")
            return super().__imul__(other)

    ns["_erf_block"](x, out.view(Tracked), *(w.view(Tracked) for w in work))
    assert len(calls) + len(in_place) == 31, (calls, in_place)
    ns["numpy"] = np
    np.testing.assert_array_equal(out, ns["erf"](x))
