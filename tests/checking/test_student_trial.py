"""A cs231n student's trial of `sg.check_backward` and `sg.check` (assignments 1 and 2 in NumPy):
each test is a slip or a stumble that the trial met, with the verdict and the hint or error it
must get. The backward functions are written here as the course writes them."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.checking.backward import BackwardError

N = sp.Symbol("N", integer=True, positive=True)


def wrong(r, named=None):
    assert not r and r.verdict == "not equal", str(r)
    if named is not None:
        assert r.hint is not None and r.hint.startswith(named), r.hint
    return r


# ---------------------------------------------------------------------------------------------------
# Handing over cs231n's backward as it is: backward(dout, cache), other parameter names, no mask


def _affine():
    x, w, b = sg.tensor("x", (N, 2, 3)), sg.tensor("w", (6, 5)), sg.tensor("b", (5,))
    return x.reshape(N, -1) @ w + b, [x, w, b]


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)


def test_a_backward_taking_a_cache_gets_the_wrapper_through_its_forward():
    out, wrt = _affine()
    with pytest.raises(BackwardError) as e:
        sg.check_backward(out, wrt, affine_backward)
    msg = str(e.value)
    assert "it is affine_backward(dout, cache)" in msg
    assert "lambda dout, x, w, b: affine_backward(dout, affine_forward(x, w, b)[1])" in msg
    # ... and the wrapper it names works
    assert sg.check_backward(out, wrt, lambda dout, x, w, b: affine_backward(dout, affine_forward(x, w, b)[1]))


def test_parameters_named_otherwise_are_told_the_names():
    out, wrt = _affine()
    with pytest.raises(BackwardError, match=r"must be named dout, x, w, b \(or end with \*\*values\)"):
        sg.check_backward(out, wrt, lambda dout, a, c, d: (a, c, d))


def test_a_dropout_backward_without_a_mask_parameter_is_told_to_add_it():
    x = sg.tensor("x", (N, 6))
    with pytest.raises(BackwardError, match=r"mask is the mask of sg.dropout in out.*add the parameter"):
        sg.check_backward(sg.dropout(x, 0.5), [x], lambda dout, x: dout)


# ---------------------------------------------------------------------------------------------------
# Inverted dropout: p is the probability of dropping; the mask holds the scale 1/(1 − p)

P = 0.3


def _dropout():
    x = sg.tensor("x", (N, 6))
    return sg.dropout(x, P), [x]


def test_dropout_divided_by_p_instead_of_one_minus_p_is_named():
    out, wrt = _dropout()
    r = wrong(sg.check_backward(out, wrt, lambda dout, x, mask: dout * (mask != 0) / P),
              "constant factor: the claim is 7/3 times the gradient — (1 − p)/p")
    assert "divided by p where inverted dropout divides by 1 − p" in r.hint


def test_dropout_mask_divided_again_by_p_or_multiplied_by_p_is_named():
    out, wrt = _dropout()
    wrong(sg.check_backward(out, wrt, lambda dout, x, mask: dout * mask / P),
          "constant factor: the claim is 10/3 times the gradient — 1/p, for the dropout with p = 0.3")
    wrong(sg.check_backward(out, wrt, lambda dout, x, mask: dout * mask * P),
          "constant factor: the claim is 3/10 times the gradient — p, for the dropout with p = 0.3")
