"""Python's float ** raises OverflowError where NumPy's gives inf: ((x+1)**100+1)**100 at x = 0.5 is
past 1.8e308. The check skips such points as it skips any where f is not finite, and where it meets
one it cannot skip says that float64 overflows and how to choose other points."""
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import SymgradError

x = sp.Symbol("x")
F = ((x + 1) ** 100 + 1) ** 100


def test_a_wrong_claim_of_an_overflowing_f_is_not_equal():
    # Before: OverflowError: (34, 'Numerical result out of range') out of sg.check
    r = sg.check(F, [x], [0])
    assert not r and r.counterexample is not None
    assert abs(float(r.counterexample.point["x"]) + 1) < 1     # where (x+1)**100 stays small


def test_the_right_claim_of_an_overflowing_f_is_equal():
    assert sg.check(F, [x], [sp.diff(F, x)])


def test_a_given_point_where_f_overflows_says_so():
    with pytest.raises(SymgradError, match="overflows float64 at x = 2"):
        sg.check(F, [x], [0], at={x: 2})


def test_a_claim_that_overflows_says_so():
    with pytest.raises(SymgradError, match=r"overflows float64 .*assumptions=.*at="):
        sg.check(x ** 2, [x], [((x + 10) ** 100 + 1) ** 100])
