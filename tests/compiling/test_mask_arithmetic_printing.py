"""Masks (Heaviside, KroneckerDelta) print as boolean arrays; in a sum or negated they must count as
numbers of the program's dtype: NumPy refuses −mask and mask − mask, reads mask + mask as "or", and
makes 1 − mask an int64 array (a float32 gradient would turn float64). The printed expressions are
evaluated and compared with the same expressions evaluated with exact 0/1 steps."""
import numpy as np
import pytest
import sympy as sp

from codegen.printers.numpy_printer import NumpyPrinter

a, b, g = sp.symbols("v1 v2 v3")
H = sp.Heaviside
CASES = [
    1 - H(a, 1) * H(b, 1),                # the gradient of clip's upper bound
    -H(a, 1) * H(b, 1),
    H(a, 1) + H(b, 1),                    # "or" if printed as two boolean arrays
    H(a, 1) - H(b, 0),
    g * (H(a, 1) + H(b, 0)),
    -H(a, 1),
    g - H(a, 1) * H(b, 1),
    g * (1 - H(a - b, 1)) * H(b, 1),      # the gradient of clip's lower bound
    H(a, 1) + sp.KroneckerDelta(a, b),
    -g * H(a, 1),                         # a negated product with a mask among its factors
    -H(a, 1) * sp.KroneckerDelta(a, b) * g,
    3 * H(a, 1),                          # a number times masks alone: int64 (float64 with 1/2)
    g + 2 * H(a, 1) * H(b, 1),
    H(a, 1) / 2 + g,
    g * (2 * H(a, 1) - 1),
]


def _exact(e):
    """The expression with each step as 0/1 numbers: Heaviside(z, h) is h at 0."""
    def step(z, h=sp.S.Half):
        return sp.Piecewise((h, sp.Eq(z, 0)), (1, z > 0), (0, True))
    return e.replace(H, step).replace(sp.KroneckerDelta, lambda i, j: sp.Piecewise((1, sp.Eq(i, j)), (0, True)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("e", CASES, ids=str)
def test_mask_arithmetic_prints_numbers_of_the_dtype(e, dtype):
    code = NumpyPrinter().doprint(e)
    env = {"numpy": np, "DTYPE": dtype, "v1": np.array([-1.0, 0.0, 1.0, 2.0], dtype),
           "v2": np.array([1.0, -1.0, 0.0, 2.0], dtype), "v3": np.array([0.5, 2.0, 3.0, 4.0], dtype)}
    got = eval(compile(code, "<printed>", "eval"), env)       # noqa: S307 - the printer's own output
    want = sp.lambdify((a, b, g), _exact(e), "numpy")(env["v1"], env["v2"], env["v3"])
    np.testing.assert_array_equal(got, np.broadcast_to(want, (4,)), err_msg=code)
    assert np.asarray(got).dtype == dtype, code


def test_a_lone_mask_stays_boolean():
    """Where no arithmetic needs a number, the mask stays a boolean array (a quarter of the bytes)."""
    assert NumpyPrinter().doprint(H(a, 1)) == "(v1 >= 0)"
    assert NumpyPrinter().doprint(g * H(a, 1)) == "v3*(v1 >= 0)"
