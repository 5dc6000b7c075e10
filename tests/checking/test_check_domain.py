"""`sg.check` outside f's real domain: a fractional power of a negative number, a square root or log
of one, a pole. Random points avoid them; a point given with ``at=`` outside the domain is an error
naming the part that is not finite there; a claim not finite where the gradient is says which part of
it; and no NumPy RuntimeWarning (nor Python's complex result or ZeroDivisionError) reaches the user."""
import warnings

import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import SymgradError

x, y = sp.symbols("x y", real=True)
THIRD = sp.Rational(1, 3)


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_a_cube_root_is_checked_inside_its_domain():
    # (−x)**(1/3) at a negative N(0, 1) draw was complex, and float() of it a TypeError
    assert sg.check(x**THIRD, x, THIRD * x**(-2 * THIRD))
    r = sg.check(x**THIRD, x, x**(-2 * THIRD))                  # the 1/3 left out
    assert not r and r.counterexample.point["x"] > 0


def test_the_real_cube_root_is_checked_on_both_sides():
    # sign(x)·|x|^(1/3): d/dx = |x|^(−2/3)/3 on both sides (the textbook derivative); the probe of
    # sign's kink at x = 0 divided a Python 0.0 and raised ZeroDivisionError
    f, claim = sp.sign(x) * sp.Abs(x)**THIRD, THIRD * sp.Abs(x)**(-2 * THIRD)
    assert sg.check(f, x, claim)
    assert sg.check(f, x, claim, at={x: -8})
    assert sg.check(sp.real_root(x, 3), x, claim)


@pytest.mark.parametrize("f, v, words", [
    (sp.sqrt(x), -1, ["f is not finite at x = -1", "sqrt(x) is nan (outside its real domain)"]),
    (sp.log(x) + y, -1, ["log(x) is nan"]),
    (x**THIRD, -8, ["x**(1/3) is nan", "principal root", "sign(x)*Abs(x)**(1/3)"]),
    (1 / x, 0, ["1/x is infinite"]),
    (sp.sqrt(x), 0, ["f is finite at x = 0 but its gradient is not", "no derivative there"]),
])
def test_a_given_point_outside_the_domain_names_the_part(f, v, words):
    at = {x: v, y: 0.5} if f.has(y) else {x: v}
    with pytest.raises(SymgradError, match="outside f's domain") as e:
        sg.check(f, x, sg.grad(f, x), at=at)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_a_value_given_outside_the_domain_while_others_are_drawn():
    with pytest.raises(SymgradError, match="could not find a point") as e:
        sg.check(y * x**THIRD, y, x**THIRD, at={x: -8})
    assert "x**(1/3) is nan" in str(e.value) and "x = -8" in str(e.value)


def test_a_claim_outside_its_domain_says_which_part():
    # ∂x²/∂x = 2x everywhere; the claim sqrt(x) is nan for x < 0, where the gradient is finite
    r = sg.check(x**2, x, sp.sqrt(x))
    assert not r
    cx = r.counterexample
    assert cx.point["x"] < 0 and cx.true == pytest.approx(2 * cx.point["x"])
    assert cx.why == "sqrt(x) is nan (outside its real domain)"
    assert "the claimed ∂f/∂x is not finite, sqrt(x) is nan" in str(r)


@pytest.mark.parametrize("f, v, want", [(sp.sqrt(x), -1.0, "nan"), (x**THIRD, -8.0, "nan"),
                                        (1 / x, 0.0, "inf"), (sp.log(x), 0.0, "-inf")])
def test_values_outside_the_real_domain_are_nan_or_inf_quietly(f, v, want):
    # the evaluator behind check and sg.numeric: (−8.0)**(1/3) was complex (a TypeError), 1/0.0 a
    # ZeroDivisionError, sqrt(−1) a RuntimeWarning
    got = sg.numeric(f, {x: v})
    assert str(float(got)) == want
