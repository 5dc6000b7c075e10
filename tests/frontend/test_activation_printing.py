"""Activations printed by SymPy's code printers (lambdify) keep their precedence: a core fix found
by the calculus property test (x**sigmoid(x) printed as x**1/(1 + exp(-x)))."""
import math

import pytest
import sympy as sp

import symgrad as sg

x = sp.Symbol("x", real=True)


@pytest.mark.parametrize("modules", ["numpy", "mpmath", "math"])
@pytest.mark.parametrize("act, ref", [(sg.sigmoid, lambda v: 1 / (1 + math.exp(-v))),
                                      (sg.softplus, lambda v: math.log1p(math.exp(v)))])
def test_power_of_an_activation(modules, act, ref):
    f = sp.lambdify([x], x ** act(x) * 2, modules=modules)
    assert float(f(0.7)) == pytest.approx(0.7 ** ref(0.7) * 2, rel=1e-12)
