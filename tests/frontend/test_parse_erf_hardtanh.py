"""The text grammar reads erf and hardtanh, which sg has as functions (a claim with them was an
UnsafeInputError): parsed to what SymPy / symgrad build, and judged by sg.check."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.frontend.parse import parse_expr

x = sp.Symbol("x")
W, v = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("v", 3, 1)


@pytest.mark.parametrize("text, expected", [
    ("erf(x)", sp.erf(x)),
    ("erf(x)**2 + 1", sp.erf(x) ** 2 + 1),
    ("hardtanh(x)", sg.hardtanh(x)),
    ("hardtanh(x, -2, 3)", sg.hardtanh(x, -2, 3)),
    ("hardtanh(x, min_val=-2, max_val=3)", sg.hardtanh(x, -2, 3)),
])
def test_scalar_calls_read_as_built(text, expected):
    assert parse_expr(text, symbols={"x": x}) == expected


def test_erf_of_a_matrix_is_entry_by_entry():
    got = parse_expr("erf(W*v)", symbols={"W": W, "v": v})
    assert got.shape == (2, 1)
    vals = {W: sp.Matrix(2, 3, [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]), v: sp.Matrix([1.0, 2.0, -1.0])}
    z = np.array(vals[W] * vals[v], dtype=float).ravel()
    numeric = np.array(got.subs(vals).doit(), dtype=float).ravel()
    assert np.allclose(numeric, torch.erf(torch.tensor(z)).numpy())


def test_erf_claims_are_judged():
    assert sg.check(sg.erf(x) ** 2, x, "4*erf(x)*exp(-x**2)/sqrt(pi)").verdict == "equal"
    assert sg.check(sg.erf(x) ** 2, x, "2*erf(x)*exp(-x**2)/sqrt(pi)").verdict == "not equal"


def test_hardtanh_claims_are_judged_on_tensors():
    X = sg.tensor("X", (4, 3))
    right = "Heaviside(X + 2, 0)*Heaviside(3 - X, 0)"
    assert sg.check(sg.sum(sg.hardtanh(X, -2, 3)), X, right).verdict.startswith("equal")
    assert sg.check(sg.sum(sg.hardtanh(X, -2, 3)), X, "hardtanh(X, -2, 3)").verdict == "not equal"


def test_hardtanh_bounds_must_be_numbers_in_text():
    with pytest.raises(sg.SymgradError):
        parse_expr("hardtanh(x, min_val=__import__('os'))", symbols={"x": x})
