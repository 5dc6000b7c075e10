"""The float32 erf helper of the generated NumPy module (codegen/numpy_erf_float32.py) at the special
values, against scipy.special.erf: erf(−0.0) is −0.0, NaN gives NaN and ±inf ±1, with no warning
and no error under np.errstate(over=, invalid=, divide="raise")."""
import math
import warnings

import numpy as np
import pytest

from codegen.printers.numpy_printer import NumpyPrinter

special = pytest.importorskip("scipy.special")


def _erf():
    ns = {"numpy": np, "math": math, "DTYPE": np.float32}
    exec(compile("\n".join(NumpyPrinter.HELPERS["erf"]), "<erf helper>", "exec"), ns)
    return ns["erf"]


SPECIAL = np.array([-0.0, 0.0, np.nan, -np.nan, np.inf, -np.inf, -1e-45, 1e-45, -0.75, 0.75, -4.0, 4.0],
                   np.float32)


@pytest.mark.parametrize("size", [len(SPECIAL), 1000, 70_001])     # short, SIMD-long, past a block
def test_special_values_as_scipy_gives_them_signed_zeros_included(size):
    """Before: erf(−0.0) was +0.0 (the two branches were added: (−0.0) + (+0.0) is +0.0)."""
    x = np.resize(SPECIAL, size)
    want = special.erf(x)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        got = _erf()(x)
    assert got.dtype == np.float32
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)
    exact = np.isin(np.abs(x), [0, np.inf, 4]) & ~nan
    np.testing.assert_array_equal(got[exact], want[exact])          # 0, ±1 exactly
    np.testing.assert_array_equal(np.signbit(got[~nan]), np.signbit(want[~nan]))   # −0.0 too
    close = ~nan & ~exact
    assert np.all(np.abs(got[close] - want[close]) <= 2.5 * np.spacing(np.abs(want[close])))


def test_negative_zero_in_a_larger_array_and_in_a_strided_view():
    x = np.linspace(-1, 1, 2001, dtype=np.float32)
    x[1000] = -0.0
    y = _erf()(x[::-1][::3])
    assert np.array_equal(np.signbit(y), np.signbit(special.erf(x[::-1][::3])))
    assert np.signbit(_erf()(np.array([[-0.0, 0.0]], np.float32))).tolist() == [[True, False]]
