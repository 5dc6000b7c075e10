"""cs231n's two-layer net over a batch, affine → relu → affine → softmax cross-entropy, with the labels
y: the hidden layer reads h⁽¹⁾ (not y⁽¹⁾ beside the labels), δ⁽²⁾ = (softmax(z⁽²⁾) − one_hot(y))/N,
∂L/∂W₂ = h⁽¹⁾ᵀ @ δ⁽²⁾, ∂L/∂b₂ = δ⁽²⁾ summed over the batch, then δ⁽¹⁾ = H(z⁽¹⁾) ⊙ (δ⁽²⁾ @ W₂ᵀ).

    PYTHONPATH=. python examples/teaching/two_layer_batch.py [--out out/teaching] [--format latex]
"""
import sys

import numpy as np
import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

N = sp.Symbol("N", integer=True, positive=True)
X, y = sg.tensor("X", (N, 4)), sg.tensor("y", (N,), integer=True)
W1, b1, W2, b2 = sg.tensor("W1", (4, 5)), sg.tensor("b1", (5,)), sg.tensor("W2", (5, 3)), sg.tensor("b2", (3,))


def point(seed=0):
    """A batch of two examples and small weights, rounded as a slide would print them."""
    rng = np.random.default_rng(seed)
    return {X: rng.normal(size=(2, 4)).round(2), W1: rng.normal(size=(4, 5)).round(2), b1: np.zeros(5),
            W2: rng.normal(size=(5, 3)).round(2), b2: np.zeros(3), y: np.array([0, 2])}


def build(at=None):
    scores = sg.relu(X @ W1 + b1) @ W2 + b2
    return sg.derive(sg.cross_entropy(scores, y), [W1, b1, W2, b2], output_name="L", at=at)


def main(argv=None):
    publish("two_layer_batch", build(point()), arguments(argv, __doc__))


if __name__ == "__main__":
    main(sys.argv[1:])
