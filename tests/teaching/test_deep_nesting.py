"""A security review's finding F7: sin nested 195 deep ran for minutes in the steps (each step's
`numbers_outside` factored every sum of every subtree again, the tree being n²/2 nodes), and at 150
levels ``symgrad derive`` worked 25 s to fail on Python's recursion limit. Each sum is now factored
once, and the steps refuse past `STEPS_MAX_NESTING` before building anything."""
import pytest
import sympy as sp

import symgrad as sg
import symgrad.teaching.steps as steps_module
from symgrad.errors import UnsupportedError
from symgrad.teaching.nesting import STEPS_MAX_NESTING, nesting

x, y = sp.symbols("x y")


def _sin_nested(n, inner=x):
    e = inner
    for _ in range(n):
        e = sp.sin(e)
    return e


def test_nesting_counts_levels():
    assert nesting(x) == 0
    assert nesting(sp.Integer(3)) == 0
    assert nesting(sp.sin(x)) == 1
    assert nesting(_sin_nested(195)) == 195
    assert nesting(sp.sin(x + y) * (x + y) ** 2) == 3          # Mul > sin > Add; (x+y)² is 2 deep


def test_too_deep_is_refused_before_any_step_is_built(monkeypatch):
    built = []
    monkeypatch.setattr(steps_module, "build_steps", lambda *a, **k: built.append(1))
    d = sg.derive(_sin_nested(STEPS_MAX_NESTING + 1), [x])
    assert d.gradients[0] != 0                      # the gradient itself is not limited
    with pytest.raises(UnsupportedError, match=r"nested 101 levels deep.*at most 100"):
        d.steps
    assert built == []


def test_at_the_limit_the_steps_are_written():
    d = sg.derive(_sin_nested(STEPS_MAX_NESTING), [x])
    text = str(d.steps)
    assert text.count("∂f/∂") > STEPS_MAX_NESTING
    oracle = sp.diff(_sin_nested(STEPS_MAX_NESTING), x)
    assert float(d.gradients[0].subs(x, 0.3)) == pytest.approx(float(oracle.subs(x, 0.3)), rel=1e-12)


def test_each_sum_is_factored_once(monkeypatch):
    """The derivative of sin nested 25 deep around 2x + 2y holds cos(…(2x + 2y)…) at each depth;
    the sums are factored once each, not once per place they occur in each step."""
    args = []
    real = sp.factor_terms

    def counting(e, *a, **k):
        args.append(e)
        return real(e, *a, **k)
    monkeypatch.setattr(sp, "factor_terms", counting)
    text = str(sg.derive(_sin_nested(25, 2 * x + 2 * y), [x, y]).steps)
    assert "2·(x + y)" in text                       # the number still goes outside the sum
    # once in each pass that writes them (the steps, the Gradient section), never per occurrence
    assert args and len(args) <= 3 * len(set(args))
