"""What a cs231n student writes that a declaration or a string claim does not take, answered with
the spelling that does (a student's trial, 2026-11-30, eighth session)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ShapeError, UnsafeInputError

N = sp.Symbol("N", integer=True, positive=True)
X, W, Y = sg.tensor("X", (N, 3)), sg.tensor("W", (3, 2)), sg.tensor("Y", (N, 2))
F = ((X @ W - Y) ** 2).sum() / N


@pytest.mark.parametrize("claim", ["2*X.T @ (X @ W - Y) / X.shape[0]", "2*X.T @ (X @ W - Y) / len(X)"])
def test_a_size_read_off_an_array_in_a_string_claim_is_told_to_be_the_symbol(claim):
    # it said only that '.shape' is no allowed attribute / that 'len' is an unknown function
    with pytest.raises(UnsafeInputError, match="write the size's symbol instead"):
        sg.check(F, W, claim)
    assert sg.check(F, W, "2*X.T @ (X @ W - Y) / N")       # the spelling it names


def test_cs231n_label_indexing_is_told_the_gather_that_means_it():
    # it said to index with an integer tensor (x[idx], sg.take), which picks whole rows
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    with pytest.raises(ShapeError, match=r"sg\.take_along_axis\(x, y\[:, None\], axis=1\)\[:, 0\]"):
        x[np.arange(4), y]
    picked = sg.take_along_axis(x, y[:, None], axis=1)[:, 0]      # and what it names is right
    xv = np.arange(12.0).reshape(3, 4)
    yv = np.array([1, 3, 0])
    from symgrad.core.evaluate import numeric
    np.testing.assert_array_equal(numeric(picked, {x: xv, y: yv}), xv[np.arange(3), yv])


def test_the_label_entry_of_a_compound_logit_prints_bracketed():
    # it printed -W*x + b[1] + logsumexp(W*x + b) and - {W x + b}_{1} + ...: the entry of b alone
    W, x, b = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("b", 3, 1)
    ce = sg.cross_entropy(W * x + b, 1)
    assert "(W*x + b)[1]" in str(ce)
    assert r"{\left(W x + b\right)}_{1}" in sp.latex(ce)
    z, k = sp.MatrixSymbol("z", 3, 1), sp.Symbol("k", integer=True)
    assert str(sg.cross_entropy(z, k)) == "-z[k] + logsumexp(z)"        # a symbol's entry: no brackets
