"""A backward with the batch size written as a number can raise at the first N the check draws
(``.reshape(4, 2, 3)`` when N = 5): the check tries the numbers its source writes as N, and where it
runs and is right the verdict is "not equal" with the literal's line quoted and x.shape[0] named;
a number that is not the batch size leaves the error as it was. Oracle: torch.autograd (float64)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
from symgrad.checking.tensors import concretize, fixed_sizes

from verdicts import N, wrong


def _affine():
    """x (N, 2, 3) flattened, @ w (6, 4) + b: the fixed dimensions 2, 3, 4, 6 make the first N 5."""
    x, w, b = sg.tensor("x", (N, 2, 3)), sg.tensor("w", (6, 4)), sg.tensor("b", (4,))
    return x.reshape(N, -1) @ w + b, [x, w, b]


def _first_n(out, wrt) -> int:
    return fixed_sizes(out, concretize(out, wrt, None, {})[0])["N"]


def affine_backward(dout, x, w, b):
    dx = dout.dot(w.T).reshape(4, 2, 3)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = dout.sum(axis=0)
    return dx, dw, db


def doubled_dw_backward(dout, x, w, b):
    dx = dout.dot(w.T).reshape(4, 2, 3)
    dw = 2 * x.reshape(x.shape[0], -1).T.dot(dout)
    return dx, dw, dout.sum(axis=0)


def seven_backward(dout, x, w, b):
    dx = dout.dot(w.T).reshape(7, 2, 3)
    return dx, x.reshape(len(x), -1).T.dot(dout), dout.sum(axis=0)


def _torch_affine(x, w, b, dout):
    xs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    (xs[0].reshape(len(x), -1) @ xs[1] + xs[2]).backward(torch.tensor(dout))
    return [t.grad.numpy() for t in xs]


def test_the_oracle_literal_backward_is_right_at_four_rows_and_raises_at_five():
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((6, 4)), rng.standard_normal(4)
    x, dout = rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 4))
    for got, want in zip(affine_backward(dout, x, w, b), _torch_affine(x, w, b, dout)):
        assert np.allclose(got, want)
    with pytest.raises(ValueError, match="cannot reshape"):
        affine_backward(rng.standard_normal((5, 4)), rng.standard_normal((5, 2, 3)), w, b)


def test_raising_at_the_first_size_names_the_literal_line():
    out, wrt = _affine()
    assert _first_n(out, wrt) == 5                # the literal 4 bites at the first size
    r = wrong(sg.check_backward(out, wrt, affine_backward), "the claim holds at N = 4 only, not at N = 5")
    assert "raised ValueError: cannot reshape" in r.hint
    assert "a literal 4 where the size N belongs" in r.hint
    assert "affine_backward, line" in r.hint and "dx = dout.dot(w.T).reshape(4, 2, 3)" in r.hint
    assert "read it off an array, x.shape[0]" in r.hint
    assert r.counterexample is None and "tried at N = 4" in r.method


def test_wrong_at_the_literal_size_too_gives_that_counterexample():
    out, wrt = _affine()
    r = wrong(sg.check_backward(out, wrt, doubled_dw_backward), "the claim holds at N = 4 only")
    assert "reshape(4, 2, 3)" in r.hint and "not equal either" in r.hint
    assert "constant factor" in r.hint and "2 times" in r.hint
    assert r.counterexample is not None and r.counterexample.param == "w"
    assert np.shape(r.counterexample.point["x"]) == (4, 2, 3)


def test_a_number_that_is_not_the_batch_size_leaves_the_error():
    out, wrt = _affine()
    # at N = 7 it runs: the literal is found even when it is not the first size tried
    r = wrong(sg.check_backward(out, wrt, seven_backward), "the claim holds at N = 7 only, not at N = 5")
    assert "reshape(7, 2, 3)" in r.hint
    # a backward that raises at every N (a wrong reshape of dw): still a BackwardError
    with pytest.raises(sg.BackwardError, match="cannot reshape") as e:
        sg.check_backward(out, wrt, lambda dout, x, w, b: (dout.dot(w.T).reshape(x.shape),
                                                           x.reshape(len(x), -1).T.dot(dout).reshape(4, 7),
                                                           dout.sum(0)))
    assert "literal" not in str(e.value)


def test_size_fixed_by_the_user_keeps_the_error_with_a_sentence_on_the_number():
    out, wrt = _affine()
    with pytest.raises(sg.BackwardError, match="cannot reshape") as e:
        sg.check_backward(out, wrt, affine_backward, dims={N: 5})
    msg = str(e.value)
    assert "It runs at N = 4: a literal 4 where the size N belongs" in msg
    assert "affine_backward, line" in msg and "reshape(4, 2, 3)" in msg and "x.shape[0]" in msg


def test_without_a_size_that_runs_the_number_in_the_raising_line_is_named():
    # raises at every N (7 is no size of this layer; N = 7 breaks the other reshape): the sentence
    # on the raising line's number, hedged
    out, wrt = _affine()
    with pytest.raises(sg.BackwardError, match="cannot reshape") as e:
        sg.check_backward(out, wrt, lambda dout, x, w, b: (
            dout.dot(w.T).reshape(7, 2, 3), x.reshape(5, -1).T.dot(dout), dout.sum(0)), dims={N: 6})
    msg = str(e.value)
    assert "the lambda, line" in msg and "writes the number 7" in msg and "the size N is 6 here" in msg


def test_a_values_function_claim_raising_at_the_first_size():
    X, W, Y = sg.tensor("X", (N, 4)), sg.tensor("W", (4, 3)), sg.tensor("Y", (N, 3))
    f = sg.sum((X @ W - Y) ** 2) / (2 * N)
    assert _first_n(f, W) == 5

    def backprop(values):
        X, W, Y = values["X"], values["W"], values["Y"]
        D = np.zeros((4, 3))
        D[:] = X @ W - Y
        return X.T @ D / len(X)

    r = wrong(sg.check(f, W, backprop), "the claim holds at N = 4 only, not at N = 5")
    # the line that raised writes no number: the line that writes the 4 is quoted
    assert "backprop, line" in r.hint and "D = np.zeros((4, 3))" in r.hint and "could not broadcast" in r.hint
    assert "X.shape[0]" in r.hint


def test_a_literal_of_the_second_of_two_sizes_is_found():
    # x (N, T, 3): a recurrent layer's input; the backward writes T = 4 as a number
    from verdicts import N as batch
    import sympy as sp
    T = sp.Symbol("T", integer=True, positive=True)
    x, w = sg.tensor("x", (batch, T, 3)), sg.tensor("w", (3, 2))
    out = x @ w
    sizes = fixed_sizes(out, concretize(out, [x, w], None, {})[0])
    assert sizes["T"] != 4

    def backward(dout, x, w):
        dw = x.reshape(-1, 3).T @ dout.reshape(-1, 2)
        dx = (dout.reshape(-1, 2) @ w.T).reshape(len(x), 4, 3)
        return dx, dw
    r = wrong(sg.check_backward(out, [x, w], backward), f"the claim holds at T = 4 only, not at T = {sizes['T']}")
    assert "reshape(len(x), 4, 3)" in r.hint and "x.shape[1]" in r.hint


def test_a_values_function_raising_at_a_size_the_user_fixed_gets_a_note():
    X, W, Y = sg.tensor("X", (N, 4)), sg.tensor("W", (4, 3)), sg.tensor("Y", (N, 3))
    f = sg.sum((X @ W - Y) ** 2) / (2 * N)

    def backprop(values):
        X, W, Y = values["X"], values["W"], values["Y"]
        return X.T @ (X @ W - Y).reshape(7, 3) / len(X)

    with pytest.raises(ValueError, match="cannot reshape") as e:      # its own exception, unwrapped
        sg.check(f, W, backprop, at={N: 6})
    notes = " ".join(getattr(e.value, "__notes__", []))
    assert "It runs at N = 7: a literal 7 where the size N belongs (backprop, line" in notes
    assert "reshape(7, 3)" in notes and "X.shape[0]" in notes
