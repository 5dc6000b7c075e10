"""The graph picture (symgrad/teaching/graph_picture.py): values above, gradients below, PNG and SVG."""
import pytest
import sympy as sp

import symgrad as sg
from picture_parse import edges, node_names
from symgrad.errors import SymgradError
from symgrad.teaching.graph_picture import op_label, save
from teachtools import need

x, y, z, q = sp.symbols("x y z q")


def xyz_picture():
    return sg.derive((x + y) * z, [x, y, z], names={q: x + y}).graph(at={x: -2, y: 5, z: -4})


def test_xyz_numbers_match_the_slide():
    es = {name: (fv, gv) for name, fv, gv, _ in edges(xyz_picture().source)}
    # the slide: x = −2 gets −4, y = 5 gets −4, z = −4 gets 3; q = 3 gets −4; f = −12
    assert es["x"] == ("−2", "−4")
    assert es["y"] == ("5", "−4")
    assert es["z"] == ("−4", "3")
    assert es["q"] == ("3", "−4")
    assert ("−12", "1") in es.values()


def test_one_node_per_operation_and_value():
    names = node_names(xyz_picture().source)
    assert sorted(names.values()) == sorted(["x", "y", "z", "+", "×", "f"])


def test_without_numbers_the_edges_carry_symbols():
    # ∂f/∂·, as the legend says: ∂f/∂q = z, ∂f/∂x = z (never the local ∂q/∂x)
    src = sg.derive((x + y) * z, [x, y, z], names={q: x + y}).graph().source
    assert "∂f/∂q = z" in src and "∂f/∂x = z" in src and "∂f/∂z = q" in src
    assert "∂q/∂x" not in src


def test_fan_out_shows_the_sum():
    f, g = sp.symbols("f g")
    src = sg.derive((f + 3) * (f * g), [f, g]).graph(at={f: 4, g: 2}).source
    assert "fan-out" in src
    grads = [gv for name, fv, gv, _ in edges(src) if name == "f"]
    assert len(grads) == 2                         # one edge per use of f, each with its share
    # d/df [(f+3)·f·g] = f·g + (f+3)·g = 8 + 14 at f = 4, g = 2
    assert sorted(grads) == ["14", "8"] and "Σ = 22" in src


def test_op_labels():
    d = sg.derive(sg.sigmoid(x) + sp.exp(x) / x, [x])
    labels = {op_label(e) for e in d.ir.ancestors([d.output]) if not e.prim.leaf}
    assert {"σ", "exp", "1/□", "+"} <= labels


def test_png_and_svg_of_the_xyz_graph(tmp_path):
    need("dot")
    png = save(xyz_picture(), tmp_path / "xyz.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000
    svg = save(xyz_picture(), tmp_path / "xyz.svg")
    assert "<svg" in svg.read_text() and "−12" in svg.read_text()


def test_bad_picture_format(tmp_path):
    with pytest.raises(SymgradError, match="format"):
        save(xyz_picture(), tmp_path / "xyz.jpgx")
