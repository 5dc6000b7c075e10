"""sg.check at a point given with at= that lies on a kink: the claim is judged against f's
subdifferential there (the convex hull of the gradient's limits on the sides of the kink), and the
central-difference cross-check says it does not apply instead of reporting a disagreement."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.checking.verdict import EQUAL_EXCEPT_KINKS, NOT_EQUAL, convention

z, w, x = sp.symbols("z w x")
F = sp.Max(z, w) ** 2
TO_Z = [2 * sp.Max(z, w) * sp.Heaviside(z - w, 1), 2 * sp.Max(z, w) * sp.Heaviside(w - z, 0)]
SPLIT = sg.Subgradients(max_ties="split")


def _sympy_sides(f, params, point):
    """The gradient's one-sided limits at the tie z = w, by sympy.diff on each piece (an oracle
    independent of symgrad): Max(z, w) replaced by z, then by w."""
    out = []
    for piece in (z, w):
        g = f.subs(sp.Max(z, w), piece)
        out.append([float(sp.diff(g, p).subs(point)) for p in params])
    return out


def test_another_routing_of_the_tie_is_equal_except_at_the_kink():
    sides = _sympy_sides(F, [z, w], {z: 1, w: 1})
    assert [2.0, 0.0] in sides                         # the claim is one piece's gradient
    r = sg.check(F, [z, w], TO_Z, at={z: 1, w: 1})
    assert r.verdict == EQUAL_EXCEPT_KINKS and bool(r)
    assert "a kink of Max" in r.kink and "the point given with at=" in r.kink
    assert "first argument" in r.kink                  # symgrad's convention named beside the claim's values
    assert "∂f/∂z = 2" in r.kink


def test_split_policy_names_its_own_rule():
    r = sg.check(F, [z, w], TO_Z, at={z: 1, w: 1}, policy=SPLIT)
    assert r.verdict == EQUAL_EXCEPT_KINKS
    assert "split the gradient equally" in r.kink and "first argument" not in r.kink
    assert r.hint is None                              # no "claim is 0 but the gradient is not"


def test_convention_words_follow_max_ties():
    assert "first" in convention("Max", sg.Subgradients())
    assert "split" in convention("Max", SPLIT) and "first" not in convention("Max", SPLIT)
    assert "split" in convention("Min", SPLIT)


def test_cross_check_at_a_kink_says_so():
    r = sg.check(F, [z, w], TO_Z, at={z: 1, w: 1})
    assert "DISAGREEMENT" not in r.method and "please report" not in r.method
    assert "at a kink: the difference quotient does not apply" in r.method
    assert "away from its kinks" not in r.method      # the point is on one, as given


def test_convex_combination_of_the_tied_derivatives_is_a_subgradient():
    # Max(z, w)² + z·w at z = w = 1: sides (3, 1) and (1, 3) by sympy.diff; (2, 2) is their mean
    f = F + z * w
    sides = _sympy_sides(f, [z, w], {z: 1, w: 1})
    assert np.allclose(np.mean(sides, axis=0), [2, 2])
    assert sg.check(f, [z, w], [2 * z, 2 * w], at={z: 1, w: 1}).verdict == EQUAL_EXCEPT_KINKS


@pytest.mark.parametrize("claim", [
    [2 * sp.Max(z, w) * sp.Heaviside(z - w, 1), 2 * sp.Max(z, w) * sp.Heaviside(w - z, 1)],  # δ to both: 2, 2
    [2 * sp.Max(z, w) * sp.Heaviside(z - w, 0), 2 * sp.Max(z, w) * sp.Heaviside(w - z, 0)],  # to none: 0, 0
])
def test_outside_the_subdifferential_stays_not_equal(claim):
    for policy in (sg.Subgradients(), SPLIT):
        r = sg.check(F, [z, w], claim, at={z: 1, w: 1}, policy=policy)
        assert r.verdict == NOT_EQUAL and r.counterexample is not None


def test_delta_to_both_tied_arguments_gets_the_max_ties_hint():
    both = [2 * sp.Max(z, w) * sp.Heaviside(z - w, 1), 2 * sp.Max(z, w) * sp.Heaviside(w - z, 1)]
    r = sg.check(F, [z, w], both, at={z: 1, w: 1})
    assert "every tied maximum" in r.hint


def test_relu_and_abs_at_zero_take_any_value_of_the_subdifferential():
    assert sg.check(sg.relu(z) * x, z, x * sp.Heaviside(z, 0), at={z: 0, x: 2}).verdict == EQUAL_EXCEPT_KINKS
    assert sg.check(sp.Abs(z), z, sp.Rational(1, 2), at={z: 0}).verdict == EQUAL_EXCEPT_KINKS
    assert sg.check(sp.Abs(z), z, 2, at={z: 0}).verdict == NOT_EQUAL           # |x|'(0) ∈ [-1, 1]
    assert sg.check(sg.relu(z) * x, z, 3 * x, at={z: 0, x: 2}).verdict == NOT_EQUAL   # relu'(0) ∈ [0, 1]


def test_a_callable_claim_at_a_given_kink():
    def backward(v):
        return {"z": 2.0 * max(v["z"], v["w"]), "w": 0.0}      # the tie routed to z
    r = sg.check(F, [z, w], backward, at={z: 1.0, w: 1.0}, batch=None)
    assert r.verdict == EQUAL_EXCEPT_KINKS


def test_only_on_the_kink_itself_not_beside_it():
    always_z = [2 * sp.Max(z, w), sp.Integer(0)]       # a subgradient at the tie only
    assert sg.check(F, [z, w], always_z, at={z: 1, w: 1}).verdict == EQUAL_EXCEPT_KINKS
    # at w = 1.001 f is differentiable (∂f/∂z = 0 by sympy.diff of w²): the claim is wrong there
    assert float(sp.diff(w ** 2, z)) == 0.0
    r = sg.check(F, [z, w], always_z, at={z: 1, w: sp.Rational(1001, 1000)})
    assert r.verdict == NOT_EQUAL
    assert "please report" not in r.method            # the difference quotient's step crosses the kink


def _max_rows_point():
    X = sg.tensor("X", (2, 3))
    xv = np.array([[1.0, 1.0, 0.0], [2.0, 0.0, 1.0]])        # row 0 tied between columns 0 and 1
    return X, sg.sum(X.max(axis=1) ** 2), xv


def test_a_max_over_an_axis_tied_at_the_given_point():
    X, f, xv = _max_rows_point()

    def to_last(v):          # δ to the last arg-max of each row: another subgradient at the tie
        a = v["X"]
        g = np.zeros_like(a)
        for i in range(a.shape[0]):
            j = a.shape[1] - 1 - int(np.argmax(a[i][::-1]))
            g[i, j] = 2 * a[i].max()
        return g
    assert to_last({"X": xv})[0, 1] == 2.0 and to_last({"X": xv})[0, 0] == 0.0   # row 0: not the first arg-max
    r = sg.check(f, X, to_last, at={X: xv})
    assert r.verdict == EQUAL_EXCEPT_KINKS and "the point given with at=" in r.kink
    assert "last arg-max" in r.kink


def test_a_max_over_an_axis_routed_to_every_tied_entry_stays_wrong():
    X, f, xv = _max_rows_point()

    def to_all(v):
        a = v["X"]
        m = a.max(axis=1, keepdims=True)
        return 2 * m * (a == m)
    r = sg.check(f, X, to_all, at={X: xv})
    assert r.verdict == NOT_EQUAL and "every tied maximum" in (r.hint or "")


@pytest.mark.parametrize("claim", [
    [0, 0],                                                                         # a hand-derived 0 at the tie
    [2 * sp.Max(z, w) * sp.Heaviside(z - w, 0), 2 * sp.Max(z, w) * sp.Heaviside(w - z, 0)],  # strict on both sides
])
def test_delta_to_no_tied_argument_gets_the_dropped_tie_hint(claim):
    # by sympy.diff on each piece the sides are (2, 0) and (0, 2): (0, 0) is no convex combination
    assert [0.0, 0.0] not in _sympy_sides(F, [z, w], {z: 1, w: 1})
    r = sg.check(F, [z, w], claim, at={z: 1, w: 1})
    assert r.verdict == NOT_EQUAL
    assert "neither tied argument" in r.hint and "SymPy's diff" not in r.hint


def test_dropped_tie_hint_names_min_and_not_a_zero_claim_off_the_tie():
    r = sg.check(sp.Min(z, w) ** 2, [z, w], [0, 0], at={z: 1, w: 1})
    assert "tie of Min" in r.hint
    r = sg.check(F, [z, w], [0, 0], at={z: 1, w: 2})                 # no tie: the claim is just 0
    assert r.verdict == NOT_EQUAL and "tie" not in r.hint


def test_dropped_tie_hint_for_a_max_over_matrix_entries():
    X = sp.MatrixSymbol("X", 2, 2)
    f = sp.Max(X[0, 0], X[0, 1], X[1, 0], X[1, 1]) ** 2
    r = sg.check(f, [X], [sp.zeros(2, 2)], at={X: np.array([[1.0, 1.0], [0.0, 0.5]])})
    assert r.verdict == NOT_EQUAL and "neither tied argument" in r.hint
