"""'...' in sg.einsum (2026-11-30, eighth session; before, an ArgumentError): NumPy's and torch's
broadcast axes, written out as fresh letters aligned from the right. Compared with torch.einsum
(values, and gradients by torch.autograd in float64 through the compiled NumPy program)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import compare_with_torch

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize("sub, shapes", [
    ("...d,de->...e", [(2, 5, 3), (3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),       # batch axes broadcast: (2, 1) against (5,)
    ("...ij->...", [(2, 3, 4)]),
    ("...i,...i", [(2, 3), (3,)]),                         # implicit output: the broadcast axes
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("i...->...i", [(3, 2, 4)]),
])
def test_values_are_torchs(sub, shapes):
    rng = np.random.default_rng(len(sub))
    arrays = [rng.normal(size=s) for s in shapes]
    xs = [sg.tensor(f"x{i}", s) for i, s in enumerate(shapes)]
    want = torch.einsum(sub, *[torch.tensor(a) for a in arrays]).numpy()
    got = sg.numeric(sg.einsum(sub, *xs), {f"x{i}": a for i, a in enumerate(arrays)})
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_gradients_through_a_compiled_program():
    rng = np.random.default_rng(0)
    x, W, U = sg.tensor("x", (N, 4, 3)), sg.tensor("W", (3, 5)), sg.tensor("U", (2, 5, 3))
    h = sg.tanh(sg.einsum("...d,de->...e", x, W))                  # (N, 4, 5)
    out = sg.einsum("...ij,hjk->...hik", h, U)                     # (N, 2, 4, 3)
    compare_with_torch(torch, (sg.sum(out ** 2), [W, U], [x], {"W": rng.normal(size=(3, 5)), "U": rng.normal(size=(2, 5, 3))},
                               {"x": rng.normal(size=(3, 4, 3))},
                               lambda t, d: (torch.einsum("...ij,hjk->...hik", torch.tanh(torch.einsum("...d,de->...e", d["x"], t["W"])),
                                                          t["U"]) ** 2).sum()), rng)
