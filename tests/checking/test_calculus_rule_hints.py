"""A scalar formula's derivative with a calculus rule misapplied is named: the power rule on a
variable exponent (x·xˣ⁻¹ for d xˣ/dx), the power rule on an exponential (x·2ˣ⁻¹ for d 2ˣ/dx), the
product rule as a product of derivatives (2x·cos x for d(x² sin x)/dx). No hint fitted them before.
The right derivatives are sympy.diff's."""
from __future__ import annotations

import pytest
import sympy as sp

import symgrad as sg

from verdicts import wrong

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)
POSITIVE = {x: "positive"}


@pytest.mark.parametrize("f", [x ** x, 2 ** x, x ** 2 * sp.sin(x), y * x ** 3 * sp.sin(x)])
def test_sympys_derivative_is_equal(f):
    assert sg.check(f, x, sp.diff(f, x), assumptions=POSITIVE)


def test_the_power_rule_on_a_variable_exponent():
    r = wrong(sg.check(x ** x, x, x * x ** (x - 1), assumptions=POSITIVE), "power rule on a variable exponent")
    assert "x**x*log(x) is missing" in r.hint, r.hint


def test_the_power_rule_on_an_exponential():
    r = wrong(sg.check(2 ** x, x, x * 2 ** (x - 1)), "power rule on an exponential")
    assert str(sp.diff(2 ** x, x)) in r.hint, r.hint


def test_the_product_rule_as_a_product():
    r = wrong(sg.check(x ** 2 * sp.sin(x), x, 2 * x * sp.cos(x)), "product rule as a product")
    assert "(uv)′ = u′·v + u·v′" in r.hint, r.hint
    wrong(sg.check(y * x ** 3 * sp.sin(x), x, y * 3 * x ** 2 * sp.cos(x)), "product rule as a product")


def test_half_the_product_rule_stays_a_fan_out():
    wrong(sg.check(x * sp.sin(x), x, x * sp.cos(x)), "fan-out")
