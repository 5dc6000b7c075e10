"""Softmax + cross-entropy: L = −Σ f*ᵢ log fᵢ with f = softmax(z); for a one-hot target
(Σ f* = 1) the error at the logits is δ = ∂L/∂z = f − f*.

    PYTHONPATH=. python examples/teaching/softmax_cross_entropy.py
"""
import sys

import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

z = sp.MatrixSymbol("z", 3, 1)
target = sp.MatrixSymbol("f^*", 3, 1)        # the slide's f*
f = sp.MatrixSymbol("f", 3, 1)
AT = {z: [1.0, 2.0, 3.0], target: [0.0, 0.0, 1.0]}


def build():
    return sg.derive(sg.cross_entropy(z, target), [z], names={f: sg.softmax(z)},
                     given={sg.sum(target): 1}, output_name="L", at=AT, number_format=".3g")


def main(argv=None):
    publish("softmax_cross_entropy", build(), arguments(argv, __doc__))


if __name__ == "__main__":
    main(sys.argv[1:])
