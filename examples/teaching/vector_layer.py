"""One sigmoid layer and its divergence in vector form, as 11-785 writes it (shared/seeds, lecture 5):
z = W·x + b, Y = σ(z), Div = ½‖Y − d‖², with the tensors of `sg.tensor` and the squared norm of
`sg.norm`. Its backward pass is the slide's special case "scalar functions of affine functions":
∇_z Div = (Y − d) ⊙ Y ⊙ (1 − Y) = δ, ∇_W Div = δ·xᵀ, ∇_b Div = δ, ∇_x Div = Wᵀ·δ.

    PYTHONPATH=. python examples/teaching/vector_layer.py [--format latex]
"""
import sys

import numpy as np

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

W, x, b, d = sg.tensor("W", (2, 3)), sg.tensor("x", (3,)), sg.tensor("b", (2,)), sg.tensor("d", (2,))
AT = {W: np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.5]]), x: np.array([1.0, 0.5, -1.0]),
      b: np.array([0.1, -0.2]), d: np.array([1.0, 0.0])}


def build():
    div = sg.norm(sg.sigmoid(W @ x + b) - d) ** 2 / 2
    return sg.derive(div, [W, b, x], output_name="Div", at=AT, number_format=".4g")


def main(argv=None):
    publish("vector_layer", build(), arguments(argv, __doc__))


if __name__ == "__main__":
    main(sys.argv[1:])
