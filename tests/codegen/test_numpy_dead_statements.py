"""No statement of a generated NumPy function makes a value that nothing reads afterwards (checked
by `tests.codegen.dead_statements` on the parsed source): not the seed of reverse mode in ``loss``,
which has no reverse mode, not an operand that a fused body simplified away (VQ-VAE's z + (e − z)
without `strip_stop_gradients`' own inlining), over a few programs: whole batch, per example
(tensors, batched), columns and scalars."""
from __future__ import annotations

import pytest
import sympy as sp

import symgrad as sg
from tests.codegen.dead_statements import dead_statements, functions
from tests.codegen.test_numpy_aliases import _vq_vae, _without_argument_inlining

N = sp.Symbol("N", integer=True, positive=True)


def _binarized():
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N, 1))
    W, b, V = sg.tensor("W", (4, 3)), sg.tensor("b", (3,)), sg.tensor("V", (3, 1))
    soft = sg.sigmoid(x @ W + b)
    q = (sg.where(soft > 0.5, 1, 0) - soft).detach() + soft
    return sg.compile(((q @ V - y) ** 2).mean(), [W, b, V], [x, y], dtype="float64", optimizer=sg.optim.Adam(lr=0.05))


def _mlp():
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N, 1))
    W, b, V = sg.tensor("W", (4, 3)), sg.tensor("b", (3,)), sg.tensor("V", (3, 1))
    h = sg.relu(x @ W + b)
    return sg.compile(((h @ V - y) ** 2).mean(), [W, b, V], [x, y], dtype="float64",
                      optimizer=sg.optim.SGD(lr=0.1, momentum=0.9))


def _columns():
    W, x, b, y = (sp.MatrixSymbol(n, *s) for n, s in (("W", (3, 4)), ("x", (4, 1)), ("b", (3, 1)), ("y", (3, 1))))
    loss = sg.sum(sp.HadamardPower(sg.elementwise(sp.tanh, W * x + b) - y, 2))
    return sg.compile(loss, [W, b], [x, y], dtype="float64", optimizer=sg.optim.SGD(lr=0.1))


def _straight_through_scalars():
    w, b, x, y = sp.symbols("w b x y", real=True)
    z = w * x + b
    return sg.compile((z + sg.stop_gradient(sp.sign(z) - z) - y) ** 2, [w, b], [x, y], dtype="float64",
                      optimizer=sg.optim.SGD(lr=0.1, momentum=0.9))


PROGRAMS = {"vq-vae whole batch": lambda: _vq_vae(False)[0], "vq-vae per example": lambda: _vq_vae(True)[0],
            "binarized layer": _binarized, "mlp": _mlp, "columns": _columns,
            "straight-through scalars": _straight_through_scalars}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_every_bound_value_is_read(name):
    prog = PROGRAMS[name]()
    for fn, src in functions(prog.source).items():
        assert dead_statements(src) == [], f"{name}: {fn}"


@pytest.mark.parametrize("per_example", [False, True], ids=["whole batch", "per example"])
def test_every_bound_value_is_read_without_the_stop_gradient_inlining(monkeypatch, per_example):
    _without_argument_inlining(monkeypatch)
    prog, _ = _vq_vae(per_example)
    for fn, src in functions(prog.source).items():
        assert dead_statements(src) == [], fn


def test_the_checker_finds_a_dead_statement():
    src = ("def loss(params, batch):\n    [p0] = params\n    v4 = p0 @ p0\n    numpy.tanh(v4, out=v4)\n"
           "    v5 = p0 + 1\n    v5 *= 2\n    del v4\n    return float(v5.sum())\n")
    assert dead_statements(src) == ["v4 = p0 @ p0", "numpy.tanh(v4, out=v4)"]
