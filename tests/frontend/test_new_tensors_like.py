"""torch's constructors of a tensor's size that graph and vision code write (2026-11-30, tenth
session): ``torch.zeros_like(x)``, ``x.new_zeros(n, D)`` (a message-passing buffer), ``ones_like``,
``full_like``, ``new_ones``, ``new_full`` — each a bare AttributeError before. ``new_empty`` and
``bernoulli_`` (DropPath's random mask) are refused saying the mask is an input. Values are checked
against torch's own constructors."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize("name, sg_of, torch_of", [
    ("zeros_like", lambda x: sg.zeros_like(x), lambda t: torch.zeros_like(t)),
    ("ones_like", lambda x: sg.ones_like(x), lambda t: torch.ones_like(t)),
    ("full_like", lambda x: sg.full_like(x, 2.5), lambda t: torch.full_like(t, 2.5)),
    ("new_zeros", lambda x: x.new_zeros(2, 4), lambda t: t.new_zeros(2, 4)),
    ("new_zeros_tuple", lambda x: x.new_zeros((2, 4)), lambda t: t.new_zeros((2, 4))),
    ("new_ones", lambda x: x.new_ones(5), lambda t: t.new_ones(5)),
    ("new_full", lambda x: x.new_full((3, 2), -1.5), lambda t: t.new_full((3, 2), -1.5)),
])
def test_constructors_as_torch(name, sg_of, torch_of):
    x = sg.tensor("x", (2, 3))
    want = torch_of(torch.zeros(2, 3, dtype=torch.float64)).numpy()
    got = np.asarray(sg.numeric(sg_of(x) + 0 * sg.sum(x), {"x": np.zeros((2, 3))}), dtype=float)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_symbolic_sizes_and_refusals():
    x = sg.tensor("x", (N, 3))
    assert sg.zeros_like(x).shape == (N, 3) and x.new_zeros(N, 4).shape == (N, 4)
    with pytest.raises(sg.ArgumentError, match="input"):
        x.new_empty((N, 1, 1, 1)).bernoulli_(0.9)
    with pytest.raises(sg.ArgumentError, match="draws no noise"):
        x.bernoulli_(0.9)
    with pytest.raises(sg.ArgumentError, match="of a tensor"):
        sg.zeros_like(sp.Symbol("a"))


def test_torch_sizes_as_several_arguments_and_dtypes():
    """torch.zeros(n, D) was a TypeError (NumPy's zeros((n, D)) only), though the text read it."""
    assert sg.zeros(2, 3) == sg.zeros((2, 3)) and sg.ones(N, 4).shape == (N, 4)
    assert sg.zeros(3, dtype=torch.float64) == sg.zeros((3,))
    dst = sg.tensor("dst", (N,), integer=True)
    deg = sg.ones_like(dst, dtype=torch.float)                  # a degree count's ones per edge
    assert deg.shape == (N,) and not deg.is_integer_tensor
    with pytest.raises(sg.ArgumentError, match="integer labels or indices are inputs"):
        sg.zeros(2, dtype=torch.long)
    with pytest.raises(sg.ArgumentError, match="not both"):
        sg.ones(2, shape=(2,))
