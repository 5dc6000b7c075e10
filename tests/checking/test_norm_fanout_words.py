"""A norm layer's backward with one term of the alt formula dropped or its sign flipped: the fan-out
hint names the term as the backward writes it (the variance's term, the mean's term) instead of
printing the path's SymPy term. The right backward is checked against torch in test_operand_slips.py."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

from test_operand_slips import EPS, norm_backward
from verdicts import N, wrong


def alt_backward(dout, x, gamma, beta, axis, slip):
    mu, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True)
    std = np.sqrt(var + EPS)
    xhat, dxhat = (x - mu) / std, dout * gamma
    mean_term = dxhat.mean(axis=axis, keepdims=True)
    var_term = xhat * (dxhat * xhat).mean(axis=axis, keepdims=True)
    dx = {"variance term +": dxhat - mean_term + var_term, "mean term left out": dxhat - var_term}[slip] / std
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


@pytest.mark.parametrize("axis", [0, 1], ids=["batchnorm", "layernorm"])
@pytest.mark.parametrize("slip, words", [("variance term +", "flips the sign of the term of the path x →"),
                                         ("mean term left out", "leaves out the term of the path x →")])
def test_the_alt_formulas_terms_are_named_as_the_backward_writes_them(axis, slip, words):
    x, gamma, beta = sg.tensor("x", (N, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,))
    mu, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True)
    out, wrt = gamma * (x - mu) / sp.sqrt(var + EPS) + beta, [x, gamma, beta]
    assert sg.check_backward(out, wrt, lambda *a, **v: norm_backward(*a, **v, axis=axis)).verdict == "equal"
    r = wrong(sg.check_backward(out, wrt, lambda *a, **v: alt_backward(*a, **v, axis=axis, slip=slip)), "fan-out")
    which = "the variance's term - xhat * (dxhat * xhat).mean(...)" if "variance" in slip else \
        "the mean's term - dxhat.mean(...)"
    assert words in r.hint and which in r.hint, r.hint
    assert f"dxhat.mean(axis={axis}, keepdims=True)" in r.hint and "that term is" not in r.hint
