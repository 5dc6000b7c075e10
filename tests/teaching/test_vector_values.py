"""A 1-D value (a bias b of shape (D,), a per-example loss of shape (N,)) prints as NumPy prints a
vector, [a, b, c], not as the one-row matrix [[a, b, c]] (which reads as shape (1, D)). The numbers
are NumPy's own for the layer."""
import re

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.teaching.render import number

N = sp.Symbol("N", integer=True, positive=True)


def test_number_of_a_vector():
    assert number(np.array([1.0, -2.5]), "unicode") == "[1, −2.5]"
    assert number(np.array([1.0, -2.5]), "text") == "[1, -2.5]"
    assert number(np.array([[1.0, -2.5]]), "text") == "[[1, -2.5]]"       # a (1, 2) matrix stays one


def test_bias_gradient_prints_as_a_vector():
    x, W, b = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 2)), sg.tensor("b", (2,))
    rng = np.random.default_rng(1)
    xv, wv, bv = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    text = sg.derive(sg.sum(sg.relu(x @ W + b)), [W, b], at={x: xv, W: wv, b: bv}).render("unicode")
    line = next(l for l in text.splitlines() if l.strip().startswith("∂f/∂b =") and "Gradient" not in l)
    want = ((xv @ wv + bv) >= 0).astype(float).sum(axis=0)      # relu'(0) = 1
    m = re.search(r"= \[([^\[\]]+)\]$", line.split("    [")[0])       # the value, before the rule
    assert m, line
    got = [float(v.replace("−", "-")) for v in m.group(1).split(", ")]
    np.testing.assert_allclose(got, want, rtol=1e-3)
