"""The three-path influence example: d = f + 3, e = f·g, b = d + e, c = e + 2, a = b·c.
f reaches a along three paths (f→d→b→a, f→e→b→a, f→e→c→a), so ∂a/∂f = c + g·c + g·b
= 2 + 5g + 2fg + 2fg²; at f = 4, g = 2: a = 150 and ∂a/∂f = 60.

    PYTHONPATH=. python examples/teaching/influence.py
"""
import sys

import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

f, g, a, b, c, d, e = sp.symbols("f g a b c d e")
AT = {f: 4, g: 2}


def build():
    D = f + 3
    E = f * g
    B = sp.Add(D, E, evaluate=False)           # b = d + e, kept as two terms
    C = E + 2
    A = sp.Mul(B, C, evaluate=False)
    return sg.derive(A, [f, g], names={d: D, e: E, b: B, c: C, a: A}, at=AT)


def main(argv=None):
    publish("influence", build(), arguments(argv, __doc__))


if __name__ == "__main__":
    main(sys.argv[1:])
