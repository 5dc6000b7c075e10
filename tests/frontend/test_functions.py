"""symgrad.frontend.functions: activations on matrices, including the 1×1 case SymPy special-cases."""
import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.frontend.functions import Map


def test_activation_of_a_1x1_matrix_is_an_elementwise_map():
    # SymPy's applyfunc calls the function on a 1×1 argument itself; that used to recurse forever.
    V, x, r = sp.MatrixSymbol("V", 1, 3), sp.MatrixSymbol("x", 3, 1), sp.Symbol("r")
    for act in (sg.relu, sg.sigmoid, sg.softplus, lambda z: sg.leaky_relu(z, 0.1)):
        e = act(r * V * x)
        assert isinstance(e, Map) and e.shape == (1, 1)
    vals = {"V": np.array([[0.5, -1.0, 2.0]]), "x": np.array([1.0, 0.5, 0.25]), "r": 2.0}
    g = sg.numeric(sg.grad(sg.sum(sg.sigmoid(r * V * x)), V), vals)
    z = 2.0 * (0.5 - 0.5 + 0.5)                     # r·V·x by hand
    s = 1 / (1 + np.exp(-z))
    expected = 2.0 * s * (1 - s) * np.array([[1.0, 0.5, 0.25]])   # r·σ'(z)·xᵀ, shaped like V
    assert g.shape == (1, 3)
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def test_map_prints_as_the_slides_write_it():
    W, x, b = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("b", 2, 1)
    assert str(sg.sigmoid(W * x + b)) == "sigmoid(W*x + b)"
    assert str(sg.leaky_relu(W * x, 0.1)) == "leaky_relu(W*x, 0.1)"
    assert str(sg.elementwise(sp.tanh, W * x)) == "tanh(W*x)"
