"""``shapes=True``: each forward-pass line ends in its value's shape, as a lecturer writes
z⁽¹⁾ = W⁽¹⁾x + b⁽¹⁾ (H×1) (symgrad/teaching/shape_notes.py). The shapes are checked against the
numbers the forward pass evaluates at a point (an independent oracle: NumPy's shape of the value),
and a symbolic size is written by its name."""
import re
import subprocess

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError
from symgrad.teaching.render import latex_document
from teachtools import need


def _mlp():
    X, W1, b1 = sg.tensor("X", (4, 3)), sg.tensor("W1", (3, 5)), sg.tensor("b1", (5,))
    W2, G = sg.tensor("W2", (5, 2)), sg.tensor("G", (4, 2))
    rng = np.random.default_rng(1)
    at = {t: rng.normal(size=t.shape) for t in (X, W1, b1, W2, G)}
    return sg.derive(sg.sum(sg.relu(X @ W1 + b1) @ W2 * G), [W1, b1, W2], output_name="L"), at


def _forward(text):
    return text.split("Forward pass:\n")[1].split("\nBackward pass")[0].splitlines()


def test_each_forward_line_ends_in_the_shape_of_its_value():
    d, at = _mlp()
    steps = d.explain(at=at)
    lines = _forward(d.render("unicode", at=at, shapes=True))
    assert len(lines) == len(steps.definitions)
    for line, (sym, _, value) in zip(lines, steps.definitions):
        m = re.search(r"\((scalar|[\d×]+,?)\)$", line)
        assert m, line
        want = np.shape(np.asarray(value, dtype=float))
        said = () if m.group(1) == "scalar" else tuple(int(k) for k in m.group(1).rstrip(",").split("×"))
        assert said == want, (line, want)
    # without numbers the shapes stand in one column
    plain = _forward(d.render("unicode", shapes=True))
    assert len({line.rindex("(") for line in plain}) == 1, plain
    # a long line (numbers) has its shape after it, and pushes no other line's past it
    assert lines[-1].startswith("  L = u₂.sum() = ") and lines[-1].rindex("(") < 70, lines


def test_off_by_default_and_in_every_format():
    d, _ = _mlp()
    assert "(4×5)" not in d.render("unicode") and "(scalar)" not in d.render("unicode")
    assert "(4x5)" in d.render("text", shapes=True)
    assert r"\qquad (4 \times 5)" in d.latex(shapes=True)
    assert r"\qquad (4 \times 5)" in d.markdown(shapes=True)
    assert "(4×5)" in sg.derive(d.f, d.wrt, output_name="L", shapes=True).render("unicode")
    with pytest.raises(ArgumentError, match="shapes must be True or False"):
        d.render("unicode", shapes="yes")


def test_a_symbolic_size_is_written_by_its_name():
    H, n = sp.symbols("H n", integer=True, positive=True)
    x, W1, b1 = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("W1", H, n), sp.MatrixSymbol("b1", H, 1)
    w = sp.MatrixSymbol("w", 1, H)
    text = sg.derive(sg.sum(w * (W1 * x + b1).applyfunc(sg.relu)), [W1, b1], shapes=True).render("unicode")
    fwd = _forward(text)
    assert fwd[0].startswith("  z = W₁·x + b₁") and fwd[0].endswith("(H×1)"), fwd
    assert fwd[-1].endswith("(scalar)"), fwd


def test_the_latex_compiles(tmp_path):
    d, at = _mlp()
    pdflatex = need("pdflatex")
    (tmp_path / "s.tex").write_text(latex_document(d.latex(at=at, shapes=True)))
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "s.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]
