"""A wrong term float64 cannot see: with f = (x+1)¹⁰⁰(y+2)¹⁰⁰(z+3)¹⁰⁰ the gradient is about 10⁹⁰ at
the drawn points, and ∂f/∂x + 1 rounds to ∂f/∂x. Where simplification cannot decide, the difference
is computed beyond float64 (exactly, or with mpmath at two precisions); the oracle here is
sympy.diff, and each wrong claim differs from it by a term that is not zero."""
import pytest
import sympy as sp

import symgrad as sg

x, y, z = sp.symbols("x y z")
P = (y + 2) ** 100 * (z + 3) ** 100
F = (x + 1) ** 100 * P
G = sp.diff(F, x)
F_EXP = sp.exp(x) * F


@pytest.mark.parametrize("f, claim, how", [
    (F, G + 1, "exactly"),
    (F, G + (x + 1) ** 90, "exactly"),
    (F, (x + 1) ** 99 * P * (x + 101) - F + 1, "exactly"),       # a form simplify cannot decide
    (F_EXP, sp.diff(F_EXP, x) + 1, "at 800 digits"),             # not rational at the points
])
def test_a_term_float64_rounds_away_is_not_equal(f, claim, how):
    # Before: "equal" with "symbolic: undecided" — the relative tolerance swallowed the whole term
    r = sg.check(f, [x], [claim])
    assert not r, r
    assert r.hint.kind == "term lost in rounding", r.hint
    assert f"computed {how}" in r.method and how in r.hint
    # the difference said is the claim's extra term at the counterexample's point
    pt = {s: sp.Rational(float(r.counterexample.point[s.name])) for s in (x, y, z)}
    extra = sp.N((claim - sp.diff(f, x)).xreplace(pt), 30, maxn=2000)
    said = float(r.hint.split("differs from the gradient by ")[1].split(" ")[0])
    assert said == pytest.approx(float(extra), rel=1e-3)


@pytest.mark.parametrize("f, claim", [
    (F, (x + 1) ** 99 * P * (x + 101) - F),                         # right, rational: exactly 0
    (F_EXP, sp.exp(x) * (x + 1) ** 99 * (x + 101) * P),             # right, not rational: round-off only
    (F_EXP, sp.exp(x) * (x + 1) ** 99 * (x + 101) * P * (sp.sin(x) ** 2 + sp.cos(x) ** 2)),
])
def test_right_claims_simplify_cannot_decide_stay_equal(f, claim):
    # the oracle: claim − sympy.diff at a rational point, at 60 digits, is 0 to within their round-off
    d = (claim - sp.diff(f, x)).subs({x: sp.Rational(1, 3), y: 1, z: 2})
    assert abs(sp.N(d, 60)) < 1e-40 * abs(sp.N(sp.diff(f, x).subs({x: sp.Rational(1, 3), y: 1, z: 2}), 60))
    r = sg.check(f, [x], [claim])
    assert r, r
