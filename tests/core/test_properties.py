"""Property test: on random scalar expressions, `sg.grad` equals `sympy.diff`.

A recursive hypothesis strategy builds expressions over x, y, z and small integers and rationals with
+, −, ·, /, powers, exp, log, sin, cos, tanh, sg.sigmoid and sg.softplus (size capped, so a run stays
fast). Equality: the difference is 0 after expansion, or `simplify` makes it 0 (small expressions
only: simplify is slow on big ones), else both sides agree to 12 significant digits at random points
where both are finite, evaluated by mpmath at 40 digits. sympy.diff sees sigmoid and softplus written
out by hand, so the oracle does not use the ``fdiff`` under test.
"""
from __future__ import annotations

import random

import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symgrad as sg
from oracle import elementary

X, Y, Z = SYMS = sp.symbols("x y z", real=True)

symbols = st.sampled_from(SYMS)
numbers = st.one_of(st.integers(-3, 3).map(sp.Integer),
                    st.sampled_from([sp.Rational(1, 2), sp.Rational(-3, 4), sp.Rational(5, 3)]))
leaves = st.one_of(symbols, symbols, symbols, numbers)      # mostly symbols: fewer constant expressions
UNARY = [sp.exp, sp.log, sp.sin, sp.cos, sp.tanh, sg.sigmoid, sg.softplus]
EXPONENTS = [sp.Integer(2), sp.Integer(3), sp.Integer(-1), sp.Integer(-2), sp.Rational(1, 2),
             sp.Rational(3, 2), sp.Rational(-1, 3)]


def _extend(children):
    return st.one_of(
        st.tuples(children, children).map(lambda ab: ab[0] + ab[1]),
        st.tuples(children, children).map(lambda ab: ab[0] - ab[1]),
        st.tuples(children, children).map(lambda ab: ab[0] * ab[1]),
        st.tuples(children, children).map(lambda ab: ab[0] / ab[1]),
        st.tuples(children, st.sampled_from(EXPONENTS)).map(lambda ab: ab[0] ** ab[1]),
        st.tuples(children, children).map(lambda ab: ab[0] ** ab[1]),       # a variable exponent
        st.tuples(st.sampled_from(UNARY), children).map(lambda fa: fa[0](fa[1])),
    )


# At least one operation at the top; at most about 8 leaves in all.
expressions = _extend(st.recursive(leaves, _extend, max_leaves=5))

_BAD = (sp.zoo, sp.nan, sp.oo, -sp.oo)


def _finite(v) -> bool:
    return v.is_number and not v.has(*_BAD) and v.is_finite is not False


def _agree(a, b, rnd: random.Random) -> bool:
    if a == b:                                   # also when both are the same nan (0**x at x)
        return True
    d = sp.expand(a - b)
    if d == 0:
        return True
    if sp.count_ops(d) < 40 and sp.simplify(d) == 0:
        return True
    checked = 0
    for _ in range(12):
        p = {s: sp.Float(rnd.uniform(-2, 2), 40) for s in SYMS}
        try:
            va, vb = sp.N(a.xreplace(p), 40), sp.N(b.xreplace(p), 40)
            if not (_finite(va) and _finite(vb)):
                continue
            ca, cb = complex(va), complex(vb)
        except (OverflowError, TypeError):      # beyond float range (x**(2/x) near 0): not a point to compare at
            continue
        if abs(ca - cb) > 1e-12 * max(1.0, abs(cb)):
            return False
        checked += 1
        if checked == 3:
            return True
    return checked > 0


def test_grad_equals_sympy_diff():
    seen = []
    rnd = random.Random(0)

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(expressions)
    def check(f):
        assume(f.free_symbols and not f.has(*_BAD))      # 200 valid examples, each a function
        seen.append(f)
        grads = sg.grad(f, list(SYMS))
        fe = elementary(f)
        for s, g in zip(SYMS, grads):
            expected = sp.diff(fe, s)
            assert _agree(elementary(g), expected, rnd), f"f = {f}: d/d{s} symgrad {g} != sympy {expected}"

    check()
    assert len(seen) >= 200
