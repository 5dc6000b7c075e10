"""`_short` (symgrad/teaching/steps.py) on a long product's partials: ∏_{j≠i} uⱼ of a 150-factor product
is long without SymPy's count_ops walking it (that took 2 s of a 150-input derivation's steps), and a
short product or sum is still told from a long one as count_ops tells them."""
import random

import sympy as sp

from symgrad.teaching import steps


def test_a_product_of_many_factors_is_long_without_counting(monkeypatch):
    u = sp.symbols("u1:150")
    counted = []
    real = sp.count_ops
    monkeypatch.setattr(sp, "count_ops", lambda e, *a, **k: counted.append(e) or real(e, *a, **k))
    assert not steps._short(sp.Mul(*u))
    assert not steps._short(sp.Add(*u))
    assert counted == []


def test_short_agrees_with_count_ops_near_the_limit():
    xs = sp.symbols("x0:14")
    rng = random.Random(3)
    seen = set()
    for _ in range(300):
        k = rng.randint(2, 13)
        fs = []
        for s in xs[:k]:
            r = rng.random()
            fs.append(s if r < .4 else 1 / s if r < .55 else -s if r < .65 else
                      sp.Rational(rng.choice([-3, -1, 2, 5]), rng.randint(1, 4)) if r < .75 else s**2 if r < .85 else 1 / (s + 1))
        for e in (sp.Mul(*fs), sp.Add(*fs)):
            want = sp.count_ops(steps.sign_inside(e)) <= steps.SHORT_OPS     # the oracle: SymPy's own count
            assert steps._short(e) == want, e
            seen.add(want)
    assert seen == {True, False}
