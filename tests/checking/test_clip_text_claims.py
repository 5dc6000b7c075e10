"""clip and clamp in text claims (symgrad/frontend/parse.py): torch's ``x.clamp(min, max)`` and
``clamp(x, min=, max=)``, NumPy's ``x.clip(min=)`` and ``clip(x, a_min=, a_max=)``, bounds that are
scalar names (``clip(X, -c, c)``) — the text builds what the Python API builds, and a claim written
so is checked against torch.autograd's gradient. A clip whose bounds are symbols is tested only where
lo < hi (a drawn c < 0 would make clip(x, −c, c) constant)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.core.evaluate import numeric
from symgrad.errors import ParseError, UnsafeInputError
from symgrad.frontend.parse import parse_expr

N = sp.Symbol("N", integer=True, positive=True)
X = sg.tensor("X", (N, 3))
c = sp.Symbol("c", real=True)
DECL = [X, c]


@pytest.mark.parametrize("text, expected", [
    ("X.clamp(0, 1)", X.clip(0, 1)),
    ("X.clamp(min=0)", sg.clip(X, 0, None)),
    ("X.clamp(max=1)", sg.clip(X, None, 1)),
    ("X.clip(min=-1, max=2)", sg.clip(X, -1, 2)),
    ("clamp(X, -1, 1)", sg.clip(X, -1, 1)),
    ("clamp(X, min=-c, max=c)", sg.clip(X, -c, c)),
    ("clip(X, a_min=0, a_max=c/2)", sg.clip(X, 0, c / 2)),
    ("clip(X, -c, c)", sg.clip(X, -c, c)),
    ("X.clip(-c, None)", sg.clip(X, -c, None)),
    ("X.clamp(None, 2*c + 1)", sg.clip(X, None, 2 * c + 1)),
])
def test_clamp_and_clip_build_what_the_python_api_builds(text, expected):
    assert parse_expr(text, symbols=DECL) == expected


@pytest.mark.parametrize("text, kind, words", [
    ("X.clamp()", ParseError, "give at least one bound"),
    ("clip(X, 0, min=1)", ParseError, "the lower bound is given twice"),
    ("X.clamp(0, max=1, min=2)", ParseError, "the lower bound is given twice"),
    ("X.clamp(2, 1)", ParseError, "the lower bound 2 is above the upper bound 1"),
    ("clamp(c, 0, 1)", ParseError, "clamp(...) in 'clamp(c, 0, 1)' is for tensors"),
    ("clamp(X, 0, 1, 2)", ParseError, "takes x and at most two bounds"),
    ("X.clamp(sqrt(-1), 1)", UnsafeInputError, "a bound is a number constant or None"),
    ("X.clamp(exp(c), 1)", UnsafeInputError, "not 'exp(c)'"),
    ("X.clamp(c**2, 1)", UnsafeInputError, "not 'c**2'"),
    ("clamp(X, low=0)", UnsafeInputError, "the keyword 'low'"),
    ("clamp(X, a_min=0)", UnsafeInputError, "the keyword 'a_min'"),        # np.clip's name, not torch's
    ("torch.clamp(X, 0, 1)", UnsafeInputError, "write clamp(...), or x.clamp(...)"),
])
def test_what_clamp_refuses_is_named(text, kind, words):
    with pytest.raises(kind) as e:
        parse_expr(text, symbols=DECL)
    assert words in str(e.value), str(e.value)


def _torch_grad(xv, cv):
    """torch.autograd's ∂/∂X of sum(clamp(X, −c, c)²) (float64): the oracle."""
    t = torch.tensor(xv, requires_grad=True)
    (t.clamp(-cv, cv) ** 2).sum().backward()
    return t.grad.numpy()


def test_a_clamp_claim_agrees_with_torch_and_is_equal():
    right = "2 * X.clamp(min=-c, max=c) * (X > -c) * (X < c)"
    rng = np.random.default_rng(0)
    xv, cv = rng.standard_normal((4, 3)) * 2, 0.8
    claimed = numeric(parse_expr(right, symbols=[sg.tensor("X", (4, 3)), c]), {"X": xv, "c": cv})
    np.testing.assert_allclose(claimed, _torch_grad(xv, cv), atol=1e-12)
    f = "sum(clip(X, -c, c) ** 2)"
    r = sg.check(sg.sum(sg.clip(X, -c, c) ** 2), X, right)
    assert r and r.verdict == "equal", str(r)
    assert sg.check(parse_expr(f, symbols=DECL), X, right)


@pytest.mark.parametrize("seed", [0, 17, 20, 23])
def test_a_claim_wrong_inside_the_bounds_is_caught_at_every_seed(seed):
    # 0 is the gradient wherever the bounds cross (c < 0: clip is the constant c there); a check
    # drawing c < 0 at all its points — at seeds 17, 20 and 23, when crossed bounds were not refused
    # — called it equal
    f = sg.sum(sg.clip(X, -c, c) ** 2)
    r = sg.check(f, X, "0 * X", seed=seed)
    assert not r and r.counterexample.point["c"] > 0, str(r)


def test_bounds_given_crossed_are_named():
    f = sg.sum(sg.clip(X, -c, c) ** 2)
    with pytest.raises(sg.SymgradError, match="the bounds of clip cross"):
        sg.check(f, X, "2 * X", at={"c": -1.0})
