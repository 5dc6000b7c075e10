"""d.graph(mode="forward", seed={x: array}) for a vector x: the documented direction of a tensor
input. It raised ValueError (an array compared with 1, then the seed read as an (n, 1) column)
until 2026-12-01; the tangent on f's edge is the directional derivative (central differences)."""
import re

import numpy as np

import symgrad as sg

x = sg.tensor("x", (3,))
W = sg.tensor("W", (2, 3))
b = sg.tensor("b", (3,))


def _out_tangent(src):
    # the label of the edge into the output box: value above, tangent below
    lab = next(l for l in src.splitlines() if "-> out" in l)
    node = re.search(r"^\s*(\S+)", lab).group(1).split(":")[0]
    text = next(l for l in src.splitlines() if l.lstrip().startswith(node + " [label="))
    return [float(t.replace("−", "-")) for t in re.findall(r">([−\d.e+-]+)</font>", text)]


def _check(f, fun, at, direction):
    src = sg.derive(f, [W, x] if W in at else [x, b]).graph(mode="forward", seed={x: direction}, at=at).source
    h = 1e-6
    fd = (fun(at[x] + h * direction) - fun(at[x] - h * direction)) / (2 * h)
    value, tangent = _out_tangent(src)
    assert np.isclose(value, fun(at[x]), rtol=1e-3) and np.isclose(tangent, fd, rtol=1e-3, atol=1e-4), (value, tangent, fd)


def test_matrix_vector_direction():
    Wv = np.arange(6.0).reshape(2, 3) / 10
    _check(sg.sum(sg.tanh(W @ x)), lambda xv: np.sum(np.tanh(Wv @ xv)), {W: Wv, x: np.ones(3)},
           np.array([1.0, 0.0, 0.0]))


def test_elementwise_direction():
    bv = np.array([0.5, 1.0, 2.0])
    _check(sg.sum(sg.tanh(x * b)), lambda xv: np.sum(np.tanh(xv * bv)), {x: np.full(3, 0.3), b: bv},
           np.array([1.0, -2.0, 0.5]))
