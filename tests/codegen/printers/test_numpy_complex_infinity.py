"""1/where(c, x, 0): SymPy folds the division into a Piecewise holding 1/0 = zoo, which the NumPy
printer could not print (KeyError: 'ComplexInfinity' from SymPy's printer). Printed as numpy.inf,
what float arithmetic gives for 1/0.0 on the unfolded expression."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")


def test_a_division_by_a_where_with_a_zero_branch_compiles_and_equals_torch():
    N = sp.Symbol("N", integer=True, positive=True)
    x, v = sg.tensor("x", (N, 3)), sg.tensor("v", (3,))
    s = (v ** 2).sum()
    prog = sg.compile(sg.sum(x / sg.where(s > 0, s, 0)), [v], [x], dtype="float64")
    vv, X = np.array([1.0, 2.0, 0.5]), np.arange(6.0).reshape(2, 3)
    tv = torch.tensor(vv, requires_grad=True)
    ss = (tv ** 2).sum()
    L = (torch.tensor(X) / torch.where(ss > 0, ss, 0)).sum()
    L.backward()
    assert prog.loss({"v": vv}, {"x": X}) == pytest.approx(L.item(), rel=1e-12)
    np.testing.assert_allclose(prog.grad({"v": vv}, {"x": X})["v"], tv.grad.numpy(), rtol=1e-12)
