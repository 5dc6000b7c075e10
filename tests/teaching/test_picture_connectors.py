"""A wrapped picture's connectors (the dashed node a value leaves its row through and enters the
next by): a circle around a short name, an ellipse around a longer one — cs231n's y_pred overflowed
its circle, whose size dot estimates from the text (symgrad/teaching/graph_layout.py)."""
import re

import symgrad as sg


def _two_layer():
    x, y = sg.tensor("x", (4, 3)), sg.tensor("y", (4, 2))
    w1, w2 = sg.tensor("w1", (3, 5)), sg.tensor("w2", (5, 2))
    h = 1 / (1 + sg.exp(-(x @ w1)))
    y_pred = h @ w2
    names = {sg.tensor("h", (4, 5)): h, sg.tensor("y_pred", (4, 2)): y_pred}
    return sg.derive(sg.sum((y_pred - y) ** 2), [w1, w2], names=names, output_name="loss")


def _connectors(src):
    out = {}
    for line in src.splitlines():
        if "dashed" in line and "label=<" in line and "shape=" in line:
            label = re.search(r"label=<([^>]*)>", line).group(1)
            out.setdefault(label, set()).add(re.search(r"shape=(\w+)", line).group(1))
    return out


def test_a_long_name_leaves_its_row_through_an_ellipse():
    found = _connectors(_two_layer().graph(layout="wrapped").source)
    assert found.get("y_pred") == {"ellipse"}, found
    short = {k: v for k, v in found.items() if len(k) <= 3}
    assert short and all(v == {"circle"} for v in short.values()), found
