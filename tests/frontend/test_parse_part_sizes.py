"""A text's intermediate values are bounded, not only its declared inputs (trust review, 2026-12-01
twelfth session): an outer product of a 10000-column (870 MB), a broadcast X * X.T (2.4 GB) and a
convolution's windows (6.7 GiB) were built from inputs within the 1,000,000-entry bound."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import UnsafeInputError
from symgrad.frontend.parse import MAX_PART, as_expr, parse_expr


def test_outer_product_of_a_long_column_is_refused():
    x = sp.MatrixSymbol("x", 10000, 1)
    for text in ("2*x + 1e-30*x*x.T*x", "2*x + 1e-30*x*(x.T*x)"):   # SymPy: one product, from the left
        with pytest.raises(UnsafeInputError) as info:
            parse_expr(text, symbols=[x], what="--claimed")
        msg = str(info.value)
        assert "'x*x.T'" in msg and "(10000, 10000)" in msg and f"{MAX_PART:,}" in msg


def test_broadcast_tensor_product_is_refused():
    X = sg.tensor("X", (10000, 1))
    with pytest.raises(UnsafeInputError, match=r"\(10000, 10000\), 100,000,000 entries"):
        parse_expr("2*X + 1e-30*sum(X * X.T)", symbols=[X])


def test_symbolic_size_counts_per_unit():
    N = sp.Symbol("N", integer=True, positive=True)
    Y = sg.tensor("Y", (N, 5000, 1))
    with pytest.raises(UnsafeInputError, match="per unit of a symbolic size"):
        parse_expr("sum(Y * Y.transpose(0, 2, 1))", symbols=[Y])


@pytest.mark.parametrize("text", ["sum(conv2d(X, W))", "sum(max_pool2d(X, 31, stride=1))"])
def test_convolution_and_pool_windows_are_refused(text):
    X, W = sg.tensor("X", (1, 1, 1000, 1000)), sg.tensor("W", (1, 1, 31, 31))
    with pytest.raises(UnsafeInputError) as info:
        parse_expr(text, symbols=[X, W])
    assert "the windows of" in str(info.value) and "(1, 1, 970, 970, 31, 31)" in str(info.value)


def test_values_within_the_bound_are_read_and_right():
    x = sp.MatrixSymbol("x", 3000, 1)                 # x*x.T: 9,000,000 entries, under the bound
    e = parse_expr("x*x.T*x", symbols=[x])
    v = np.linspace(-1, 1, 3000).reshape(-1, 1)
    np.testing.assert_allclose(sg.numeric(e, {x: v}), v * (v.T @ v).item(), rtol=1e-12)
    X, W = sg.tensor("X", (2, 3, 32, 32)), sg.tensor("W", (4, 3, 3, 3))
    assert parse_expr("sum(conv2d(X, W))", symbols=[X, W]) is not None


def test_the_python_api_is_not_bounded():
    x = sp.MatrixSymbol("x", 10000, 1)
    e = sp.Trace(x * x.T)                               # the user's own program: taken as given
    assert as_expr(e) == e
    with pytest.raises(UnsafeInputError):               # the same as text: bounded
        as_expr("Trace(x*x.T)", symbols=[x])
