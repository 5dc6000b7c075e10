"""Habits of torch code met at the front door (2026-11-30, eighth session), each an unclear error
before: a torch tensor in a declaration (torch's own ValueError "only one element tensors can be
converted"), a None batch dimension (an AttributeError), and torch's inplace= of the activations
(SymPy's "Unknown options", or a TypeError)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
x = sg.tensor("x", (N, 4))


@pytest.mark.parametrize("build", [
    lambda torch: x * torch.ones(4),
    lambda torch: torch.ones(4) * x,
    lambda torch: x + torch.tril(torch.ones(4, 4)),
    lambda torch: sg.where(x > 0, x, torch.zeros(4)),
])
def test_a_torch_tensor_in_a_declaration_is_refused_as_a_numpy_array_is(build):
    torch = pytest.importorskip("torch")
    with pytest.raises(sg.UnsupportedError, match=r"a torch tensor of shape \(4,( 4)?\) .* declare it as a tensor"):
        build(torch)


def test_a_torch_scalar_is_its_number():
    torch = pytest.importorskip("torch")
    assert x * torch.tensor(2.0) == x * 2.0


def test_a_none_dimension_names_the_batch_symbol():
    with pytest.raises(sg.ShapeError, match=r"a dimension is None.*sp.Symbol\('N', integer=True, positive=True\)"):
        sg.tensor("z", (None, 3))


@pytest.mark.parametrize("fn", [sg.relu, sg.silu, sg.leaky_relu, sg.elu, sg.hardtanh, sg.relu6, sg.hardswish,
                                sg.hardsigmoid, sg.mish])
def test_inplace_changes_nothing(fn):
    for flag in (True, False):                    # torch's F.relu(x, inplace=True): no memory is shared here
        assert fn(x, inplace=flag) == fn(x)
    with pytest.raises(sg.ArgumentError, match="inplace= must be True or False, got 1"):
        fn(x, inplace=1)


def test_inplace_of_a_scalar_activation():
    z = sp.Symbol("z")
    assert sg.relu(z, inplace=True) == sg.relu(z)
    assert np.isclose(float(sg.numeric(sg.relu6(z, inplace=True), {"z": 7.0})), 6.0)
