"""The derivative bodies of floor and ceiling stay what they are (2026-12-01).
While differentiating, floor and ceiling are swapped for private step functions and swapped back
after; ``_Ceiling`` was a subclass of ``_Floor`` and ``replace(_Floor, floor)`` matches subclasses,
so ∂(a·ceiling(a) + floor(a))/∂a came back as floor(a) (and a gradient through it was wrong
wherever a is not an integer). Oracle: the derivative written by hand, and central differences."""
from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.core.placeholders import ph
from symgrad.core.policy import Subgradients
from symgrad.core.rules import derivative_body


def test_ceiling_next_to_floor_keeps_its_own_function():
    a = ph(0)
    assert derivative_body(a * sp.ceiling(a) + sp.floor(a), 0, Subgradients()) == sp.ceiling(a)
    assert derivative_body(a * sp.floor(a) + sp.ceiling(a), 0, Subgradients()) == sp.floor(a)


def test_gradient_through_ceiling_and_floor_matches_differences():
    x = sg.tensor("x", (4,))
    loss = (x * sp.ceiling(x) + sp.floor(x)).sum()
    xv = np.array([0.3, -1.6, 2.2, -0.4])
    g = sg.numeric(sg.grad(loss, x), {x: xv})  # ∂/∂x = ceiling(x), away from the integers
    f = lambda v: float(np.sum(v * np.ceil(v) + np.floor(v)))
    h = 1e-6
    fd = np.array([(f(xv + h * e) - f(xv - h * e)) / (2 * h) for e in np.eye(4)])
    np.testing.assert_allclose(np.asarray(g, dtype=float), fd, atol=1e-6)
    np.testing.assert_allclose(fd, np.ceil(xv), atol=1e-6)
