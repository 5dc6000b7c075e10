"""The inputs of a picture are stacked as the text reads them, top to bottom: the sigmoid neuron's
w₀, x₀ (u₁ = w₀·x₀) above w₁, x₁ (u₂ = w₁·x₁) above w₂ (z = u₁ + u₂ + w₂), as the slide draws it.
Read from where Graphviz's dot places the nodes (``dot -Tplain``), not from the DOT text: dot
orders a node's in-edges by its own crossing heuristics unless told (until 2026-11-30, ninth
session, the one-gate neuron drew x₁ and w₁ above w₀ and x₀)."""
import subprocess

import sympy as sp

import symgrad as sg
from picture_parse import node_names
from teachtools import need

w0, x0, w1, x1, w2, z = sp.symbols("w0 x0 w1 x1 w2 z")
AT = {w0: 2, x0: -1, w1: -3, x1: -2, w2: -3}


def _heights(source):
    """{bold name of a node: its y in the drawing (dot's y grows upwards)}."""
    need("dot")
    plain = subprocess.run(["dot", "-Tplain"], input=source, capture_output=True, text=True,
                           check=True).stdout
    names = node_names(source)
    ys = {}
    for line in plain.splitlines():
        f = line.split()
        if f[0] == "node" and f[1] in names:
            ys[names[f[1]]] = float(f[3])
    return ys


def _stacked_as_read(ys, names):
    heights = [ys[n] for n in names]
    return all(a > b for a, b in zip(heights, heights[1:])), heights


def test_sigmoid_gate_inputs_top_to_bottom():
    s = w0 * x0 + w1 * x1 + w2
    d = sg.derive(sg.sigmoid(s), [w0, x0, w1, x1, w2], names={z: s}, at=AT)
    ys = _heights(d.graph().source)
    ok, heights = _stacked_as_read(ys, ["w₀", "x₀", "w₁", "x₁", "w₂"])
    assert ok, heights


def test_sigmoid_gate_inputs_given_in_another_order():
    # wrt written x's first: the stacking still follows the forward lines, u₁ = w₀·x₀ above u₂ = w₁·x₁
    s = w0 * x0 + w1 * x1 + w2
    d = sg.derive(sg.sigmoid(s), [x1, w2, x0, w0, w1], names={z: s}, at=AT)
    ys = _heights(d.graph().source)
    assert min(ys["w₀"], ys["x₀"]) > max(ys["w₁"], ys["x₁"]), ys
    assert ys["w₀"] > ys["x₀"] and ys["w₁"] > ys["x₁"], ys


def test_subtraction_keeps_its_slots_top_to_bottom():
    # ① − ②: the first slot above the second, whatever their names' order (y − ŷ, not ŷ above y)
    w, x, y, yhat = sp.symbols("w x y yhat")
    d = sg.derive((y - w * x) ** 2 / 2, [w], names={yhat: w * x}, at={w: 0.5, x: 10, y: 10.1})
    assert "① − ②" in d.graph().source
    src = d.graph().source
    ys = _heights(src)
    assert ys["y"] > ys["w"] and ys["y"] > ys["x"], ys
