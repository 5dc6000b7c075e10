"""Result dicts — Program.grad's gradients, Program.step's values — are looked up by the symbol the
user declared or by its name, as the dicts symgrad takes are."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.core.values import Named

W, b, x, t = (sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("b", 2, 1), sp.MatrixSymbol("x", 3, 1),
              sp.MatrixSymbol("t", 2, 1))
rng = np.random.default_rng(0)
VALUES = {"W": rng.normal(size=(2, 3)), "b": rng.normal(size=(2, 1))}
BATCH = {"x": rng.normal(size=(4, 3)), "t": rng.normal(size=(4, 2))}


def numpy_program():
    return sg.compile(sg.mse(W * x + b, t), [W, b], [x, t], dtype="float64")


def test_grad_by_symbol_or_name():
    g = numpy_program().grad(VALUES, BATCH)
    assert g[W] is g["W"] and g[b] is g["b"] and W in g and "b" in g
    # ∂/∂W of the mean of ½‖Wx + b − t‖²: the mean of (Wx + b − t)xᵀ, by hand
    r = BATCH["x"] @ VALUES["W"].T + VALUES["b"].T - BATCH["t"]
    np.testing.assert_allclose(g[W], r.T @ BATCH["x"] / 4, rtol=1e-12)
    with pytest.raises(KeyError, match="'c' is not among"):
        g[sp.MatrixSymbol("c", 2, 1)]


@pytest.mark.parametrize("keys", ["names", "symbols"])
def test_step_values_by_symbol_or_name(keys):
    prog = numpy_program()
    values = {k if keys == "names" else {"W": W, "b": b}[k]: v.copy() for k, v in VALUES.items()}
    new, state = prog.step(values, None, BATCH)
    assert new[W] is new["W"] and new[b] is new["b"]
    assert not np.allclose(new["W"], VALUES["W"])


def test_named_dict_prints_and_compares_as_a_dict():
    d = Named(W=1)
    assert d == {"W": 1} and repr(d) == "{'W': 1}" and d.get(b) is None and d.get(W) == 1


def test_triton_results_by_symbol():
    pytest.importorskip("triton")
    torch = pytest.importorskip("torch")
    prog = sg.compile(sg.mse(W * x + b, t), [W, b], [x, t], target="triton")
    g = prog.grad(VALUES, BATCH)
    assert g[W] is g["W"]
    new, _ = prog.step(VALUES, None, BATCH)
    assert new[b] is new["b"] and isinstance(new[b], torch.Tensor)
