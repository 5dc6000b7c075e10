"""Renderers (symgrad/teaching/render.py): text, Unicode, Markdown, LaTeX (compiled with pdflatex), Jupyter."""
import re
import subprocess
from pathlib import Path

import pytest
import sympy as sp

import symgrad as sg
from symgrad.teaching.numbers import number
from symgrad.teaching.render import show
from symgrad.teaching.notation import partial
from teachtools import need

x, y, z, q = sp.symbols("x y z q")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "teaching"


def xyz():
    return sg.derive((x + y) * z, [x, y, z], names={q: x + y}, at={x: -2, y: 5, z: -4})


def test_text_is_ascii_and_reads_like_the_slide():
    text = xyz().render("text")
    assert text.isascii()
    # written from the slide: q = x + y; dq/dx = 1; f = qz; df/dq = z; chain rule df/dy = df/dq dq/dy
    for line in ["q = x + y = 3", "f = q*z = -12", "dq/dx = 1", "df/dq = z", "df/dz = q",
                 "df/dy = df/dq * dq/dy = z * 1 = z = -4", "df/dx = z = -4", "df/dz = q = 3"]:
        assert line in text, line


def test_unicode():
    text = xyz().render("unicode")
    assert "∂f/∂y = ∂f/∂q · ∂q/∂y = z · 1 = z = −4" in text
    assert "[sum rule: ∂q/∂y = 1]" in text


def test_markdown_and_jupyter():
    d = xyz()
    md = d._repr_markdown_()
    assert md.startswith("$$") and "**Gradient**" in md
    assert r"- $\frac{\partial f}{\partial x} = z = -4$" in md
    tex = d._repr_latex_()
    assert tex.startswith("$$\\begin{aligned}") and tex.endswith("\\end{aligned}$$")


def test_latex_align_block():
    tex = xyz().latex()     # the block, after the definition of the \stepnote its rule notes use
    head, block = tex.split("\n", 1)
    assert head.startswith(r"\providecommand{\stepnote}")
    assert block.startswith(r"\begin{align*}") and block.rstrip().endswith(r"\end{align*}")
    assert r"\frac{\partial f}{\partial y} &= \frac{\partial f}{\partial q} \cdot \frac{\partial q}{\partial y}" in tex


def test_str_keeps_the_summary():
    s = str(sg.derive((x + y) * z, [x, y, z]))
    assert s.startswith("f = z·(x + y)\n∂f/∂x = z\n∂f/∂y = z\n∂f/∂z = x + y")   # printed as the steps are
    assert "Backward pass" in s


def test_printers():
    assert show(partial("L", "z2", (3, 1), delta=True), "unicode") == "δ₂"
    assert show(partial("L", "z2", (3, 1), delta=True), "latex") == r"\delta_{2}"
    assert show(partial("f", "w0"), "unicode") == "∂f/∂w₀"
    assert show(partial("f", "w0"), "text") == "df/dw0"
    assert show(partial("f", "w0"), "latex") == r"\frac{\partial f}{\partial w_{0}}"
    t = sp.MatrixSymbol("f^*", 3, 1)
    f = sp.MatrixSymbol("f", 3, 1)
    assert show(f - t, "unicode") == "f − f*"            # positive term first, star kept
    W, v = sp.MatrixSymbol("W", 2, 2), sp.MatrixSymbol("v", 2, 1)
    assert show(W.T * v, "unicode") == "Wᵀ·v"
    assert number(-0.19661, "unicode", ".2f") == "−0.20"
    assert number([[1.0], [2.5]], "text") == "[[1], [2.5]]"


def test_unknown_format():
    with pytest.raises(ValueError, match="format must be one of"):
        xyz().render("html")


def _example_derivations():
    import importlib.util
    import sys
    sys.path.insert(0, str(EXAMPLES))
    out = []
    for path in sorted(EXAMPLES.glob("[a-z]*.py")):
        spec = importlib.util.spec_from_file_location(f"teach_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        built = mod.build()             # a Derivation, or (conv layer) several sets of notes
        for k, d in enumerate(built if isinstance(built, tuple) else (built,)):
            out.append((f"{path.stem}{k or ''}", d))
    return out


def test_latex_of_every_example_compiles(tmp_path):
    pdflatex = need("pdflatex")
    examples = _example_derivations()
    assert len(examples) >= 10          # the seeds' eight, the conv layer and the ResNet block
    for name, d in examples:
        tex = tmp_path / f"{name}.tex"
        tex.write_text(d.latex(document=True))
        r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", tex.name],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"{name}: pdflatex failed:\n{r.stdout[-2000:]}"
        assert (tmp_path / f"{name}.pdf").stat().st_size > 1000
        # nothing runs off the page: no line wider than the text by more than 10 pt
        log = (tmp_path / f"{name}.log").read_text(errors="replace")
        wide = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
        assert all(w <= 10 for w in wide), f"{name}: overfull by {max(wide)} pt"


def test_calculus_latex_compiles(tmp_path):
    pdflatex = need("pdflatex")
    tex = tmp_path / "calc.tex"
    tex.write_text(sg.derive(sp.tanh(sg.sigmoid(3 * x)) / x, x, style="calculus").render("latex-document"))
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", tex.name],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout[-2000:]


def test_docstring_examples_run():
    import doctest

    import symgrad.teaching.calculus
    import symgrad.teaching.derivation
    import symgrad.teaching.graph_picture
    import symgrad.teaching.render
    import symgrad.teaching.steps
    for m in (symgrad.teaching.steps, symgrad.teaching.render, symgrad.teaching.calculus, symgrad.teaching.graph_picture, symgrad.teaching.derivation):
        r = doctest.testmod(m, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert r.failed == 0, m.__name__


def test_a_symbolic_power_inside_a_product_is_written_with_a_caret():
    x, y = sp.symbols("x y")
    last = str(sg.derive(x ** y, x, style="calculus")).splitlines()[-1]
    assert "x^y" in last and "··" not in last and "**" not in last     # never Python's ** (F27)


def test_a_negated_elementwise_product_has_no_unit_coefficient():
    # g − s ⊙ g.sum(...) is Add(g, Mul(−1, s, Σg)): the sum writes the sign, the product no "1·"
    n = sp.Symbol("N", integer=True, positive=True)
    g, s = sg.tensor("g", (n, 3)), sg.tensor("s", (n, 3))
    for fmt, one in (("unicode", "1·"), ("latex", r"1 \cdot")):
        out = show(g - s * g.sum(axis=1, keepdims=True), fmt)
        assert one not in out and ("−" in out or "-" in out), (fmt, out)
    assert show(-2 * g * s, "unicode").startswith("−2·"), show(-2 * g * s, "unicode")


def test_each_printer_says_what_it_writes():
    # the Unicode printer's docstring was once pushed off by a class attribute above it
    from symgrad.teaching.render import TeachLatexPrinter, TextPrinter, UnicodePrinter
    for cls in (TextPrinter, UnicodePrinter, TeachLatexPrinter):
        assert cls.__doc__ and cls.__doc__.split(":")[0] in ("ASCII", "Unicode", "LaTeX"), cls
