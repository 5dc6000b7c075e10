"""With a literal batch size the cross-entropy's δ reads as the slides write it,
(softmax(z) − one_hot(y))/4 — in the text, in LaTeX (\\frac{softmax − one_hot}{4}, never "+ −"),
and on the picture's edges (not softmax(z)/4 − one_hot(y)/4)."""
import re
import subprocess

import sympy as sp

import symgrad as sg
from picture_parse import edges
from symgrad.teaching.render import latex_document
from teachtools import need

N = sp.Symbol("N", integer=True, positive=True)


def _layer(n, labels=True):
    x, W, b = sg.tensor("x", (n, 2)), sg.tensor("W", (2, 3)), sg.tensor("b", (3,))
    y = sg.tensor("y", (n,), integer=True) if labels else sg.tensor("t", (n, 3))
    return sg.derive(sg.cross_entropy(x @ W + b, y), [W, b], output_name="L",
                     given=None if labels else {y.sum(axis=1): 1})


def _delta_line(text):
    (line,) = [li for li in text.splitlines() if li.strip().startswith("δ = ")]
    return line.split("    [")[0]


def test_the_delta_line_reads_softmax_minus_one_hot_over_the_batch():
    for n, over in ((4, "/4"), (N, "/N")):
        text = _layer(n).render("unicode")
        line = _delta_line(text)
        assert line.endswith(f"= (softmax(z, axis=1) − one_hot(y, 3)){over}"), line
        assert f"softmax(z, axis=1){over}" not in text and f"one_hot(y, 3){over}" not in text, text
        gradient = text.split("Gradient:")[1]
        assert f"∂L/∂W = x.T @ ((softmax(z, axis=1) − one_hot(y, 3)){over})" in gradient, gradient
    ascii_text = _layer(4).render("text")
    assert "(softmax(z, axis=1) - one_hot(y, 3))/4" in ascii_text and "/4 - one_hot" not in ascii_text


def test_a_target_distribution_reads_the_same():
    line = _delta_line(_layer(4, labels=False).render("unicode"))
    assert line.endswith("= (softmax(z, axis=1) − t)/4"), line


def test_latex_writes_one_fraction_with_a_minus(tmp_path):
    tex = _layer(4).latex()
    frac = r"\frac{\operatorname{softmax}_{\text{axis}=1}\left(z\right) - \operatorname{one\_hot}(y,\ 3)}{4}"
    assert frac in tex, tex
    assert "+ -" not in tex and "+ −" not in tex, tex
    pdflatex = need("pdflatex")
    (tmp_path / "ce.tex").write_text(latex_document(tex))
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "ce.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]


def test_the_pictures_edges_gather_the_batch_size():
    src = _layer(4).graph().source
    labels = [gv for _, _, gv, _ in edges(src) if gv]
    assert not any(re.search(r"/4 − |/4 \+ ", gv) for gv in labels), labels
    assert "∂L/∂(x @ W) = (softmax(z, axis=1) − one_hot(y, 3))/4" in labels, labels
