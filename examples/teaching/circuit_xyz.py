"""The (x + y)·z circuit: q = x + y, f = q·z at x = −2, y = 5, z = −4; ∇f = (−4, −4, 3).

    PYTHONPATH=. python examples/teaching/circuit_xyz.py [--out DIR] [--format latex]
"""
import sys

import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as examples.teaching.circuit_xyz
    from ._common import arguments, publish

x, y, z, q = sp.symbols("x y z q")
AT = {x: -2, y: 5, z: -4}


def build():
    """The derivation of f = (x + y)·z with the slide's intermediate q = x + y, at the slide's point.
    Typed unevaluated: SymPy stores (x + y)*z as z·(x + y), and the header would print that."""
    return sg.derive(sp.Mul(x + y, z, evaluate=False), [x, y, z], names={q: x + y}, at=AT)


def main(argv=None):
    publish("circuit_xyz", build(), arguments(argv, __doc__))


if __name__ == "__main__":
    main(sys.argv[1:])
