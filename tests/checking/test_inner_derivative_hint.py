"""The chain rule stopped one step short — the claim is ∂f/∂u for some u(w) inside f, the inner
derivative ∂u/∂w left out — is named with u and ∂u/∂w (it read as a bare "not equal"). Each slipped
claim is checked against sympy.diff first: the claim times ∂u/∂w is the derivative."""
from __future__ import annotations

import pytest
import sympy as sp

import symgrad as sg

w, x, y, b = sp.symbols("w x y b", real=True)

CASES = [  # f, the slipped claim, u, ∂u/∂w
    ((w * x + b - y) ** 2 / 2, w * x + b - y, w * x + b - y, x),
    (sp.log(w ** 2 + 1), 1 / (w ** 2 + 1), w ** 2 + 1, 2 * w),
    (sg.sigmoid(w * x), sg.sigmoid(w * x) * (1 - sg.sigmoid(w * x)), w * x, x),
    (sp.sin(w ** 2) ** 2, 2 * sp.sin(w ** 2) * sp.cos(w ** 2), w ** 2, 2 * w),
]


@pytest.mark.parametrize("f, claim, u, du", CASES)
def test_the_inner_derivative_left_out_is_named(f, claim, u, du):
    assert sp.simplify(claim * du - sp.diff(f, w).doit()) == 0 and sp.diff(u, w) == du
    r = sg.check(f, w, claim)
    assert not r and r.hint.startswith(f"inner derivative left out: the claim is ∂f/∂u with u = {u}"), r.hint
    assert r.hint.endswith(f"∂u/∂w = {du}.")


def test_the_text_claim_gets_it_too_and_a_constant_inner_factor_stays_a_factor():
    r = sg.check((w * x + b - y) ** 2 / 2, w, "(w*x + b - y)")
    assert r.hint.startswith("inner derivative left out")
    assert sg.check(sp.exp(3 * w), w, sp.exp(3 * w)).hint.startswith("constant factor")
