"""`sg.check_backward` runs a backward function again at a second batch size: a backward with the
batch size written as a number (``/ 4`` where ``/ N`` belongs, ``reshape(4, -1)``) is right at the
one N the check picks first, and must read "not equal" with a hint that points at the literal —
while a right backward stays "equal". Oracles: torch.autograd, and central differences."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

import symgrad as sg
from symgrad.checking.tensors import concretize, fixed_sizes

from verdicts import N, wrong


def _regression():
    """mean squared error over the batch, halved: sum((X W + b − Y)²) / (2N)."""
    X, W, b, Y = sg.tensor("X", (N, 3)), sg.tensor("W", (3, 2)), sg.tensor("b", (2,)), sg.tensor("Y", (N, 2))
    return sg.sum((X @ W + b - Y) ** 2) / (2 * N), [W, b]


def _first_n(out, wrt) -> int:
    return fixed_sizes(out, concretize(out, wrt, None, {})[0])["N"]


def regression_backward(dout, X, W, b, Y):
    d = (X @ W + b - Y) / X.shape[0]
    return X.T @ d, d.sum(axis=0)


def literal_dw_backward(dout, X, W, b, Y):
    d = X @ W + b - Y
    dW = X.T @ d / 4
    return dW, d.sum(axis=0) / X.shape[0]


def literal_db_backward(dout, X, W, b, Y):
    d = X @ W + b - Y
    return X.T @ d / len(X), d.sum(0) / 4


def _torch_grads(x, w, b, y):
    """torch.autograd's ∂/∂W and ∂/∂b of the same loss (float64)."""
    w_t = torch.tensor(w, requires_grad=True)
    b_t = torch.tensor(b, requires_grad=True)
    x_t, y_t = torch.tensor(x), torch.tensor(y)
    ((x_t @ w_t + b_t - y_t) ** 2).sum().div(2 * len(x)).backward()
    return w_t.grad.numpy(), b_t.grad.numpy()


def test_the_literal_backward_is_right_at_four_rows_only():
    # the oracle, apart from symgrad: the literal 4 agrees with torch at N = 4 and not at N = 5
    rng = np.random.default_rng(3)
    w, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    for rows, right in ((4, True), (5, False)):
        x, y = rng.standard_normal((rows, 3)), rng.standard_normal((rows, 2))
        dw, db = _torch_grads(x, w, b, y)
        for got, want in zip(literal_dw_backward(1.0, x, w, b, y), (dw, db)):
            if got.shape == dw.shape:
                assert np.allclose(got, want) == right
        assert np.allclose(regression_backward(1.0, x, w, b, y)[0], dw)


def test_literal_batch_size_in_a_backward_is_not_equal_and_names_the_line():
    out, wrt = _regression()
    n = _first_n(out, wrt)
    assert n == 4                       # the literal the backwards below write
    assert sg.check_backward(out, wrt, literal_dw_backward, dims={N: n})      # at that N alone it passes
    r = wrong(sg.check_backward(out, wrt, literal_dw_backward), "the claim holds at N = 4 only, not at N = 5")
    assert "a literal 4 where the size N belongs" in r.hint
    assert "literal_dw_backward, line" in r.hint and "dW = X.T @ d / 4" in r.hint
    assert "X.shape[0]" in r.hint                                 # how to read N instead
    assert r.counterexample.param == "W"
    r = wrong(sg.check_backward(out, wrt, literal_db_backward), "the claim holds at N = 4 only")
    assert "d.sum(0) / 4" in r.hint and r.counterexample.param == "b"


def test_right_backward_is_equal_at_both_sizes():
    out, wrt = _regression()
    r = sg.check_backward(out, wrt, regression_backward)
    assert r and r.verdict == "equal" and "decided again at N = 5" in r.method, str(r)


def test_a_literal_as_a_decimal_in_a_lambda():
    out, wrt = _regression()
    r = wrong(sg.check_backward(out, wrt, lambda dout, X, W, b, Y: (
        X.T @ (X @ W + b - Y) * 0.25, (X @ W + b - Y).sum(0) / len(X))), "the claim holds at N = 4 only")
    assert "a literal 4" in r.hint and "the lambda, line" in r.hint and "* 0.25" in r.hint


def _affine():
    x, w, b = sg.tensor("x", (N, 3, 2)), sg.tensor("w", (6, 5)), sg.tensor("b", (5,))
    return x.reshape(N, -1) @ w + b, [x, w, b]


def reshape_literal_backward(dout, x, w, b):
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(4, -1).T @ dout
    return dx, dw, dout.sum(axis=0)


def test_a_reshape_to_the_literal_raises_at_the_second_size():
    out, wrt = _affine()
    first = _first_n(out, wrt)
    r = wrong(sg.check_backward(out, wrt, reshape_literal_backward), f"the claim holds at N = {first} only")
    assert f"a literal {first}" in r.hint and "x.reshape(4, -1)" in r.hint
    assert "raised ValueError" in r.hint and "cannot reshape" in r.hint
    assert r.counterexample is None and "raised ValueError" in r.method


def test_a_backward_raising_at_the_first_size_is_still_an_error():
    out, wrt = _affine()
    with pytest.raises(sg.BackwardError, match="cannot reshape"):
        sg.check_backward(out, wrt, lambda dout, x, w, b: reshape_literal_backward(dout, x.reshape(7, 3, 2), w, b))


def _scaled_backward(dout, X, W, b, Y, scale):
    d = X @ W + b - Y
    return X.T @ d * scale, d.sum(0) * scale


def test_without_readable_source_the_hint_still_names_the_size():
    out, wrt = _regression()
    r = wrong(sg.check_backward(out, wrt, functools.partial(_scaled_backward, scale=1 / 4)),
              "the claim holds at N = 4 only")
    assert "a number written where the size N belongs (read it off an array, X.shape[0])" in r.hint


def test_size_fixed_by_the_user_is_not_moved():
    out, wrt = _regression()
    r = sg.check_backward(out, wrt, literal_dw_backward, dims={N: 4})
    assert r and "decided again" not in r.method


def test_sg_check_with_a_function_claim_is_decided_again_too():
    out, wrt = _regression()
    W = wrt[0]
    sizes = []

    def backprop(values):
        sizes.append(len(values["X"]))
        d = values["X"] @ values["W"] + values["b"] - values["Y"]
        return values["X"].T @ d / 4

    r = wrong(sg.check(out, W, backprop), "the claim holds at N = 4 only")
    assert "backprop, line" in r.hint and sizes[-1] == 5 and 4 in sizes


def affine_forward_cs231n(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


def affine_backward_cs231n(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(4, -1).T @ dout                  # the literal, inside the function the wrapper calls
    return dx, dw, dout.sum(axis=0)


def test_the_literal_is_found_in_the_function_a_wrapper_calls():
    # cs231n's backward(dout, cache), checked through the wrapper the BackwardError message suggests
    out, wrt = _affine()
    r = wrong(sg.check_backward(out, wrt, lambda dout, x, w, b: affine_backward_cs231n(
        dout, affine_forward_cs231n(x, w, b)[1])), "the claim holds at N = 4 only")
    assert "affine_backward_cs231n, line" in r.hint and "x.reshape(4, -1)" in r.hint, r.hint
