"""A security review's finding F5: ``symgrad derive`` multiplied out polynomials whose expansion is
huge ((x + 1)¹⁰⁰·(y + 2)¹⁰⁰: 10,201 terms, ((x + 1)¹⁰⁰ + 1)¹⁰⁰: past 10²⁰⁰) because the size was
estimated one power at a time. The estimate (`expanded_terms`) is checked against the term count of
sympy.expand itself on small cases, and the steps must not call expand past the limit."""
import time

import pytest
import sympy as sp

import symgrad as sg
from symgrad.teaching.steps import expanded_terms

x, y, z, w = sp.symbols("x y z w")


@pytest.mark.parametrize("e", [
    (x + 1) ** 3 * (y + 2) ** 4,
    ((x + 1) ** 3 + y) ** 2,
    (x + y + z) ** 4 + (w + 1) ** 2 * x,
    sp.sin((x + 1) ** 2) * (y + 1),
    (x + y) * (x - y),                               # cancels: the bound may be above the count
])
def test_estimate_bounds_sympy_expand(e):
    assert expanded_terms(e, 10 ** 6) >= len(sp.Add.make_args(sp.expand(e)))


def test_products_and_nestings_are_counted_whole():
    # each power alone is small (101 terms), the product or the nesting is not
    assert expanded_terms((x + 1) ** 100 * (y + 2) ** 100) > 200
    assert expanded_terms(((x + 1) ** 100 + 1) ** 100) > 200
    assert expanded_terms(sp.sin((x + 1) ** 20 * (y + 1) ** 20)) > 200   # expand goes inside calls
    assert expanded_terms((x + 1) ** (10 ** 30) * y) > 200                  # no huge binomial computed
    assert expanded_terms((x + 1) ** 3 * (y + 2) ** 4) == 20


def test_steps_do_not_multiply_out_a_large_product(monkeypatch):
    """(x + 1)²⁰·(y + 2)²⁰: 441 terms when multiplied out; each power alone has 21, which the old
    estimate let through. No expansion the steps ask SymPy for may reach 200 terms."""
    largest = []
    real = sp.expand

    def counting(e, *a, **k):
        out = real(e, *a, **k)
        largest.append(len(sp.Add.make_args(out)))
        return out
    monkeypatch.setattr(sp, "expand", counting)
    d = sg.derive((x + 1) ** 20 * (y + 2) ** 20, [x, y])
    text = str(d.steps)
    assert largest and max(largest) <= 200
    assert "20·(1 + x)^19·(2 + y)^20" in text.replace("(x + 1)", "(1 + x)").replace("(y + 2)", "(2 + y)")


def test_hundredth_powers_finish():
    """The reviewer's texts took 32 s and more than 30 s; now seconds (a loose hang guard)."""
    t0 = time.perf_counter()
    for e, wrt in [((x + 1) ** 100 * (y + 2) ** 100, [x, y]), (((x + 1) ** 100 + 1) ** 100, [x])]:
        str(sg.derive(e, wrt).steps)
    assert time.perf_counter() - t0 < 20
