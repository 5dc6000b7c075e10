"""Identifiers in generated code are made by symgrad: hostile or clashing symbol names compile,
give correct results, and never appear in the source as code (names, strings, keywords)."""
import io
import keyword
import re
import tokenize

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

BAD = ["x; import os", "lambda", "np", "_t0", "ŷ", "numpy", "B", "scale", "p0", "x0", "v4", "L",
       "loss", "a\nimport os", "W'); import os; ('"]


def _code_tokens(source: str) -> set:
    """Every NAME, STRING and OP-free token text of the source, comments excluded."""
    out = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.NAME, tokenize.STRING, tokenize.NUMBER):
            out.add(tok.string)
    return out


def _no_name_as_code(source: str, names):
    tokens = _code_tokens(source)
    words = set()
    for t in tokens:
        if t[0] in "'\"" or t.startswith('"""'):
            words |= set(re.findall(r"\w+", t))
    strings = " ".join(t for t in tokens if t[0] in "'\"")
    for n in names:
        if n in ("numpy", "B", "scale", "p0", "x0", "v4", "L", "loss"):
            continue       # these are symgrad's own identifiers too; the test is that values stay right
        assert n not in tokens, f"{n!r} appears as code"
        if n.isidentifier():
            assert n not in words, f"{n!r} appears inside a string literal"
        else:
            assert n not in strings, f"{n!r} appears inside a string literal"
    compile(source, "<generated>", "exec")


@pytest.mark.parametrize("name", BAD)
def test_hostile_names_as_inputs_and_params(name):
    w = sp.Symbol(name + "_w") if name == "x; import os" else sp.Symbol("w")
    x = sp.Symbol(name)
    y = sp.Symbol("y")
    prog = sg.compile((y - w * x) ** 2 / 2, params=[w], inputs=[x, y], dtype="float64")
    _no_name_as_code(prog.source, [name, w.name])
    X, Y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 3.0, 7.0])
    g = prog.grad({w: 0.5}, {name: X, "y": Y})[w.name]
    assert np.isclose(g, np.mean(-(Y - 0.5 * X) * X), rtol=1e-12)


def test_hostile_matrix_names():
    W = sp.MatrixSymbol("x; import os", 2, 3)
    x = sp.MatrixSymbol("lambda", 3, 1)
    b = sp.MatrixSymbol("np", 2, 1)
    t = sp.MatrixSymbol("ŷ", 2, 1)
    c = sp.MatrixSymbol("_t0", 2, 1)
    loss = sg.mse(sg.sigmoid(W * x + b) + c, t)
    prog = sg.compile(loss, [W, b, c], [x, t], dtype="float64")
    _no_name_as_code(prog.source, [W.name, x.name, b.name, t.name, c.name])
    for kw in keyword.kwlist:
        assert not any(f"def {kw}" in line for line in prog.source.splitlines())
    rng = np.random.default_rng(0)
    vals = {W.name: rng.normal(size=(2, 3)), b.name: rng.normal(size=(2, 1)), c.name: rng.normal(size=(2, 1))}
    X, T = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    # oracle: plain NumPy, per example
    z = X @ vals[W.name].T + vals[b.name].T
    out = 1 / (1 + np.exp(-z)) + vals[c.name].T
    d = out - T
    assert np.isclose(prog.loss(vals, {x: X, t: T}), np.mean(0.5 * (d ** 2).sum(1)), rtol=1e-12)
    g = prog.grad(vals, {x: X, t: T})
    s = 1 / (1 + np.exp(-z))
    dz = d * s * (1 - s) / 4
    np.testing.assert_allclose(g[W.name], dz.T @ X, rtol=1e-10)
    np.testing.assert_allclose(g[c.name], d.mean(0)[:, None], rtol=1e-10)


def test_comments_cannot_break_out():
    """A newline in a name would end a comment line; it is escaped."""
    x = sp.Symbol("a\nimport os\n")
    w = sp.Symbol("w")
    prog = sg.compile((w * x) ** 2, params=[w], inputs=[x])
    assert "\nimport os" not in prog.source
    lines = [ln.strip() for ln in prog.source.splitlines()]
    assert "import os" not in lines
