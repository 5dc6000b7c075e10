"""sg.check of a claim about an expression with a stop_gradient: the value of stop_gradient(a) is a's
(a claim without it is proved equal), the central-difference cross-check holds it at the point (it
used to report a DISAGREEMENT), and the classic slip — differentiating through it — is found."""
from __future__ import annotations

import sympy as sp

import symgrad as sg

x = sp.Symbol("x", real=True)
F = x * sg.stop_gradient(sp.sin(x))


def test_a_right_claim_is_proved_and_the_cross_check_agrees():
    r = sg.check(F, x, sp.sin(x))
    assert r and "proved equal" in r.method and "agreement" in r.method and "DISAGREEMENT" not in r.method
    assert sg.check(F, x, sg.stop_gradient(sp.sin(x)))


def test_differentiating_through_the_stop_gradient_is_not_equal():
    r = sg.check(F, x, sp.sin(x) + x * sp.cos(x))
    assert not r and "DISAGREEMENT" not in r.method


def test_tensors_with_detach():
    t, u = sg.tensor("t", (3,)), sg.tensor("u", (3,))
    g = ((t - u.detach()) ** 2).sum() + (t.detach() * u).sum()
    assert sg.check(g, [t, u], [2 * (t - u), t])
    r = sg.check(g, [t, u], [2 * (t - u), t - 2 * (t - u)])
    assert not r and "DISAGREEMENT" not in r.method
