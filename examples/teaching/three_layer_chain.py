"""The 3-layer chain a1 = w1·x + b1, f1 = σ(a1), a2 = w2·f1, f2 = σ(a2), a3 = w3·f2, f3 = σ(a3),
L = ½(y − f3)²: the chain rule ∂L/∂w1 = ∂L/∂f3·∂f3/∂a3·∂a3/∂f2·∂f2/∂a2·∂a2/∂f1·∂f1/∂a1·∂a1/∂w1,
each factor computed once and reused (propagated) by the layer below.

    PYTHONPATH=. python examples/teaching/three_layer_chain.py
"""
import sys

import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

w1, w2, w3, b1, x, y = sp.symbols("w1 w2 w3 b1 x y")
a1, f1, a2, f2, a3, f3 = sp.symbols("a1 f1 a2 f2 a3 f3")
AT = {x: 1.0, y: 0.5, w1: 0.3, w2: -0.4, w3: 0.8, b1: 0.1}


def build():
    A1 = w1 * x + b1
    F1 = sg.sigmoid(A1)
    A2 = w2 * F1
    F2 = sg.sigmoid(A2)
    A3 = w3 * F2
    F3 = sg.sigmoid(A3)
    L = (y - F3) ** 2 / 2
    names = {a1: A1, f1: F1, a2: A2, f2: F2, a3: A3, f3: F3}
    return sg.derive(L, [w3, w2, w1, b1], names=names, output_name="L", at=AT)


def main(argv=None):
    publish("three_layer_chain", build(), arguments(argv, __doc__))


if __name__ == "__main__":
    main(sys.argv[1:])
