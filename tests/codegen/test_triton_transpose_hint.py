"""The Triton program's ShapeError for an nn.Linear weight given where (in, out) is declared says it is
the transpose and what to write (as the NumPy program's does: tests/compiling/test_torch_weights_into_program.py)."""
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ShapeError

torch = pytest.importorskip("torch")
pytest.importorskip("triton")


def test_triton_program_names_the_transpose():
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 6)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (6, 3)), sg.tensor("b", (3,))
    prog = sg.compile(sg.cross_entropy(x @ W + b, y), [W, b], [x, y], target="triton")
    lin = torch.nn.Linear(6, 3)
    with pytest.raises(ShapeError, match=r"transpose of the declared shape.*sg\.linear"):
        prog.loss({"W": lin.weight, "b": lin.bias}, {"x": torch.zeros(2, 6), "y": torch.tensor([0, 1])})
