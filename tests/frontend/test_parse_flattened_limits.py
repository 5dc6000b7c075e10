"""Limits of the text that SymPy's flattening and Python's own reader got around (trust review,
2026-12-01 twelfth session): nested Max/Min counted after SymPy merges them, and a decimal
literal past Python's 4300-digit conversion limit named as symgrad's integer bound."""
import time

import pytest
import sympy as sp

from symgrad.errors import UnsafeInputError
from symgrad.frontend.parse import MAX_BITS, MAX_BRANCHES, parse_expr


def _nested(head, levels):
    e = "a0"
    for i in range(1, levels):
        e = f"{head}(a{i}, {e})"
    return e


@pytest.mark.parametrize("head", ["Max", "max", "Min", "min"])
def test_nested_max_min_counted_after_flattening(head):
    start = time.perf_counter()
    with pytest.raises(UnsafeInputError) as info:
        parse_expr(_nested(head, 48))       # one Max of 48 arguments to SymPy: 40 s to build
    assert time.perf_counter() - start < 10
    msg = str(info.value)
    assert f"{head.capitalize()} of {MAX_BRANCHES + 1} arguments after nesting" in msg
    assert f"at most {MAX_BRANCHES}" in msg


def test_max_of_maxes_counted_after_flattening():
    text = "Max(" + ", ".join(f"Max(a{i}, b{i})" for i in range(9)) + ")"
    with pytest.raises(UnsafeInputError, match="Max of 18 arguments after nesting"):
        parse_expr(text)


def test_nesting_within_the_bound_is_read():
    syms = sp.symbols(f"a0:{MAX_BRANCHES}")
    assert parse_expr(_nested("Max", MAX_BRANCHES)) == sp.Max(*syms)
    # a Min inside a Max is not merged: each counts on its own
    inner = "Min(" + ", ".join(f"b{i}" for i in range(10)) + ")"
    outer = "Max(" + ", ".join([inner] + [f"a{i}" for i in range(10)]) + ")"
    assert isinstance(parse_expr(outer), sp.Max)


def test_a_5000_digit_literal_is_refused_by_symgrads_bound():
    with pytest.raises(UnsafeInputError) as info:
        parse_expr("x + " + "9" * 5000)
    msg = str(info.value)
    assert f"integers have at most {MAX_BITS} bits" in msg and "5000 digits" in msg
    assert "set_int_max_str_digits" not in msg


def test_a_long_chain_of_conditions_is_one_and():
    n = 195                                  # & is nested: the depth bound (200) allows this many
    text = "&".join(f"(x < a{i})" for i in range(n))
    x, a = sp.Symbol("x"), sp.symbols(f"a0:{n}")
    start = time.perf_counter()
    e = parse_expr(f"Piecewise((x, {text}), (0, True))")     # built one & at a time: 7 s
    assert time.perf_counter() - start < 2
    assert e == sp.Piecewise((x, sp.And(*[x < ai for ai in a])), (0, True))
    assert parse_expr("(x < 1) | ((x > 2) & (x < 3)) | (x > 5)") == sp.Or(x < 1, sp.And(x > 2, x < 3), x > 5)
    with pytest.raises(UnsafeInputError, match="joins conditions"):
        parse_expr("(x < 1) & (x > 0) & 2")


def test_alternating_max_min_nesting_is_bounded():
    e = "x"
    for i in range(1, 60):                   # not merged, but 60 pairs took ~8 s (90: 18 s)
        e = f"Min(a{i}, Max(b{i}, {e}) + 1)"
    start = time.perf_counter()
    with pytest.raises(UnsafeInputError, match=f"{MAX_BRANCHES + 1} Max and Min inside its arguments"):
        parse_expr(e)
    assert time.perf_counter() - start < 5
    clip = parse_expr("Min(Max(x, -1), 1) + Max(Min(y, 2), Min(y, 3))")   # a few, as a clip writes them
    assert clip == sp.Min(sp.Max(sp.Symbol("x"), -1), 1) + sp.Max(sp.Min(sp.Symbol("y"), 2),
                                                                    sp.Min(sp.Symbol("y"), 3))
