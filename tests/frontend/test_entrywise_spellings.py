"""SymPy's Abs, sqrt and powers of a whole matrix (``sp.Abs(W*x)``, ``sp.sqrt(W*x)``,
``(W*x - y)**2``) failed deep inside SymPy ("Matrices are not aligned", "Power of non-square
matrix"); now a symgrad error names the entry-by-entry spelling, and that spelling is right."""
import numpy as np
import pytest
import sympy as sp
import torch
from sympy.matrices.exceptions import NonSquareMatrixError

import symgrad as sg

W, x, y = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("y", 3, 1)
A = sp.MatrixSymbol("A", 2, 2)


@pytest.mark.parametrize("build, named", [
    (lambda: sp.Abs(W * x), "sg.abs(W*x)"),
    (lambda: sp.Abs(W), "sg.abs(W)"),
    (lambda: sp.Abs(A), "sg.abs(A)"),                      # SymPy gave sqrt(A*Adjoint(A.T)) here
    (lambda: sp.sqrt(W * x), "sg.sqrt(W*x)"),
    (lambda: sp.Pow(W, sp.Rational(1, 2)), "sg.sqrt(W)"),
    (lambda: (W * x - y) ** 2, "sp.HadamardPower(W*x - y, 2)"),
])
def test_whole_matrix_names_the_entrywise_spelling(build, named):
    with pytest.raises(sg.UnsupportedError, match=r"entry by entry") as info:
        build()
    assert named in str(info.value)
    assert isinstance(info.value, NonSquareMatrixError)     # SymPy's own handlers still catch it


def test_the_named_spellings_are_torchs():
    rng = np.random.default_rng(0)
    Wv, xv, yv = rng.normal(size=(3, 2)), rng.normal(size=(2, 1)), rng.normal(size=(3, 1))
    loss = sg.sum(sg.abs(W * x)) + sg.sum(sg.sqrt(sp.HadamardPower(W * x, 2) + sp.OneMatrix(3, 1))) \
        + sg.sum(sp.HadamardPower(W * x - y, 2))
    got = sg.numeric(sg.grad(loss, W), {W: Wv, x: xv, y: yv})
    Wt = torch.tensor(Wv, requires_grad=True)
    h = Wt @ torch.tensor(xv)
    (h.abs().sum() + torch.sqrt(h ** 2 + 1).sum() + ((h - torch.tensor(yv)) ** 2).sum()).backward()
    assert np.allclose(got, Wt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_sympy_keeps_what_it_could_do():
    assert sp.Abs(sp.Matrix([[1, -2]])) == sp.Matrix([[1, 2]])             # explicit: entry by entry
    assert sp.Abs(sp.ImmutableMatrix([[3, -4]])) == sp.ImmutableMatrix([[3, 4]])
    assert isinstance(A ** 2, sp.MatPow) and isinstance(sp.sqrt(A), sp.MatPow)   # square: matrix powers
    t = sp.Symbol("t")
    assert sp.Abs(-t) == sp.Abs(t) and sp.Abs(-3) == 3


def test_square_matrix_sqrt_refused_when_lowered_naming_sg_sqrt():
    with pytest.raises(sg.UnsupportedError, match=r"entry by entry write sg\.sqrt\(A\)"):
        sg.grad(sg.sum(sp.sqrt(A)), A)
