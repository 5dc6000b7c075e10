"""The header line of a derivation whose loss is sg.cross_entropy prints it as the user wrote it
(the forward pass's fold), not its lowering to logsumexp − take_along_axis: text and LaTeX."""
import subprocess

import symgrad as sg
from symgrad.teaching.render import latex_document
from teachtools import need


def _mlp(target="labels", reduction="mean"):
    x, W, b = sg.tensor("x", (2, 3)), sg.tensor("W", (3, 4)), sg.tensor("b", (4,))
    V = sg.tensor("V", (4, 3))
    y = sg.tensor("y", (2,), integer=True) if target == "labels" else sg.tensor("t", (2, 3))
    h = sg.relu(x @ W + b)
    return sg.derive(sg.cross_entropy(h @ V, y, reduction=reduction), [W, b, V], output_name="L"), h


def test_header_reads_cross_entropy_as_written():
    d, h = _mlp()
    assert d.render("unicode").splitlines()[0] == "L = cross_entropy(relu(x @ W + b) @ V, y)"
    assert d.text().splitlines()[0] == "L = cross_entropy(relu(x @ W + b) @ V, y)"
    named = d.render("unicode", names={"h": h}).splitlines()
    assert named[0] == "L = cross_entropy(relu(x @ W + b) @ V, y)" and "  h = relu(z)" in named


def test_header_of_a_target_distribution_summed():
    d, _ = _mlp("distribution", "sum")
    assert d.render("unicode").splitlines()[0] == "L = cross_entropy(relu(x @ W + b) @ V, t, reduction='sum')"


def test_header_without_a_cross_entropy_is_unchanged():
    x, W = sg.tensor("x", (2, 3)), sg.tensor("W", (3, 4))
    d = sg.derive(((x @ W) ** 2).sum(), [W], output_name="L")
    assert d.render("unicode").splitlines()[0] == "L = ((x @ W)²).sum()"


def test_latex_header_compiles(tmp_path):
    d, _ = _mlp()
    tex = d.latex()
    head = tex.split(r"\intertext")[0]
    assert r"L &= \operatorname{cross\_entropy}\left(\operatorname{relu}\left(x W + b\right) V,\ y\right)" in head, head
    assert "logsumexp" not in head and "take" not in head, head
    pdflatex = need("pdflatex")
    (tmp_path / "ce.tex").write_text(latex_document(tex))
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "ce.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]
