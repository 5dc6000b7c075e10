"""A hint about sg.norm(x) says the norm as the student wrote it, sqrt((x**2).sum()), not symgrad's
zero-vector guard where((x**2).sum() > 0, (x**2).sum(), 1); a where the user wrote is left as is."""
import symgrad as sg
from symgrad.checking.norm_guard_words import guard_words


def test_norm_hint_has_no_guard():
    x = sg.tensor("x", (3,))
    r = sg.check(sg.norm(x), x, x)                       # x/‖x‖ claimed as x: the root's derivative left out
    assert not r and r.hint is not None
    assert "where(" not in r.hint and "sqrt((x**2).sum())" in r.hint, r.hint


def test_user_where_is_kept():
    X = sg.tensor("X", (4, 3))
    r = sg.check(sg.sum(sg.where(X > 0, X, 0.1 * X)) + sg.sum(X ** 2), X, 2 * X)
    assert not r and "where(X > 0, X, 0.1*X)" in r.hint, r.hint
    # the where's negative slope written 0 is that branch's slip, said with the side (branch_slope_hint)
    r = sg.check(sg.sum(sg.where(X > 0, X, 0.1 * X)), X, sg.where(X > 0, 1, 0))
    assert not r and "where X < 0 (entrywise) the claim's ∂f/∂X is 0 where the truth is 0.1" in r.hint, r.hint


def test_guard_words_cases():
    assert guard_words("where(X > 0, X, 1)") == "X"
    assert guard_words("where(X > 0, 1, 0.1)") == "where(X > 0, 1, 0.1)"
    assert guard_words("a - where(s > 0, 0, 1) + nowhere(s)") == "a + nowhere(s)"
    assert guard_words("sqrt(where((y + where(z > 0, z, 1)) > 0, (y + where(z > 0, z, 1)), 1))") == "sqrt((y + z))"
