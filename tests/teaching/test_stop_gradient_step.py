"""sg.derive of an expression with a stop_gradient: the node it holds gets a step saying its
gradient through it is zero (text, LaTeX, with numbers); the graph picture draws it."""
from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg

x, u = sp.symbols("x u", real=True)


def test_the_held_node_gets_a_zero_step_after_the_stop_gradient():
    text = str(sg.derive(x * sg.stop_gradient(sp.sin(x)), x))
    lines = text.splitlines()
    held = next(k for k, ln in enumerate(lines) if ln.strip().startswith("∂f/∂u₂ ="))
    assert lines[held + 1].strip().startswith("∂f/∂u₁ = ∂f/∂u₂ · ∂u₂/∂u₁ = 0")
    assert "stop-gradient: the value passes forward, no gradient passes back" in lines[held + 1]
    assert "u₂ = stop_gradient(u₁)" in text
    assert text.rstrip().endswith("∂f/∂x = stop_gradient(sin(x))")


def test_a_parameter_read_only_through_it_has_gradient_zero_with_numbers():
    s = sg.derive(x * sg.stop_gradient(u) + 1, [x, u]).explain(at={x: 2, u: 3})
    step = s.find("u")
    assert step.value == 0.0
    assert step.text("unicode").startswith("∂f/∂u = ∂f/∂u₁ · ∂u₁/∂u = 0    [stop-gradient")
    grads = dict((str(w), (g, val)) for w, g, val in s.gradients)
    assert grads["u"] == (0, 0.0) and grads["x"][1] == 3.0


def test_latex_and_the_picture_do_not_break_on_it():
    d = sg.derive(sg.sum(sp.HadamardPower(sp.MatrixSymbol("W", 2, 3) * sp.MatrixSymbol("v", 3, 1)
                                          - sg.stop_gradient(sp.MatrixSymbol("y", 2, 1)), 2)),
                  [sp.MatrixSymbol("W", 2, 3)])
    tex = d.latex()
    assert r"\operatorname{sg}" in tex
    t = sg.tensor("t", (3,))
    d2 = sg.derive((t * t.detach()).sum(), [t])
    d2.graph()
    vals = d2.values({t: np.array([1.0, 2.0, 3.0])})
    np.testing.assert_allclose(vals["gradients"][0], [1.0, 2.0, 3.0])


def _edge_gradients(dot_source: str) -> list:
    """The red (gradient) text under each edge label of a picture's DOT source, in order."""
    import re
    return [re.findall(r'<font color="#c0392b">([^<]*)</font>', line)
            for line in dot_source.splitlines() if re.match(r"\s*l\d+ \[label=", line)]


def test_the_picture_writes_zero_on_the_edges_no_gradient_comes_back_along():
    # the text says ∂f/∂u₁ = 0 and ∂f/∂c = 0; the picture left those edges' gradients blank
    a, c = sp.symbols("a c", real=True)
    d = sg.derive(a * sg.stop_gradient(a + c), [a, c])
    labels = _edge_gradients(d.graph(at={a: 2, c: 1}).source)
    assert sum(1 for g in labels if g == ["0"]) == 3          # a → +, c → +, u₁ → stop_gradient
    assert all(g for g in labels)                              # every edge carries a gradient
    symbolic = _edge_gradients(d.graph().source)
    assert ["∂f/∂u₁ = 0"] in symbolic and ["∂f/∂c = 0"] in symbolic
    assert sg.grad(a * sg.stop_gradient(a + c), c) == 0       # the oracle: nothing reaches c


def test_a_matrix_edge_into_a_stop_gradient_carries_a_zero_grid():
    import re
    t = sg.tensor("t", (3,))
    d = sg.derive((t * t.detach()).sum(), [t])
    src = d.graph(at={t: np.array([1.0, 2.0, 3.0])}).source
    node = re.search(r"(v\d+) \[label=<.*<b>stop_gradient</b>", src).group(1)
    edge = re.search(rf"(l\d+):m:e -> {node}\b", src).group(1)      # the label on t's edge into it
    label = next(ln for ln in src.splitlines() if ln.strip().startswith(f"{edge} [label="))
    below = label.split('sides="B"', 1)[1]                         # under the line: the gradient
    assert 'color="#c0392b"' in below
    assert re.findall(r'<font point-size="11">\s*([^<]*)</font>', below) == ["0", "0", "0"]
