"""sg.eye(n, m, k) is one node that prints eye(N) (2026-12-01, twelfth session): it printed
tril(ones((N, N)))*triu(ones((N, N))), so CLIP's / InfoNCE's gradient read softmax(s, axis=1)/N -
tril(ones((N, N)))*triu(ones((N, N)))/N and a derivation's loss line (… ⊙ tril(𝟙) ⊙ triu(𝟙)). Its
values are NumPy's np.eye; it lowers to the same triangular masks (the compiled programs unchanged)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize("args,shown,want", [
    ((3,), "eye(3)", np.eye(3)), ((3, 4), "eye(3, 4)", np.eye(3, 4)), ((3, 4, 1), "eye(3, 4, k=1)", np.eye(3, 4, 1)),
    ((4, 4, -2), "eye(4, 4, k=-2)", np.eye(4, 4, -2)),
])
def test_prints_and_evaluates_as_numpys_eye(args, shown, want):
    e = sg.eye(*args)
    assert str(e) == shown and e.shape == want.shape and not e.free_symbols
    np.testing.assert_array_equal(np.asarray(sg.numeric(e, {}), float), want)
    np.testing.assert_array_equal(np.asarray(sg.numeric(1 - 2 * e, {}), float), 1 - 2 * want)


def test_contrastive_gradient_reads_eye():
    s = sg.tensor("s", (N, N))
    g = sg.grad(sg.cross_entropy(s, sg.arange(N)), s)
    assert str(g) == "-eye(N)/N + softmax(s, axis=1)/N", g
    d = sg.derive(sg.cross_entropy(s, sg.arange(N)), s)
    assert "∂f/∂s = (softmax(s, axis=1) − eye(N))/N" in str(d) and "tril" not in str(d).splitlines()[0]
    assert r"\operatorname{eye}\left(N\right)" in d.latex()
    sv = np.random.default_rng(2).normal(size=(4, 4))
    p = np.exp(sv - sv.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(np.asarray(sg.numeric(g, {s: sv}), float), (p - np.eye(4)) / 4, rtol=1e-12)
