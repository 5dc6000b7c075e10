"""symgrad's own elementwise functions (sg.relu, sg.sigmoid, sg.tanh, sg.gelu, ...) of a tensor
expression are tensor expressions: ``.shape``, ``.sum``, ``.reshape``, ``.T`` work on them, as a
PyTorch user writes ``sg.relu(conv).reshape(N, -1) @ W``. Their values are torch's; matrices still
give a Map, scalars a plain application, and SymPy's own ``sp.tanh`` of a tensor stays a SymPy
application (docs/layers.md)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg
from symgrad.frontend.functions import Map
from symgrad.frontend.tensor import Ewise, TensorExpr, plain_algebra

N = sp.Symbol("N", integer=True, positive=True)
rng = np.random.default_rng(31)

# sg function → torch's, the independent oracle of the values
FUNCTIONS = {
    "relu": (sg.relu, torch.relu),
    "sigmoid": (sg.sigmoid, torch.sigmoid),
    "softplus": (sg.softplus, F.softplus),
    "leaky_relu": (lambda t: sg.leaky_relu(t, 0.1), lambda t: F.leaky_relu(t, 0.1)),
    "gelu": (sg.gelu, F.gelu),
    "gelu_tanh": (sg.gelu_tanh, lambda t: F.gelu(t, approximate="tanh")),
    "silu": (sg.silu, F.silu),
    "elu": (sg.elu, F.elu),
    "selu": (sg.selu, F.selu),
    "softsign": (sg.softsign, F.softsign),
    "hardtanh": (sg.hardtanh, F.hardtanh),
    "clip": (lambda t: sg.clip(t, -0.5, 0.8), lambda t: torch.clamp(t, -0.5, 0.8)),
    "tanh": (sg.tanh, torch.tanh),
    "exp": (sg.exp, torch.exp),
    "log": (sg.log, torch.log),
    "sqrt": (sg.sqrt, torch.sqrt),
    "abs": (sg.abs, torch.abs),
    "erf": (sg.erf, torch.erf),
}
POSITIVE = {"log", "sqrt"}


def _value(name):
    v = rng.standard_normal((2, 3, 4))
    return np.abs(v) + 0.1 if name in POSITIVE else v


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_sg_function_of_a_tensor_has_the_tensor_methods_and_torchs_values(name):
    f, tf = FUNCTIONS[name]
    x = sg.tensor("x", (2, 3, 4))
    y = f(x * 2 - 1)
    assert isinstance(y, TensorExpr) and y.shape == (2, 3, 4)
    xa = _value(name)
    za = 2 * xa - 1 if name not in POSITIVE else 2 * xa + 0.5
    if name in POSITIVE:
        y = f(x * 2 + sp.Rational(1, 2))
    ref = tf(torch.tensor(za)).numpy()
    got = {
        "sum": (y.sum(axis=0), ref.sum(axis=0)),
        "reshape": (y.reshape(2, -1), ref.reshape(2, -1)),
        "T": (y.T, ref.T),
        "whole": (y, ref),
    }
    for what, (expr, want) in got.items():
        assert tuple(expr.shape) == want.shape, what
        np.testing.assert_allclose(np.asarray(sg.numeric(expr, {x: xa}), float), want,
                                   rtol=1e-9, atol=1e-12, err_msg=f"{name} .{what}")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_sg_function_of_a_matrix_is_still_a_map_and_of_a_scalar_a_plain_application(name):
    f, _ = FUNCTIONS[name]
    M = sp.MatrixSymbol("M", 2, 3)
    assert isinstance(f(M), Map) and f(M).shape == (2, 3)
    z = sp.Symbol("z")
    assert not isinstance(f(z), TensorExpr) and f(z).has(z) and not f(z).has(Ewise)


def test_inside_plain_algebra_an_activation_of_a_tensor_is_the_plain_application():
    # the conversion from the IR assembles elementwise bodies this way: no Ewise inside them
    x = sg.tensor("x", (3, 4))
    with plain_algebra():
        r = sg.relu(x)
        t = sg.tanh(x)
    assert type(r) is sg.relu and r.args == (x,)
    assert type(t) is sp.tanh and t.args == (x,)
    assert type(sg.relu(x)) is Ewise and sg.relu(x).expr == r


def test_sympys_own_function_of_a_tensor_stays_a_sympy_application():
    x = sg.tensor("x", (3, 4))
    assert type(sp.tanh(x)) is sp.tanh
    # ... that answers the tensor methods (tests/frontend/test_sympy_functions_on_tensors.py)
    assert sp.tanh(x).reshape(-1) == sg.tanh(x).reshape(-1)
    assert isinstance(sg.relu(sp.tanh(x)), TensorExpr)       # sg's function of it is a tensor


def test_prints_as_the_call_and_substitutes():
    x, g = sg.tensor("x", (N, 5)), sg.tensor("g", (N, 5))
    y = 2 * sg.relu(x) + sg.sigmoid(x)
    assert str(sg.relu(x).sum(axis=0)) == "relu(x).sum(axis=0)"
    assert sp.latex(sg.relu(x)) == r"\operatorname{relu}\left(x\right)"
    v = rng.standard_normal((3, 5))
    swapped = y.xreplace({x: g})
    np.testing.assert_allclose(np.asarray(sg.numeric(swapped, {g: v}), float),
                               2 * np.maximum(v, 0) + 1 / (1 + np.exp(-v)), rtol=1e-12)


def _old_form(f, arg_builder):
    """What a user had to write before: the plain application, wrapped by sg.as_tensor."""
    with plain_algebra():
        plain = f(arg_builder())
    return sg.as_tensor(plain)


def test_gradients_and_derivation_are_those_of_the_as_tensor_form():
    x, w, b = sg.tensor("x", (N, 4)), sg.tensor("w", (4, 3)), sg.tensor("b", (3,))
    new = sg.relu(x @ w + b).sum(axis=0).sum() / N
    old = _old_form(sg.relu, lambda: x @ w + b).sum(axis=0).sum() / N
    assert str(new) == str(old)
    for p in (w, b):
        assert str(sg.grad(new, p)) == str(sg.grad(old, p))
    s_new = sg.sigmoid(x @ w).sum()
    s_old = _old_form(sg.sigmoid, lambda: x @ w).sum()
    assert str(sg.grad(s_new, w)) == str(sg.grad(s_old, w))
    assert sp.latex(sg.grad(s_new, w)) == sp.latex(sg.grad(s_old, w))


def test_small_cnn_written_as_in_pytorch_compiles_with_torchs_gradients():
    x, w = sg.tensor("x", (N, 3, 6, 6)), sg.tensor("w", (2, 3, 3, 3))
    W, b = sg.tensor("W", (2 * 4 * 4, 5)), sg.tensor("b", (5,))
    y = sg.tensor("y", (N,), integer=True)
    scores = sg.relu(sg.conv2d(x, w)).reshape(N, -1) @ W + b
    loss = sg.cross_entropy(scores, y)
    prog = sg.compile(loss, [w, W, b], [x, y], dtype="float64")
    n = 4
    vals = {"w": rng.standard_normal((2, 3, 3, 3)), "W": rng.standard_normal((32, 5)) * 0.3,
            "b": rng.standard_normal(5)}
    xa, ya = rng.standard_normal((n, 3, 6, 6)), rng.integers(0, 5, n)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    ts = F.relu(F.conv2d(torch.tensor(xa), t["w"])).reshape(n, -1) @ t["W"] + t["b"]
    tl = F.cross_entropy(ts, torch.tensor(ya))
    tl.backward()
    np.testing.assert_allclose(prog.loss(vals, {"x": xa, "y": ya}), tl.item(), rtol=1e-10)
    g = prog.grad(vals, {"x": xa, "y": ya})
    for k in vals:
        np.testing.assert_allclose(g[k], t[k].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
