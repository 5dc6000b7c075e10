"""A value grid keeps its brackets tight when the cell it sits in is wider than it — under a wider
caption ("[0, 0, :, :] of 2×3×2×2"), or above a wider gradient grid on the same edge. Graphviz
stretches a table to its cell and spreads the extra over the table's columns, which drew the
brackets apart with a gap inside them (symgrad/teaching/graph_picture.py, `_centred`).

Measured on what Graphviz draws (SVG): a bracket is a polyline whose short ticks are the bracket
cell's width (3 points), and the first number starts just right of it — compared with the same grid
drawn alone, where nothing stretches it."""
from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from symgrad.teaching.graph_picture import stack, value_part

graphviz = pytest.importorskip("graphviz")
pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")

GREEN, RED = "#1e8449", "#c0392b"
SVG = "{http://www.w3.org/2000/svg}"


def _drawn(html: str) -> ET.Element:
    g = graphviz.Digraph()
    g.node("a", label=f"<{html}>", shape="box")
    return ET.fromstring(g.pipe(format="svg"))


def _brackets(svg, color):
    """[(tick length, x of the vertical stroke)] of the brackets drawn in ``color``, left first."""
    out = []
    for pl in svg.iter(SVG + "polyline"):
        if pl.get("stroke") != color:
            continue
        xs = [float(p.split(",")[0]) for p in pl.get("points").split()]
        vertical = xs[1]                        # ⌈: tick end, corner, corner, tick end
        out.append((max(xs) - min(xs), vertical))
    return sorted(out, key=lambda t: t[1])


def _first_number_x(svg, color) -> float:
    return min(float(t.get("x")) for t in svg.iter(SVG + "text")
               if t.get("fill") == color and t.get("font-size") == "11.00")


def _shape(svg, color):
    """(tick lengths, gap from the left bracket to the first number) of the grid in ``color``."""
    br = _brackets(svg, color)
    assert len(br) == 2, br
    return [round(t, 1) for t, _ in br], _first_number_x(svg, color) - br[0][1]


PLANE = np.array([[-1.0, -0.5], [0.0, 0.5]])


def test_a_grid_under_a_wider_caption_keeps_its_brackets_tight():
    alone = _shape(_drawn(value_part(PLANE, ".4g", GREEN).html), GREEN)
    four_d = np.zeros((2, 3, 2, 2))
    four_d[0, 0] = PLANE                        # drawn as its first plane, captioned
    part = value_part(four_d, ".4g", GREEN)
    assert "of 2×3×2×2" in part.html
    ticks, gap = _shape(_drawn(part.html), GREEN)
    assert ticks == alone[0] and ticks[0] <= 4, (ticks, alone)     # the bracket cell stays 3 points
    assert abs(gap - alone[1]) <= 1, (gap, alone)                   # no gap inside the bracket


def test_a_small_grid_above_a_wider_one_keeps_its_brackets_tight():
    small, wide = np.array([0.1, -0.1]), np.array([45.9531, 27.2703, -1234.5, 0.001])
    alone = _shape(_drawn(value_part(small, ".4g", GREEN).html), GREEN)
    svg = _drawn(stack([value_part(small, ".4g", GREEN), value_part(wide, ".4g", RED)]).html)
    ticks, gap = _shape(svg, GREEN)
    assert ticks == alone[0] and abs(gap - alone[1]) <= 1, (ticks, gap, alone)
    # and it stands over the middle of the wider grid (the difference split between both sides)
    (_, left), (_, right) = _brackets(svg, GREEN)
    (_, wleft), (_, wright) = _brackets(svg, RED)
    assert abs((left + right) / 2 - (wleft + wright) / 2) < 0.15 * (wright - wleft)


def test_every_bracket_of_a_cnn_picture_is_tight():
    # the whole picture, as `Derivation.graph` draws it: a conv layer's values and gradients, 4-d
    # (captioned) and 1-d (the bias, [0.1, −0.1] above its wider gradient) — no bracket stretched
    import symgrad as sg
    x, w, b = sg.tensor("x", (2, 1, 4, 4)), sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,))
    rng = np.random.default_rng(3)
    at = {x: rng.normal(size=(2, 1, 4, 4)), w: rng.normal(size=(2, 1, 3, 3)) * 10, b: np.array([0.1, -0.1])}
    svg = ET.fromstring(sg.derive(sg.sum(sg.relu(sg.conv2d(x, w, b)) ** 2), [w, b]).graph(at=at).pipe(format="svg"))
    ticks = []
    for pl in svg.iter(SVG + "polyline"):
        xs = [float(p.split(",")[0]) for p in pl.get("points").split()]
        if len(xs) == 4 and xs[1] == xs[2] and pl.get("stroke") in (GREEN, RED):
            ticks.append(max(xs) - min(xs))
    assert len(ticks) >= 8 and max(ticks) <= 4, ticks
