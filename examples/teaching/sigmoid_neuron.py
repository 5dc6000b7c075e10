"""The sigmoid neuron circuit f = 1/(1 + exp(−(w0·x0 + w1·x1 + w2))) at w = (2, −3, −3), x = (−1, −2):
f = 0.73; ∂f/∂w0 = −0.20, ∂f/∂x0 = 0.39, ∂f/∂w1 = −0.39, ∂f/∂x1 = −0.59, ∂f/∂w2 = 0.20.

Typed as the slide writes it and drawn with the slide's gates: gates="binary" splits the sum of three
into its two + gates (the ×(−1) gate is the minus taken back out of SymPy's exp(−w₀x₀ − w₁x₁ − w₂));
and again with the sigmoid as one gate, σ' = (1 − σ)σ.

    PYTHONPATH=. python examples/teaching/sigmoid_neuron.py
"""
import sys

import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

w0, x0, w1, x1, w2 = sp.symbols("w0 x0 w1 x1 w2")
AT = {w0: 2, x0: -1, w1: -3, x1: -2, w2: -3}
WRT = [w0, x0, w1, x1, w2]


def circuit():
    """f as the slide writes it; with gates="binary" its gates are the slide's: *, *, +, +, *−1,
    exp, +1, 1/x (the same as building it gate by gate, sp.Add(sp.Add(w0*x0, w1*x1,
    evaluate=False), w2, evaluate=False))."""
    return 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))


def build():
    return sg.derive(circuit(), WRT, at=AT, number_format=".2f", gates="binary")


def build_sigmoid_gate():
    z = sp.Symbol("z")
    return sg.derive(sg.sigmoid(w0 * x0 + w1 * x1 + w2), WRT, names={z: w0 * x0 + w1 * x1 + w2},
                     at=AT, number_format=".2f")


def main(argv=None):
    args = arguments(argv, __doc__)
    publish("sigmoid_neuron", build(), args)
    print()
    print("The same neuron with the sigmoid as one gate:")
    publish("sigmoid_gate", build_sigmoid_gate(), args)


if __name__ == "__main__":
    main(sys.argv[1:])
