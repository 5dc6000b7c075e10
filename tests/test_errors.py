"""Unsupported input is a symgrad exception whose message names the culprit."""
from __future__ import annotations

import warnings

import pytest
import sympy as sp

import symgrad as sg
from symgrad.core.lower import lower

x, y = sp.symbols("x y")
A = sp.MatrixSymbol("A", 2, 3)
B = sp.MatrixSymbol("B", 2, 3)


def _misaligned(*factors):
    with warnings.catch_warnings():                       # check=False is deprecated in SymPy 1.11+
        warnings.simplefilter("ignore")
        return sp.MatMul(*factors, check=False)


def test_undefined_function():
    g = sp.Function("gizmo")
    with pytest.raises(sg.UnsupportedError) as e:
        sg.grad(g(x) * y, x)
    assert "gizmo" in str(e.value)
    assert isinstance(e.value, sg.SymgradError)


def test_undefined_function_inside_a_matrix_expression():
    h = sp.Function("hoop")
    with pytest.raises(sg.UnsupportedError, match="hoop"):
        sg.grad(sg.sum(A.applyfunc(lambda t: h(t))), A)


@pytest.mark.parametrize("build", [lambda m: sg.sum(m), lambda m: m])
def test_shape_mismatch_in_a_product(build):
    with pytest.raises(sg.ShapeError) as e:
        sg.grad(build(_misaligned(A, B)), A)
    msg = str(e.value)
    assert "A" in msg and "B" in msg and "(2, 3)" in msg
    with pytest.raises(sg.ShapeError, match="B"):
        lower(_misaligned(A, B))


def test_shape_mismatch_in_a_longer_product():
    C = sp.MatrixSymbol("C", 3, 3)
    Dm = sp.MatrixSymbol("Dee", 2, 2)
    with pytest.raises(sg.ShapeError, match="Dee"):
        sg.grad(sg.sum(_misaligned(A, C, Dm)), A)


def test_shape_mismatch_in_a_hadamard_product():
    Ct = sp.MatrixSymbol("Ct", 3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = sp.HadamardProduct(A, Ct, check=False)
    with pytest.raises(sg.ShapeError, match="Ct"):
        sg.grad(sg.sum(h), A)


@pytest.mark.parametrize("wrt", [x ** 2, [x, x ** 2], sp.sin(x), 3], ids=["x**2", "list", "sin(x)", "number"])
def test_wrt_not_a_symbol(wrt):
    with pytest.raises(sg.WrtError) as e:
        sg.grad(x ** 3, wrt)
    bad = wrt[1] if isinstance(wrt, list) else wrt
    assert str(bad) in str(e.value)


def test_grad_of_a_non_scalar():
    with pytest.raises(sg.ShapeError) as e:
        sg.grad(A * B.T, A)
    assert "A*B.T" in str(e.value) and "jacobian" in str(e.value)


def test_jacobian_entry_not_a_scalar():
    with pytest.raises(sg.ShapeError, match=r"A\*B\.T"):
        sg.jacobian([x, A * B.T], [x])


def test_unsupported_node_is_named():
    with pytest.raises(sg.UnsupportedError, match="Integral"):
        sg.grad(sp.Integral(x * y, (y, 0, 1)), x)
