"""A sigmoid unit trained with the cross-entropy loss, as the perceptron slides write it:
ŷ = σ(w·x + b), L = −(y·log ŷ + (1 − y)·log(1 − ŷ)). The 1/ŷ and 1/(1 − ŷ) of the log's derivative
cancel against σ′ = ŷ·(1 − ŷ): δ = ∂L/∂z = ŷ − y, ∂L/∂w = x·(ŷ − y), ∂L/∂b = ŷ − y.

    PYTHONPATH=. python examples/teaching/logistic_regression.py [--out out/teaching] [--format latex]
"""
import sys

import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

w, x, b, y, yhat = sp.symbols("w x b y yhat")
AT = {w: 0.5, x: 2, b: -0.5, y: 1}          # a positive example: ŷ = σ(0.5) ≈ 0.62, so δ < 0


def build():
    p = sg.sigmoid(w * x + b)
    loss = -(y * sp.log(p) + (1 - y) * sp.log(1 - p))
    return sg.derive(loss, [w, b], names={yhat: p}, output_name="L", at=AT)


def main(argv=None):
    publish("logistic_regression", build(), arguments(argv, __doc__))


if __name__ == "__main__":
    main(sys.argv[1:])
