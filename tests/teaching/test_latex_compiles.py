"""LaTeX that compiles (issue 14, point 1): every activation and function × {scalar, its square, a
matrix layer} × {with, without a point}, a relu MLP with cross-entropy, and the Jupyter form
(`_repr_latex_`) of each — compiled by pdflatex, a group of cases per document (not one run per case)."""
import re
import subprocess

import pytest
import sympy as sp

import symgrad as sg
from latex_cases import activation_cases, function_cases, tensor_cases
from symgrad.teaching.render import latex_document
from teachtools import need

GROUPS = {
    "scalar": lambda: [c for c in activation_cases() if c[0].endswith("-scalar")],
    "square": lambda: [c for c in activation_cases() if c[0].endswith("-square")],
    "layer": lambda: [c for c in activation_cases() if c[0].endswith("-layer")],
    "functions": lambda: list(function_cases()),
    "tensors": lambda: list(tensor_cases()),
}


def _compile(tmp_path, name, body) -> str:
    pdflatex = need("pdflatex")
    (tmp_path / f"{name}.tex").write_text(latex_document(body))
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    log = (tmp_path / f"{name}.log").read_text(errors="replace")
    assert r.returncode == 0, f"pdflatex failed on {name}:\n" + "\n".join(
        l for l in r.stdout.splitlines() if l.startswith(("!", "l.")))
    return log


@pytest.mark.slow
@pytest.mark.parametrize("group", list(GROUPS))
def test_every_case_compiles_in_every_form(tmp_path, group):
    body = []
    for name, f, wrt, at in GROUPS[group]():
        plain, numbers = sg.derive(f, wrt), sg.derive(f, wrt, at=at)
        body.append(r"\section*{%s}" % name.replace("_", r"\_"))
        for d in (plain, numbers):
            body.append(d.latex())                     # an align* block, as a user pastes it
            jupyter = d._repr_latex_()
            # MathJax and nbconvert take \begin{aligned} in $$...$$, which has no \intertext
            assert jupyter.startswith(r"$$\begin{aligned}") and r"\intertext" not in jupyter, name
            body.append(jupyter)
    _compile(tmp_path, group, "\n\n".join(body))
    # every case is in: a section per case, none silently dropped
    assert len(body) == 5 * len(GROUPS[group]())


def test_each_case_alone_is_a_valid_document(tmp_path):
    # latex(document=True) of one case, the form the examples write: it compiles on its own
    name, f, wrt, at = next(c for c in activation_cases() if c[0] == "relu-layer")
    (tmp_path / "one.tex").write_text(sg.derive(f, wrt, at=at).latex(document=True))
    pdflatex = need("pdflatex")
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "one.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout[-1500:]


def test_the_square_of_an_activation_prints():
    # SymPy's printer asks σ(x)² for its base with exp=2: that used to raise TypeError
    x = sp.Symbol("x")
    assert sp.latex(sg.sigmoid(x) ** 2) == r"\left(\sigma\left(x\right)\right)^{2}"
    assert sp.latex(sg.relu(x) ** 3) == r"\left(\operatorname{relu}\left(x\right)\right)^{3}"
    assert sp.latex(sg.softplus(x) ** 2).endswith("^{2}")


@pytest.mark.parametrize("act", [sg.relu, sp.tanh, sg.leaky_relu, sp.log, sp.sin, sp.Heaviside])
def test_an_elementwise_map_has_balanced_braces(act):
    W, x = sp.MatrixSymbol("W", 2, 2), sp.MatrixSymbol("x", 2, 1)
    tex = sp.latex(sg.elementwise(act, W * x))
    depth = 0
    for c in re.sub(r"\\[{}]", "", tex):
        depth += (c == "{") - (c == "}")
        assert depth >= 0, tex
    assert depth == 0 and "W x" in tex, tex


def test_the_document_is_headed_as_the_text_form():
    x, y, z = sp.symbols("x y z")
    d = sg.derive((x + y) * z, [x, y, z])
    text, tex = d.render("text"), d.latex()
    assert "Forward pass:" in text and r"\intertext{\textbf{Forward pass}}" in tex
    assert r"\intertext{\textbf{Backward pass} (reverse" in tex and r"\intertext{\textbf{Gradient}}" in tex
    jupyter = d._repr_latex_()
    for head in ("Forward pass", "Backward pass", "Gradient"):
        assert r"\textbf{%s}" % head in jupyter


def test_a_rule_note_is_a_paragraph_that_wraps():
    # the rule column ran off the page (overfull by hundreds of points): now each note is a
    # paragraph of its own under its equation, in text mode, so pdflatex wraps it
    W, x, t = sp.MatrixSymbol("W", 2, 2), sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("t", 2, 1)
    tex = sg.derive(sg.mse(sg.relu(W * x), t), W).latex()
    note = next(l for l in tex.splitlines() if "subgradient convention" in l)
    assert note.startswith(r"\stepnote{") and "&&" not in tex
    assert r"$\frac{\partial y}{\partial z} = H{\left(z \right)}$" in note
