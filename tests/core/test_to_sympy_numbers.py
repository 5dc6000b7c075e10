"""`sg.grad` prints a product's numbers folded: ½·reg·ΣW² gives 1.0*reg*W, not 2*(0.5*reg)*W (a
user trial's finding), for tensors and matrices, in the gradient and in the fan-out hint; the values
stay those of the unfolded form (checked against sympy.diff and the IR's own evaluation)."""
from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.core.evaluate import numeric

reg = sp.Symbol("reg", positive=True)


def test_regularisation_term_prints_folded():
    W2 = sg.tensor("W2", (5, 2))
    g = sg.grad(sp.Float(0.5) * reg * sg.sum(W2 * W2), W2)
    assert str(g) == "1.0*reg*W2"
    x = sg.tensor("x", (4,))
    assert str(sg.grad(3 * sg.sum(sp.Rational(1, 2) * reg * x * x), x)) == "3*reg*x"
    W = sp.MatrixSymbol("W", 3, 2)
    assert str(sg.grad(sp.Float(0.5) * reg * sp.trace(W.T * W), W)) == "1.0*reg*W"


def test_folded_values_equal_sympy_diff():
    x = sg.tensor("x", (4,))
    f = 3 * sg.sum(sp.Rational(1, 2) * reg * x * x)
    v = np.random.default_rng(0).standard_normal(4)
    got = np.asarray(numeric(sg.grad(f, x), {"x": v, "reg": 0.7}), float)
    s = sp.symbols("s0:4")
    fs = 3 * sum(sp.Rational(1, 2) * reg * si ** 2 for si in s)
    want = [float(sp.diff(fs, si).subs({**dict(zip(s, v)), reg: 0.7})) for si in s]
    assert np.allclose(got, want, rtol=1e-14, atol=0)


def test_fan_out_hint_names_the_folded_term():
    N = sp.Symbol("N", integer=True, positive=True)
    X, W1 = sg.tensor("X", (N, 3)), sg.tensor("W1", (3, 2))
    loss = sg.sum(sg.relu(X @ W1)) / N + sp.Float(0.5) * reg * sg.sum(W1 * W1)

    def backward(dout, X, W1, reg):                # the reg term left out of dW1
        return X.T @ ((X @ W1 > 0) / X.shape[0])
    r = sg.check_backward(loss, W1, backward, at={reg: 0.3})
    assert not r and r.hint.startswith("fan-out"), r.hint
    assert "(that term is 1.0*reg*W1)" in r.hint, r.hint
