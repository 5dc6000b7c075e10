"""The placeholders a0, a1, ... of ``ewise`` bodies: an elementwise equation's body is a SymPy
expression of them, aᵢ standing for the i-th input's entry. They are real, so that |a|' = sign(a)
and not a complex formula.

>>> placeholders(2)
(a0, a1)
"""
from __future__ import annotations

import sympy as sp

_PH: list[sp.Symbol] = []
_PH_SET: set[sp.Symbol] = set()   # for membership tests: `in _PH` is linear, and a sum over 3000 paths
                                  # makes 3000 placeholders


def ph(i: int) -> sp.Symbol:
    while len(_PH) <= i:
        _PH.append(sp.Symbol(f"a{len(_PH)}", real=True))
        _PH_SET.add(_PH[-1])
    return _PH[i]


def placeholders(n: int) -> tuple:
    return tuple(ph(i) for i in range(n))


