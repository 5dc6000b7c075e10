"""A claim that differs from symgrad's gradient only on a kink is a subgradient choice there only
when it lies in f's subdifferential (the convex hull of the gradient's one-sided limits): the kinks
probed without at= are judged that way too, and a claim outside it at a kink gets a hint saying
what the valid values are, not a hint about factors."""
import sympy as sp

import symgrad as sg
from symgrad.checking.verdict import EQUAL_EXCEPT_KINKS, NOT_EQUAL

z, w, x = sp.symbols("z w x")
F = sp.Max(z, w) ** 2
M = sp.Max(z, w)


def _sides_at_tie(f, t=1):
    """∂f/∂(z, w) on each piece of Max(z, w) at z = w = t, by sympy.diff (independent of symgrad)."""
    return [[float(sp.diff(f.subs(M, piece), p).subs({z: t, w: t})) for p in (z, w)] for piece in (z, w)]


def test_delta_to_neither_tied_argument_is_wrong_without_at():
    # the sides at a tie are (2t, 0) and (0, 2t): the claim's (0, 0) is no convex combination of them
    assert _sides_at_tie(F) == [[2.0, 0.0], [0.0, 2.0]]
    none = [2 * M * sp.Heaviside(z - w, 0), 2 * M * sp.Heaviside(w - z, 0)]
    r = sg.check(F, [z, w], none)
    assert r.verdict == NOT_EQUAL and not r
    assert "neither tied argument" in r.hint
    assert "both are valid choices" not in str(r)
    assert r.counterexample.point["z"] == r.counterexample.point["w"]      # at the tie
    assert "outside f's subdifferential" in r.method


def test_any_routing_of_the_tie_stays_equal_except_at_kinks():
    to_w = [2 * M * sp.Heaviside(z - w, 0), 2 * M * sp.Heaviside(w - z, 1)]    # the tie to w: (0, 2t)
    half = [2 * M * sp.Heaviside(z - w, sp.Rational(1, 2)), 2 * M * sp.Heaviside(w - z, sp.Rational(1, 2))]
    assert sg.check(F, [z, w], to_w)
    r = sg.check(F, [z, w], half)
    assert r.verdict == EQUAL_EXCEPT_KINKS, str(r)
    assert "both are valid choices" in r.kink


def test_abs_and_relu_claims_at_zero_inside_the_subdifferential_stay_accepted():
    # |z|' at 0: anything in [-1, 1]; relu' at 0: anything in [0, 1] (times x)
    assert sg.check(sp.Abs(z), z, 2 * sp.Heaviside(z, 1) - 1).verdict == EQUAL_EXCEPT_KINKS
    assert sg.check(sp.Abs(z), z, 2 * sp.Heaviside(z, 0) - 1).verdict == EQUAL_EXCEPT_KINKS
    assert sg.check(sg.relu(z) * x, z, x * sp.Heaviside(z, 1))
    assert sg.check(sg.relu(z) * x, z, x * sp.Heaviside(z, sp.Rational(1, 4)))


def test_abs_claim_outside_its_subdifferential_at_the_probed_kink():
    # 2·H(z, 3/2) − 1 is sign(z) off 0 and 2 at 0, outside [-1, 1] (sympy.diff: -1 and 1 on the sides)
    assert [float(sp.diff(s * z, z)) for s in (-1, 1)] == [-1.0, 1.0]
    r = sg.check(sp.Abs(z), z, 2 * sp.Heaviside(z, sp.Rational(3, 2)) - 1)
    assert r.verdict == NOT_EQUAL
    assert r.hint.startswith("outside the subdifferential") and "[-1, 1]" in r.hint and "gives 2" in r.hint


def test_abs_claim_outside_at_a_given_kink_names_the_valid_values():
    r = sg.check(sp.Abs(z), z, 2, at={z: 0})
    assert r.verdict == NOT_EQUAL
    assert "does not depend on it" not in r.hint          # not the factor hint: |z|'(0) is not 0 only
    assert "kink of Abs" in r.hint and "[-1, 1]" in r.hint and "the claim gives 2" in r.hint
    assert r.to_dict()["hint"]["kind"] == "outside the subdifferential"


def test_relu_claim_outside_at_a_given_kink():
    r = sg.check(sg.relu(z) * x, z, 3 * x, at={z: 0, x: 2})     # relu'(0)·x ∈ [0, 2]; 3x = 6
    assert r.verdict == NOT_EQUAL
    assert "[0, 2]" in r.hint and "gives 6" in r.hint


def test_max_claim_outside_at_a_given_tie_lists_the_sides():
    r = sg.check(F + z * w, [z, w], [5, 0], at={z: 1, w: 1})     # sides (3, 1), (1, 3) by sympy.diff
    assert _sides_at_tie(F + z * w) == [[3.0, 1.0], [1.0, 3.0]]
    assert r.verdict == NOT_EQUAL
    assert "[1, 3] and [3, 1]" in r.hint and "(∂f/∂z, ∂f/∂w)" in r.hint


def test_a_kink_of_values_given_with_at_is_not_probed():
    # b is given: the probe must not move it to make the tie (the given values stay as given)
    a, b = sp.symbols("a b")
    r = sg.check(sp.Max(a, b), [a], [sp.Heaviside(a - b, 0)], at={"b": -0.5, "a": 0.3})
    assert r.verdict == "equal" and r.kink is None


def test_method_names_a_point_given_entirely_with_at():
    r = sg.check(sp.Abs(z), z, 2, at={z: 0})
    assert "at the point given with at=, on a kink of f" in r.method and "random" not in r.method
    assert "at the point given with at=, on a kink of f" in r.to_dict()["method"]
    r = sg.check(z ** 2 * x, z, 2 * z * x, at={z: 1, x: 2})            # given, off every kink
    assert "at the point given with at=, away from its kinks;" in r.method and "random" not in r.method
    r = sg.check(z ** 2 * x, z, 2 * z * x, at={z: 1})                   # x drawn: random points
    assert "random point(s)" in r.method and "given with at=" not in r.method
