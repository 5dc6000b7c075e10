"""Forward accumulation: it agrees with reverse mode, and the number of sweeps each mode needs."""
from __future__ import annotations

import pytest
import sympy as sp

import symgrad as sg
from oracle import elementary, symbolically_equal
from symgrad.core.forward import sweeps

x, y, z = sp.symbols("x y z")
CASES = {
    "trig": ([sp.sin(x) * y, sp.cos(x * y) + z, z ** 3 / x], [x, y, z]),
    "activations": ([sg.sigmoid(x + y), sg.softplus(x * z), sp.tanh(y) * sg.sigmoid(z)], [x, y, z]),
    "more-inputs-than-outputs": ([sp.exp(x * y * z) + x], [x, y, z]),
    "slide": ([sp.sin(y) + x, sp.cos(y), 6 * y / sp.pi], [y, x]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_forward_and_reverse_jacobians_agree(name):
    F, wrt = CASES[name]
    Jr = sg.jacobian(F, wrt, mode="reverse")
    Jf = sg.jacobian(F, wrt, mode="forward")
    assert Jr.shape == Jf.shape == (len(F), len(wrt))
    assert sp.simplify(Jr - Jf) == sp.zeros(*Jr.shape)
    # and both equal SymPy's own Jacobian (of the activations written out by hand)
    J = sp.Matrix([elementary(f) for f in F]).jacobian(wrt)
    pts = [{s: sp.Float(v, 30) for s, v in zip((x, y, z), p)} for p in [(0.3, -0.7, 1.1), (1.2, 0.4, -0.5)]]
    assert all(symbolically_equal(elementary(a), b, pts) for a, b in zip(Jr, J))


def test_matrix_output_jacobian_both_modes():
    v = sp.MatrixSymbol("v", 2, 1)
    A = sp.Matrix([[1, 2], [3, 4]])
    F = sp.ImmutableMatrix(A) * v
    Jr = sg.jacobian(F, v, mode="reverse")
    Jf = sg.jacobian(F, v, mode="forward")
    assert Jr == Jf == A


def test_forward_mode_gradient_equals_reverse():
    f = sp.sin(x * y) * sg.sigmoid(z) + x ** 2
    gr = sg.grad(f, [x, y, z])
    gf = sg.derive(f, [x, y, z], mode="forward").gradients
    assert all(sp.simplify(a - b) == 0 for a, b in zip(gr, gf))


def test_sweeps():
    assert sweeps(n_inputs=130, n_outputs=1) == {"forward": 130, "reverse": 1}
