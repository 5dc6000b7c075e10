"""Python's own protocols on a tensor declaration: ``len(x)``, ``for row in x``, ``bool(x)`` and
``np.asarray(x)``, as torch code uses them (2026-11-30, ninth session: len(x) was Python's raw
"object of type 'Tensor' has no len()", and iterating over a tensor of a symbolic first axis never
ended)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def test_len_is_the_first_axis_when_it_is_a_number():
    x = sg.tensor("x", (3, 2))
    assert len(x) == 3 and len(sg.relu(x) @ sg.tensor("w", (2, 5))) == 3
    assert len(x.T) == 2


def test_len_of_a_symbolic_first_axis_names_shape_0():
    y = sg.tensor("y", (N, 2))
    with pytest.raises(sg.ArgumentError, match=r"y\.shape\[0\]") as e:
        len(y)
    assert isinstance(e.value, TypeError)            # code catching len()'s TypeError still does
    with pytest.raises(TypeError, match=r"0-d tensor"):
        len(sg.tensor("s", ()))


def test_iteration_over_a_fixed_axis_and_refused_over_a_symbolic_one():
    x = sg.tensor("x", (3, 2))
    a, b, c = x                                       # torch's unpacking of dim 0
    assert (a, b, c) == (x[0], x[1], x[2])
    with pytest.raises(sg.ArgumentError, match="symbolic size N"):
        iter(sg.tensor("y", (N, 2)))                  # list(y) was an endless loop


def test_truthiness_is_unchanged_whatever_the_length():
    assert bool(sg.tensor("x", (0, 2))) and bool(sg.tensor("y", (N, 2))) and bool(sg.tensor("s", ()))
    assert bool(sg.tensor("x", (3,)) + 1)


def test_numpy_and_sympy_still_see_one_object():
    x, y = sg.tensor("x", (3, 2)), sg.tensor("y", (N, 2))
    for v in (x, y):
        a = np.asarray(v)
        assert a.shape == () and a.dtype == object and a[()] is v
    assert np.array([x, x + 1]).shape == (2,)
    assert 2.0 * x == np.float64(2.0) * x
    assert len(sp.cse([x + 1, (x + 1) * 2])[0]) == 1      # SymPy's walks see one node, as before
    assert sg.grad(sg.sum(x ** 2), x) == 2 * x
