"""A few kink entries (at most 3) are seen in every combination of their sides, not only each on
both sides: a Huber loss's derivative claimed as 1 (for sign(x)) where |x| > 1 is wrong only where
x < −1 — |x| − 1 > 0 together with x < 0 — and points that saw each kink on both sides but never
that pair called it equal. Impossible combinations (relu(x) and relu(x − 1) with x < 0 < x − 1)
are said as not reached, not claimed seen."""
from __future__ import annotations

import re

import numpy as np
import sympy as sp
import torch

import symgrad as sg

x = sp.Symbol("x", real=True)
HUBER = sp.Piecewise((x ** 2 / 2, sp.Abs(x) <= 1), (sp.Abs(x) - sp.Rational(1, 2), True))


def test_the_huber_derivative_is_torchs():
    xs = torch.tensor([-2.5, -0.3, 0.4, 1.7], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.huber_loss(xs, torch.zeros(4, dtype=torch.float64), reduction="sum", delta=1.0).backward()
    right = sp.Piecewise((x, sp.Abs(x) <= 1), (sp.sign(x), True))
    np.testing.assert_allclose([float(right.subs(x, v)) for v in (-2.5, -0.3, 0.4, 1.7)], xs.grad.numpy())
    r = sg.check(HUBER, x, right)
    assert r and "every combination of their sides seen" in r.method, r.method


def test_a_claim_wrong_in_one_combination_of_sides_only_is_not_equal():
    r = sg.check(HUBER, x, sp.Piecewise((x, sp.Abs(x) <= 1), (1, True)))
    assert not r and r.counterexample.point["x"] < -1, str(r)


def test_impossible_combinations_are_not_claimed_seen():
    r = sg.check(sg.relu(x) + sg.relu(x - 1), x, sp.Heaviside(x) + sp.Heaviside(x - 1))
    assert r and "3 of the 4 combinations of their sides seen" in r.method, r.method



def test_the_points_added_for_combinations_are_not_said_to_reach_a_side():
    """Three relus: the points that reach each kink's missing side and those added for the
    combinations of sides are told apart; the method said all of them were "added to reach a side"."""
    y, z = sp.symbols("y z", real=True)
    r = sg.check(sg.relu(x) + sg.relu(y) + sg.relu(z), [x, y, z], [sp.Heaviside(x), sp.Heaviside(y), sp.Heaviside(z)])
    assert r and "every combination of their sides seen (" in r.method, r.method
    sides = re.search(r"(\d+) point\(s\) added to reach a side", r.method)
    combos = re.search(r"every combination of their sides seen \((\d+) point\(s\) added for them\)", r.method)
    assert combos and int(combos.group(1)) >= 1, r.method
    assert sides is None or int(sides.group(1)) < 8, r.method
