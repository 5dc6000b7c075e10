"""`sg.check_backward`: cs231n-style layers declared in a few lines, checked against NumPy backward
functions written here as the course writes them — right, and with the classic slips injected
(each caught, and named where the hints table has a name for it)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.checking.backward import BackwardError

N = sp.Symbol("N", integer=True, positive=True)


def wrong(r, named=None):
    """The verdict is "not equal", and the hint starts with ``named`` when one is given."""
    assert not r and r.verdict == "not equal", str(r)
    if named is not None:
        assert r.hint is not None and r.hint.startswith(named), r.hint
    return r


# ---------------------------------------------------------------------------------------------------
# affine: out = x.reshape(N, -1) @ w + b on (N, 3, 2) inputs, b broadcast over the batch


def _affine():
    x, w, b = sg.tensor("x", (N, 3, 2)), sg.tensor("w", (6, 5)), sg.tensor("b", (5,))
    return x.reshape(N, -1) @ w + b, [x, w, b]


def affine_backward(dout, x, w, b, slip=None):
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    if slip == "transpose":
        dw = dout.T @ x.reshape(x.shape[0], -1)
    if slip == "db per example":
        db = dout
    if slip == "factor":
        dx = 2 * dx
    return dx, dw, db


def test_affine_right():
    out, wrt = _affine()
    r = sg.check_backward(out, wrt, affine_backward)
    assert r and r.verdict == "equal", str(r)


def test_affine_slips():
    out, wrt = _affine()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: affine_backward(*a, **v, slip="transpose")),
              "transpose")
    assert r.counterexample.param == "w"
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: affine_backward(*a, **v, slip="db per example")),
              "missing sum")
    assert r.counterexample.param == "b" and "(5)" in r.hint      # names b and the shape it needs
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: affine_backward(*a, **v, slip="factor")),
              "constant factor: the claim is 2 times")
    assert r.counterexample.param == "x"


def test_gradients_as_a_dict_by_name_and_sizes_from_dims():
    out, wrt = _affine()
    seen = []

    def backward(dout, x, w, b):
        seen.append(x.shape)
        dx, dw, db = affine_backward(dout, x, w, b)
        return {"b": db, "x": dx, "w": dw}
    assert sg.check_backward(out, wrt, backward, dims={N: 3})
    assert seen and set(seen) == {(3, 3, 2)}


# ---------------------------------------------------------------------------------------------------
# relu


def test_relu_right_and_mask_on_the_wrong_tensor():
    x = sg.tensor("x", (N, 5))
    assert sg.check_backward(sg.relu(x), [x], lambda dout, x: dout * (x > 0))
    assert sg.check_backward(sp.Max(x, 0), x, lambda dout, x: np.where(x > 0, dout, 0))
    wrong(sg.check_backward(sg.relu(x), [x], lambda dout, x: dout * (dout > 0)))   # mask from dout
    wrong(sg.check_backward(sg.relu(x), [x], lambda dout, x: (x > 0) * 1.0))       # dout forgotten


# ---------------------------------------------------------------------------------------------------
# softmax loss with integer labels: a scalar out, so dout = 1


def softmax_loss(x, y, slip=None):
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = x.shape[0]
    loss = -np.sum(log_probs[np.arange(n), y]) / n
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    if slip != "1/N":
        dx /= n
    return loss, dx


def test_softmax_loss_right_and_the_forgotten_1_over_N():
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True)
    labels = []

    def backward(dout, x, y):
        labels.append(y)
        return dout * softmax_loss(x, y)[1]
    r = sg.check_backward(sg.cross_entropy(x, y), [x], backward)
    assert r and r.verdict == "equal", str(r)
    assert all(l.dtype.kind == "i" and set(l) <= {0, 1, 2} for l in labels)     # labels in range
    r = wrong(sg.check_backward(sg.cross_entropy(x, y), [x],
                                lambda dout, x, y: softmax_loss(x, y, slip="1/N")[1]), "constant factor")
    assert "1/N missing" in r.hint


# ---------------------------------------------------------------------------------------------------
# errors: backward raising, the wrong number of gradients, non-finite values, bad arguments


def test_backward_errors_are_clear():
    out, wrt = _affine()

    def raises(dout, x, w, b):
        return dout @ w          # shapes that do not fit: NumPy raises
    with pytest.raises(BackwardError, match=r"backward raised ValueError.*called as backward\(dout"):
        sg.check_backward(out, wrt, raises)
    with pytest.raises(BackwardError, match=r"2 gradient\(s\) for 3 wrt"):
        sg.check_backward(out, wrt, lambda dout, x, w, b: affine_backward(dout, x, w, b)[:2])
    with pytest.raises(BackwardError, match=r"missing \['b'\]"):
        sg.check_backward(out, wrt, lambda dout, x, w, b: dict(zip("xw", affine_backward(dout, x, w, b))))
    with pytest.raises(BackwardError, match=r"gradient for 'w' is not finite"):
        sg.check_backward(out, wrt, lambda dout, x, w, b: (affine_backward(dout, x, w, b)[0], np.full_like(w, np.inf),
                                                           dout.sum(0)))
    with pytest.raises(sg.ArgumentError, match="'M'.*symbolic sizes are \\['N'\\]"):
        sg.check_backward(out, wrt, affine_backward, dims={"M": 3})
    with pytest.raises(sg.ArgumentError, match="tensor expression"):
        x = sp.Symbol("x")
        sg.check_backward(x ** 2, [x], lambda dout, x: 2 * x)
