"""LaTeX of the tensor nodes that had no LaTeX form (fourth-session trial): SymPy printed their class
and raw arguments — OneHot(y, 3, 1), TakeAlong(..., 1), Index(x, ((0, N, 1), (0, 2, 1))) — or, for a
variance, sympy.stats' Var(x) without its axis. Each now reads as the text form does, its operands
in LaTeX; a row-wise softmax cross-entropy with integer labels compiles with pdflatex."""
import re
import subprocess

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.teaching.render import TeachLatexPrinter
from teachtools import need

N = sp.Symbol("N", integer=True, positive=True)
x, W = sg.tensor("x", (N, 4)), sg.tensor("W", (4, 3))
y = sg.tensor("y", (N,), integer=True)
E, ids = sg.tensor("E", (10, 4)), sg.tensor("ids", (N,), integer=True)
x_hat = sg.tensor("xhat", (N, 4))

CASES = [   # (expression, what the LaTeX holds, written by hand from the NumPy spelling)
    (sg.one_hot(y, 3), r"\operatorname{one\_hot}(y,\ 3)"),
    (sg.take_along_axis(x, y.reshape(N, 1), axis=1), r"\operatorname{take\_along\_axis}(x,"),
    (x[:, 0:2], r"x[:,\ :2]"),
    (x[:, ::2], r"x[:,\ ::2]"),
    (E[ids], r"E[\mathit{ids}]"),            # a name of several letters is one word
    (sg.concat([x, x], axis=1), r"\operatorname{concat}([x,\ x],\ \operatorname{axis}=1)"),
    (x.var(axis=0), r"\operatorname{var}_{\text{axis}=0} x"),      # as mean_{axis=0} x beside it
    (x.std(axis=0), r"\sqrt{\operatorname{var}_{\text{axis}=0} x}"),
    (x.var(axis=0, ddof=1), r"x.\operatorname{var}(\operatorname{axis}=0,\ \operatorname{correction}=1)"),
    (x_hat[:, 1:], r"\hat{x}[:,\ 1:]"),                         # an operand keeps its LaTeX
    (sg.softmax(x, axis=1), r"\operatorname{softmax}_{\text{axis}=1}\left(x\right)"),   # as sum_{axis=0}
]


@pytest.mark.parametrize("expr, tex", CASES, ids=[type(e).__name__ + str(i) for i, (e, _) in enumerate(CASES)])
def test_tensor_node_latex_reads_as_code(expr, tex):
    out = TeachLatexPrinter().doprint(expr)
    assert tex in out, out
    # no SymPy class name or raw tuple of slice bounds
    assert not re.search(r"OneHot|TakeAlong|Index|Take\b|Concat|Var\\left|\\operatorname\{Var\}", out), out


def test_batched_softmax_cross_entropy_document_compiles(tmp_path):
    b = sg.tensor("b", (3,))
    loss = sg.cross_entropy(sg.relu(x @ W + b), y)
    rng = np.random.default_rng(0)
    at = {x: rng.normal(size=(2, 4)), W: rng.normal(size=(4, 3)), b: np.zeros(3), y: np.array([0, 2])}
    tex = sg.derive(loss, [W, b], at=at, output_name="L").latex(document=True)
    assert "OneHot" not in tex and "TakeAlong" not in tex, tex[:600]
    assert r"\operatorname{one\_hot}(y,\ 3)" in tex
    pdflatex = need("pdflatex")
    (tmp_path / "ce.tex").write_text(tex)
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "ce.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-1500:]
