"""sg.numeric of an expression whose symbolic size (N) no array given fixes — sg.arange(N),
sg.ones((N, 3)) alone, or a tensor that SymPy cancelled (s * 0 is 0) — was NumPy's "TypeError: Cannot
convert symbols to int"; now a ShapeError names the size and how to give it."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize("build", [lambda: sg.arange(N), lambda: sg.ones((N, 3)) * 2,
                                   lambda: sg.concat([sg.arange(N) + N, sg.arange(N)], 0)])
def test_unbound_size_is_named(build):
    with pytest.raises(sg.ShapeError, match=r"the size N .*has no value.*N: 4"):
        sg.numeric(build(), {})


def test_given_by_value_it_evaluates():
    np.testing.assert_array_equal(sg.numeric(sg.concat([sg.arange(N) + N, sg.arange(N)], 0), {N: 2}),
                                  [2.0, 3.0, 0.0, 1.0])
