"""A tensor claim is decided at two values of each symbolic size the check picks: a claim with a
literal batch size (``X.T @ D / 5`` where ``/ N`` belongs) is right at one N only, and must be "not
equal" even when the literal is the N the check picks first."""
from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.checking.tensors import concretize, fixed_sizes

N = sp.Symbol("N", integer=True, positive=True)
M = sp.Symbol("M", integer=True, positive=True)


def _mse():
    X, W, T = sg.tensor("X", (N, 3)), sg.tensor("W", (3, 2)), sg.tensor("T", (N, 2))
    return X, W, T, sg.sum((X @ W - T) ** 2) / (2 * N)


def _first_n(f, wrt) -> int:
    """The N the check uses first (a literal equal to it would pass a check at one N)."""
    return fixed_sizes(f, concretize(f, wrt, None, {})[0])["N"]


def _fd_grad_w(x, w, t):
    """∂/∂W of sum((XW − T)²)/(2N) by central differences in float64 (an oracle apart from symgrad)."""
    def loss(w_):
        return np.sum((x @ w_ - t) ** 2) / (2 * len(x))
    g, h = np.zeros_like(w), 1e-6
    for idx in np.ndindex(*w.shape):
        e = np.zeros_like(w)
        e[idx] = h
        g[idx] = (loss(w + e) - loss(w - e)) / (2 * h)
    return g


def test_the_literal_is_right_at_the_first_n_only():
    # the oracle: X.T (XW − T) / n is the gradient when the batch has n rows, and not at n + 2
    n = 4
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 2))
    for rows, right in ((n, True), (n + 2, False)):
        x, t = rng.standard_normal((rows, 3)), rng.standard_normal((rows, 2))
        literal = x.T @ (x @ w - t) / n
        assert np.allclose(literal, _fd_grad_w(x, w, t), atol=1e-6) == right


def test_literal_batch_size_is_not_equal_with_a_hint():
    X, W, T, f = _mse()
    n = _first_n(f, W)
    claim = X.T @ (X @ W - T) / n
    assert sg.check(f, W, claim, at={N: n})          # at that N alone the literal passes ...
    r = sg.check(f, W, claim)                          # ... but the check tries a second N
    assert not r and r.verdict == "not equal"
    assert "literal" in r.hint and f"N = {n} only" in r.hint and "size N" in r.hint


def test_right_claim_is_equal_at_both_sizes():
    X, W, T, f = _mse()
    r = sg.check(f, W, X.T @ (X @ W - T) / N)
    assert r and r.verdict == "equal" and "decided again at N = " in r.method
    s, y = sg.tensor("s", (N, 3)), sg.tensor("y", (N,), integer=True)
    assert sg.check(sg.cross_entropy(s, y), s, (sg.softmax(s, axis=1) - sg.one_hot(y, 3)) / N)


def test_literal_in_a_softmax_loss_claim():
    s, y = sg.tensor("s", (N, 3)), sg.tensor("y", (N,), integer=True)
    f = sg.cross_entropy(s, y)
    n = _first_n(f, s)
    r = sg.check(f, s, (sg.softmax(s, axis=1) - sg.one_hot(y, 3)) / n)
    assert not r and "literal" in r.hint


def test_two_sizes_both_moved():
    x = sg.tensor("x", (N, M))
    f = sg.sum(x ** 2) / N
    first = fixed_sizes(f, concretize(f, x, None, {})[0])
    assert sg.check(f, x, 2 * x / N)
    r = sg.check(f, x, 2 * x / first["N"])
    assert not r and "literal" in r.hint and "N" in r.hint and "M" in r.hint


def test_size_given_in_at_is_not_moved():
    X, W, T, f = _mse()
    r = sg.check(f, W, X.T @ (X @ W - T) / 7, at={N: 7})   # the user fixed N = 7: checked there only
    assert r and "decided again" not in r.method


def test_literal_named_in_text_and_when_folded():
    X, W, T, f = _mse()
    n = _first_n(f, W)
    r = sg.check(f, W, f"X.T @ (X @ W - T) * {1 / n}")      # text, 1/n written as a decimal
    assert not r and f"a literal {n} where the size N belongs" in r.hint
    r = sg.check(f, W, X.T @ (X @ W - T) * 2 / (2 * n))      # the n folded into another number
    assert not r and "literal" in r.hint
