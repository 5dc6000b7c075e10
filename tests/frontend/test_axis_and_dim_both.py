"""An explicit axis equal to the default and torch's ``dim=`` together (2026-11-30, tenth session):
``sg.concat(xs, 0, dim=1)`` was taken as ``dim=1`` — the axis 0 was compared with the default by
value, so it was not told apart from no axis. Now the default is an object of its own and the two
given together are an error naming both; either alone still works, and help() still shows the
default's value."""
from __future__ import annotations

import inspect

import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _both_cases():
    a, b = sg.tensor("a", (N, 3)), sg.tensor("b", (N, 3))
    return [("concat", lambda: sg.concat([a, b], 0, dim=1), "axis=0", "dim=1"),
            ("stack", lambda: sg.stack([a, b], 0, dim=1), "axis=0", "dim=1"),
            ("normalize", lambda: sg.normalize(a, 2, 1, dim=0), "axis=1", "dim=0"),
            ("cosine_similarity", lambda: sg.cosine_similarity(a, b, axis=1, dim=0), "axis=1", "dim=0"),
            ("argmax", lambda: a.argmax(-1, dim=0), "axis=-1", "dim=0"),
            # topk's own name is torch's dim (positional); axis= silently won over it (tenth session)
            ("topk", lambda: sg.topk(b.T, 2, 0, axis=1), "axis=1", "dim=0"),
            ("topk", lambda: a.topk(2, dim=-1, axis=0), "axis=0", "dim=-1")]


@pytest.mark.parametrize("who, call, axis, dim", _both_cases(), ids=[c[0] for c in _both_cases()])
def test_default_valued_axis_with_dim_is_refused_naming_both(who, call, axis, dim):
    with pytest.raises(sg.ArgumentError) as err:
        call()
    text = str(err.value)
    assert who in text and axis in text and dim in text and "not both" in text


def test_either_alone_and_the_default_still_work():
    a, b = sg.tensor("a", (N, 3)), sg.tensor("b", (N, 3))
    assert sg.concat([a, b]).shape == (2 * N, 3)
    assert sg.concat([a, b], 0).shape == (2 * N, 3)
    assert sg.concat([a, b], dim=1).shape == (N, 6)
    assert sg.stack([a, b]).shape == (2, N, 3)
    assert sg.stack([a, b], dim=2).shape == (N, 3, 2)
    assert sg.normalize(a) == sg.normalize(a, axis=1)
    assert sg.cosine_similarity(a, b).shape == (N,)
    assert a.argmax().shape == (N,) and a.argmax(dim=0).shape == (3,)
    c = sg.tensor("c", (4, 3))
    assert sg.topk(c, 2).values.shape == (4, 2) and c.topk(2, 0).values.shape == (2, 3)
    assert sg.topk(c, 2, axis=0).values == c.topk(2, dim=0).values == c.topk(2, axis=0).values


def test_help_shows_the_default_value():
    assert str(inspect.signature(sg.concat)) == "(xs, axis=0, *, dim=None)"
    assert "axis=1" in str(inspect.signature(sg.normalize))
    assert "dim=-1" in str(inspect.signature(sg.topk))
