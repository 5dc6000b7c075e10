"""The NumPy printer's function table: each stable form equals the function's elementary definition
(evaluated by mpmath) over a range of arguments, and the structural forms print as NumPy code."""
import mpmath
import numpy as np
import pytest
import sympy as sp

from codegen.printers.numpy_printer import NumpyPrinter, is_boolean
from symgrad.frontend.functions import leaky_relu, relu, sigmoid, softplus

a = sp.Symbol("a", real=True)
b = sp.Symbol("b", real=True)
P = NumpyPrinter()


def _fn(expr, *syms, scipy=True):
    """The printed expression as a function, in a namespace with the module helpers it calls
    (``sigmoid``: SciPy's expit, or the NumPy form without SciPy)."""
    printer = NumpyPrinter()
    src = printer.doprint(expr)
    helpers = "\n".join(printer.helper_source())
    if not scipy:                                   # as on a machine without SciPy
        helpers = helpers.replace("from scipy.special import expit as _expit_vectorized", "raise ImportError")
    ns = {"numpy": np, "DTYPE": np.float64}
    exec(helpers, ns)
    return eval(f"lambda {', '.join(s.name for s in syms)}: {src}", ns)


@pytest.mark.parametrize("f, ref", [
    (sigmoid, lambda x: 1 / (1 + mpmath.exp(-x))),
    (softplus, lambda x: mpmath.log(1 + mpmath.exp(x))),
    (relu, lambda x: max(x, 0)),
    (lambda x: leaky_relu(x, sp.Rational(1, 10)), lambda x: x if x >= 0 else x / 10),
], ids=["sigmoid", "softplus", "relu", "leaky_relu"])
@pytest.mark.parametrize("scipy", [True, False], ids=["scipy", "numpy_only"])
def test_table_forms_equal_the_definitions(f, ref, scipy):
    g = _fn(f(a + b), a, b, scipy=scipy)            # a sum as the argument: checks the parentheses
    for x in (-700.0, -20.0, -1.5, -1e-8, 0.0, 1e-8, 2.0, 30.0, 700.0):
        with mpmath.workdps(50):
            want = float(ref(mpmath.mpf(x)))
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            got = g(np.float64(x), np.float64(0.0))
        assert abs(got - want) <= 1e-13 * abs(want) + 1e-300, (f, x, got, want)


def test_structural_forms():
    m = P.doprint(sp.Max(a, b, 0))
    assert m.count("numpy.maximum(") == 2 and "amax" not in m
    assert P.doprint(sp.Heaviside(a, 1)) == "(a >= 0)"
    assert P.doprint(sp.Heaviside(a, 0)) == "(a > 0)"
    assert P.doprint(1 / a) == "1/a"
    assert "numpy.sqrt" in P.doprint(sp.sqrt(a + b))
    assert P.doprint(sp.Rational(1, 4) * a) in ("0.25*a", "(0.25)*a")
    assert is_boolean(sp.Heaviside(a, 1)) and not is_boolean(a * sp.Heaviside(a, 1))


def test_symbols_print_verbatim_and_nothing_else_leaks():
    """The schedule names leaves with code such as ``p0.T``; the printer must keep them as atoms."""
    leaf = sp.Symbol("p0.T", real=True)
    assert P.doprint(-leaf + 1) in ("1 - p0.T", "-p0.T + 1")
    assert P.doprint(sigmoid(-leaf)) == "sigmoid(-p0.T)"


def test_a_helper_added_after_printing_is_printed_by_that_printer_only():
    """`NumpyPrinter.use_helper`, the one way the whole-batch writer adds the workspace's and
    gelu_phi's helpers: printed into that module's helpers, never into the table every printer shares."""
    mine, other = NumpyPrinter(), NumpyPrinter()
    mine.use_helper("twice", ["def twice(x):", "    return 2 * x"])
    ns = {"numpy": np}
    exec("\n".join(mine.helper_source()), ns)
    assert ns["twice"](21) == 42
    assert "twice" not in NumpyPrinter.HELPERS and "twice" not in other.HELPERS
    assert other.helper_source() == []


@pytest.mark.parametrize("expr, printed", [
    (sp.Rational(1, 128) * a + sp.Float(1e-5), "0.0078125*a + 1e-05"),
    (sp.Rational(1, 64) * a / b, "0.015625*a/b"),
    (-sp.Rational(1, 128) * a / b ** sp.Rational(3, 2), "-0.0078125*a/b**1.5"),
    (a ** sp.Rational(1, 3), "a**0.3333333333333333"),
    (a ** sp.Rational(-1, 3), "a**(-0.3333333333333333)"),
    (sp.Rational(1, 2) * sp.erf(sp.Rational(1, 2) * sp.sqrt(2) * a) + sp.Rational(1, 2),
     "0.5*erf(0.5*1.4142135623730951*a) + 0.5"),
])
def test_positive_rationals_print_as_plain_float_literals(expr, printed):
    """A positive rational is one float literal, no parentheses around it (2026-12-01: the
    printer wrote (0.0078125)*a + 1e-05, SymPy's precedence of p/q); the value is SymPy's."""
    assert P.doprint(expr) == printed
    import math
    ns = {"a": 1.7, "b": 0.3, "erf": math.erf, "numpy": np}
    assert eval(printed, ns) == pytest.approx(float(expr.subs({a: 1.7, b: 0.3})), rel=1e-15)
