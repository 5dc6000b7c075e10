"""Text claims read clip / clamp with tensor bounds (np.clip's and torch.clamp's), parsed by the
grammar as any operand is (never evaluated); the verdicts are decided against sympy-free oracles
through sg.check (symgrad's gradient is itself checked against torch in
tests/frontend/test_clip_tensor_bounds.py)."""
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import UnsafeInputError
from symgrad.frontend.parse import parse_expr

N = sp.Symbol("N", integer=True, positive=True)
X, L, U = sg.tensor("X", (N, 3)), sg.tensor("L", (3,)), sg.tensor("U", (N, 3))
NAMES = {"X": X, "L": L, "U": U, "N": N}
F = sg.sum(sg.clip(X, L, U) ** 2)


@pytest.mark.parametrize("text", ["clip(X, L, U)", "X.clip(L, U)", "clip(X, min=L, max=U)",
                                  "X.clamp(L, U)", "clamp(X, min=L, max=U)", "clip(X, a_min=L, a_max=U)"])
def test_tensor_bounds_read_as_built(text):
    assert parse_expr(text, symbols=NAMES) == sg.clip(X, L, U)


def test_bound_expressions_and_one_sided():
    assert parse_expr("X.clamp(min=L - 1)", symbols=NAMES) == sg.clip(X, L - 1, None)
    assert parse_expr("clip(X, None, 2*U)", symbols=NAMES) == sg.clip(X, None, 2 * U)


def test_claims_with_tensor_bounds_are_judged():
    right_x = "2*clip(X, L, U)*(X >= L)*(X <= U)"
    assert sg.check(F, X, right_x).verdict == "equal"
    right_l = "(2*clip(X, L, U)*(X < L)*(L <= U)).sum(axis=0)"
    assert sg.check(F, L, right_l).verdict == "equal"
    # where the bounds cross the value is U's: the lower bound then takes no gradient
    assert sg.check(F, L, "(2*clip(X, L, U)*(X < L)).sum(axis=0)").verdict == "not equal"
    assert sg.check(F, X, "2*X.clamp(L - 1, U)*(X >= L - 1)*(X <= U)").verdict == "not equal"


@pytest.mark.parametrize("text", ["clip(X, __import__('os'), 1)", "clip(X, L.__class__, 1)",
                                  "X.clip(min=X.shape)", "X.clamp(L, U.T.__dict__)"])
def test_hostile_bounds_are_refused(text):
    with pytest.raises(UnsafeInputError, match="a bound is"):
        parse_expr(text, symbols=NAMES)
