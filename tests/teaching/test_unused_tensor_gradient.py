"""A parameter f does not use has ∂f/∂w = 0 in every rank: a vector b or a 3-D A raised SymPy's
ZeroMatrix TypeError (only a matrix or a scalar worked) until 2026-12-01."""
import numpy as np
import pytest

import symgrad as sg

x = sg.tensor("x", (3,))
W = sg.tensor("W", (2, 3))


@pytest.mark.parametrize("shape", [(2,), (2, 2, 2), (2, 2)])
def test_unused_parameter_reads_zero(shape):
    extra = sg.tensor("b", shape)
    d = sg.derive(sg.sum((W @ x) ** 2), [W, extra])
    assert d.render().splitlines()[-1] == "  ∂f/∂b = 0"
    assert r"\frac{\partial f}{\partial b} &= 0" in d.latex()
    d.graph()                                              # draws without raising
    at = {W: np.arange(6.0).reshape(2, 3), x: np.ones(3)}
    text = sg.derive(sg.sum((W @ x) ** 2), [W, extra], at=at).render()
    assert text.splitlines()[-1] == "  ∂f/∂b = 0"
