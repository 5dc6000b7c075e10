"""A column f over several variables, checked with one Jacobian block per variable
(``sg.check(f, [X, Y], [J_X, J_Y])``, as a gradient is given per variable): the blocks are the
joint Jacobian side by side. A block of the wrong shape is a ShapeError naming its variable; a
single wrong block is named (transposed, a multiple, or just wrong). Before, the list was read as
gradients and f's shape refused."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.errors import ShapeError

from verdicts import wrong

x, y = sp.symbols("x y", real=True)
X, Y = sp.MatrixSymbol("X", 2, 1), sp.MatrixSymbol("Y", 2, 1)
A, B = sp.MatrixSymbol("A", 2, 2), sp.MatrixSymbol("B", 2, 2)


def test_the_blocks_are_torchs_jacobian():
    rng = np.random.default_rng(1)
    Av, Bv = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
    jx, jy = torch.autograd.functional.jacobian(
        lambda u, v: torch.tensor(Av) @ u + torch.tensor(Bv) @ v,
        (torch.tensor(rng.normal(size=2)), torch.tensor(rng.normal(size=2))))
    np.testing.assert_allclose(jx.numpy(), Av)
    np.testing.assert_allclose(jy.numpy(), Bv)


def test_blocks_per_variable_are_checked_as_the_joint_jacobian():
    F = sp.Matrix([x * y, x + sp.sin(y)])
    assert sp.Matrix.hstack(sp.diff(F, x), sp.diff(F, y)) == sp.Matrix([[y, x], [1, sp.cos(y)]])
    assert sg.check(F, [x, y], [sp.Matrix([y, 1]), sp.Matrix([x, sp.cos(y)])]).verdict == "equal"
    assert sg.check(A * X + B * Y, [X, Y], [A, B]).verdict == "equal"
    w, b = sp.MatrixSymbol("w", 2, 1), sp.Symbol("b", real=True)
    assert sg.check(A * w + b * sp.ones(2, 1), [w, b], [A, sp.ones(2, 1)]).verdict == "equal"


def test_a_transposed_block_is_named():
    r = wrong(sg.check(A * X + B * Y, [X, Y], [A, B.T]), "transpose")
    assert "block for Y" in r.hint and "∂f/∂X is right" in r.hint, r.hint


def test_one_wrong_block_is_named():
    r = wrong(sg.check(A * X + B * Y, [X, Y], [A, A]), "one block wrong")
    assert "block for Y (columns 2–3)" in r.hint, r.hint


def test_a_block_of_the_wrong_shape_names_its_variable():
    M = sp.MatrixSymbol("M", 2, 3)
    with pytest.raises(ShapeError, match=r"the claim for Y is 2×3.*2×2"):
        sg.check(A * X + B * Y, [X, Y], [A, M])


def test_a_hint_without_a_full_stop_gets_one_before_the_method():
    F = sp.Matrix([x * y, x + sp.sin(y)])
    r = sg.check(F, [x, y], sp.Matrix([[y, x], [1, -sp.cos(y)]]))
    assert "re-derive that one. Method:" in str(r), str(r)


def test_two_wrong_entries_of_a_jacobian_that_is_not_square_are_not_one():
    """Entries [0, 1] and [1, 0] of a 2×4 Jacobian are two entries, not an entry and its mirror (a
    Hessian's): the first block transposed was said to differ "only in the entry [0, 1]"."""
    r = wrong(sg.check(A * X + B * Y, [X, Y], [A.T, B]), "transpose")
    assert "block for X" in r.hint and "∂f/∂Y is right" in r.hint, r.hint
    W = sp.MatrixSymbol("W", 2, 3)
    Z = sp.MatrixSymbol("Z", 3, 1)
    swapped = sp.Matrix([[W[0, 0], W[1, 0], W[0, 2]], [W[0, 1], W[1, 1], W[1, 2]]])  # [0, 1] ↔ [1, 0]
    r = sg.check(W * Z, Z, swapped)
    assert not r and "only in the entry" not in str(r.hint), r.hint
