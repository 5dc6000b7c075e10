"""A claim that is None — passed as None, or returned as None by a claim function (a missing return
statement) — is a SymgradError saying so; it was an AttributeError ('NoneType' object has no attribute
'free_symbols'), or "nan claimed" for a function."""
from __future__ import annotations

import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import SymgradError

x, y = sp.symbols("x y", real=True)


@pytest.mark.parametrize("claim", [None, [None]], ids=["None", "[None]"])
def test_a_none_claim_says_so(claim):
    with pytest.raises(SymgradError, match="the claimed gradient( for x)? is None"):
        sg.check(x ** 2, x, claim)


@pytest.mark.parametrize("fn, who", [(lambda v: None, "x, y"), (lambda v: [2 * v["x"] * v["y"], None], "y"),
                                     (lambda v: {"x": 2 * v["x"] * v["y"], "y": None}, "y")],
                         ids=["None", "list", "dict"])
def test_a_function_returning_none_names_the_variable(fn, who):
    with pytest.raises(SymgradError, match=f"returned None .*for {who}: a missing return statement"):
        sg.check(x ** 2 * y, [x, y], fn)


def test_the_right_function_is_still_equal():
    assert sp.diff(x ** 2 * y, y) == x ** 2
    assert sg.check(x ** 2 * y, [x, y], lambda v: [2 * v["x"] * v["y"], v["x"] ** 2]).verdict == "equal"
