"""`sg.check` of tensor expressions: symbolic sizes made concrete, integer labels drawn in range,
right claims accepted and the classic slips (a sum where there is a mean, a transpose) caught."""
from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _affine():
    x, w, b = sg.tensor("x", (N, 3, 2)), sg.tensor("w", (6, 5)), sg.tensor("b", (5,))
    dout = sg.tensor("dout", (N, 5))
    return x, w, b, dout, sg.sum((x.reshape(N, -1) @ w + b) * dout)


def test_affine_backward_right():
    x, w, b, dout, f = _affine()
    r = sg.check(f, [x, w, b], [(dout @ w.T).reshape(N, 3, 2), x.reshape(N, 6).T @ dout, dout.sum(axis=0)])
    assert r and r.verdict == "equal"


def test_affine_backward_slips_caught():
    x, w, b, dout, f = _affine()
    r = sg.check(f, b, dout.mean(axis=0))                  # a mean where there is a sum
    assert not r and "factor" in r.hint
    r = sg.check(f, w, (dout.T @ x.reshape(N, 6)))         # the transpose: shape (5, 6), not (6, 5)
    assert not r and "transpose" in r.hint


def test_softmax_loss_with_integer_labels():
    s, y = sg.tensor("s", (N, 3)), sg.tensor("y", (N,), integer=True)
    f = sg.cross_entropy(s, y)
    assert sg.check(f, s, (sg.softmax(s, axis=1) - sg.one_hot(y, 3)) / N)
    r = sg.check(f, s, sg.softmax(s, axis=1) - sg.one_hot(y, 3))        # the 1/N forgotten
    assert not r and "1/N" in r.hint


def test_callable_claim_gets_the_drawn_arrays():
    s, y = sg.tensor("s", (N, 3)), sg.tensor("y", (N,), integer=True)

    seen = []

    def backward(v):
        sc, lab = v["s"], v["y"].astype(int)
        seen.append(sc.shape)
        assert set(lab) <= {0, 1, 2}                             # labels in range
        p = np.exp(sc - sc.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(len(lab)), lab] -= 1
        return p / len(lab)
    assert sg.check(sg.cross_entropy(s, y), s, backward)
    # N = 4 by default, then once more at a second N (a literal batch size cannot pass)
    assert seen[0] == (4, 3) and seen[-1] == (5, 3) and set(seen) == {(4, 3), (5, 3)}


def test_size_given_with_at():
    x = sg.tensor("x", (N, 2))
    assert sg.check(sg.sum(x ** 2), x, 2 * x, at={N: 7})
    seen = []
    assert sg.check(sg.sum(x ** 2), x, lambda v: seen.append(v["x"].shape) or 2 * v["x"], at={N: 7})
    assert seen and all(s == (7, 2) for s in seen)


def test_at_may_be_keyed_by_a_tensor():
    # at= keyed by the tensor itself (not only by its name), as by a Symbol
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 2))
    r = sg.check(sg.sum((x @ w) ** 2), w, 2 * x.T @ (x @ w), at={x: np.ones((4, 3))})
    assert r.verdict == "equal"


def test_at_keyed_by_the_tensor_itself():
    # at= takes the tensor object as a key, like a Symbol or a MatrixSymbol (it was refused as "not a
    # symbol"); the given labels are used: with them the wrong class's one_hot differs
    s, y = sg.tensor("s", (3, 2)), sg.tensor("y", (3,), integer=True)
    f = sg.cross_entropy(s, y)
    right = (sg.softmax(s, axis=1) - sg.one_hot(y, 2)) / 3
    assert sg.check(f, s, right, at={y: np.array([0, 1, 1])})
    assert sg.check(f, s, right, at={"y": np.array([1, 0, 1]), s: np.zeros((3, 2))})
