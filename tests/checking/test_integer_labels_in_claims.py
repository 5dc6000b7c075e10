"""A callable claim gets a tensor declared ``integer=True`` as integers, so that a cs231n softmax
backward can index with its labels, ``p[np.arange(N), y] -= 1``. Before (2026-11-30, tenth session,
found by a newcomer's trial) the labels came as float64 and the student's right backward ended in
NumPy's "arrays used as indices must be of integer (or boolean) type". Oracle: torch.autograd."""
import numpy as np
import torch

import symgrad as sg

N, D, C = 5, 4, 3


def _softmax_backward(v):
    X, W, y = v["X"], v["W"], v["y"]
    s = X @ W
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return X.T @ p / len(y)


def test_labels_reach_a_callable_claim_as_integers():
    X, W, y = sg.tensor("X", (N, D)), sg.tensor("W", (D, C)), sg.tensor("y", (N,), integer=True)
    seen = []
    r = sg.check(sg.cross_entropy(X @ W, y), W, lambda v: seen.append(v["y"].dtype) or _softmax_backward(v))
    assert r.verdict == "equal", r
    assert seen and all(np.issubdtype(d, np.integer) for d in seen), seen


def test_the_backward_it_accepts_is_torchs():
    rng = np.random.default_rng(0)
    v = {"X": rng.normal(size=(N, D)), "W": rng.normal(size=(D, C)), "y": rng.integers(0, C, N)}
    W = torch.tensor(v["W"], requires_grad=True)
    torch.nn.functional.cross_entropy(torch.tensor(v["X"]) @ W, torch.tensor(v["y"])).backward()
    np.testing.assert_allclose(_softmax_backward(v), W.grad.numpy(), rtol=1e-12)


def test_an_unknown_convention_is_an_argument_error():
    """An argument symgrad does not accept is an ArgumentError (errors.py); it was a bare SymgradError."""
    import pytest
    import sympy as sp
    x = sp.MatrixSymbol("x", 3, 1)
    with pytest.raises(sg.ArgumentError, match=r"convention must be 'column' or 'row', got 'rows'"):
        sg.check((x.T * x)[0, 0], x, 2 * x, convention="rows")
