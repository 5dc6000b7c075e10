"""The hypothesis strategy of random scalar expressions over x, y, z, shared by the core's property
test (tests/core/test_properties.py) and the calculus narration's (tests/teaching/test_calculus.py).
"""
from __future__ import annotations

import sympy as sp
from hypothesis import strategies as st

import symgrad as sg

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
