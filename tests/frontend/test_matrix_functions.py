"""sg.tanh & co. on matrices; SymPy's own function of a whole matrix is refused naming sg.<name>;
applyfunc forms print as the function of the matrix; the LaTeX of every new function compiles."""
import shutil
import subprocess

import pytest
import sympy as sp

import symgrad as sg
from symgrad.frontend.functions import Map

W, x, b = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("b", 2, 1)
MAPPED = [sg.tanh, sg.exp, sg.log, sg.sqrt, sg.abs, sg.erf, sg.gelu, sg.gelu_tanh, sg.silu, sg.elu,
          sg.selu, sg.softsign, sg.hardtanh, sg.sin, sg.cos, sg.cosh, sg.atan]


@pytest.mark.parametrize("f", MAPPED, ids=lambda f: f.__name__)
def test_maps_over_a_matrix_and_prints_as_its_call(f):
    e = f(W * x + b)
    assert isinstance(e, Map) and e.shape == (2, 1)
    shown = {"abs": "Abs"}.get(f.__name__, f.__name__)          # SymPy's name for |x|
    assert str(e).startswith(f"{shown}(W*x + b") and "Lambda" not in str(e)


@pytest.mark.parametrize("spf,fix", [(sp.tanh, "sg.tanh"), (sp.exp, "sg.exp"), (sp.log, "sg.log"),
                                     (sp.erf, "sg.erf"), (sp.sin, "sg.sin"),
                                     (sp.asinh, "sg.elementwise")])
@pytest.mark.parametrize("entry", ["grad", "derive", "check", "compile"])
def test_sympy_function_of_a_matrix_names_the_fix(spf, fix, entry):
    loss = sg.sum(spf(W * x + b))
    call = {"grad": lambda: sg.grad(loss, W), "derive": lambda: sg.derive(loss, W),
            "check": lambda: sg.check(loss, W, W), "compile": lambda: sg.compile(loss, [W, b], [x])}[entry]
    with pytest.raises(sg.UnsupportedError, match=r"not taken entry by entry; write " + fix.replace(".", r"\.")):
        call()


def test_applyfunc_prints_as_the_function_of_the_matrix():
    d = sg.derive(sg.sum((W * x + b).applyfunc(sp.tanh)), W)
    text = str(d)
    assert "tanh(W·x + b)" in text and "Lambda" not in text     # str(d) prints as the steps do
    assert sg.grad(sg.sum((W * x + b).applyfunc(sp.tanh)), W) == sg.grad(sg.sum(sg.tanh(W * x + b)), W)


def test_gelu_refuses_an_unknown_approximation():
    with pytest.raises(sg.ArgumentError, match="'none' or 'tanh'"):
        sg.gelu(sp.Symbol("z"), approximate="erf")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")
def test_latex_of_every_function_compiles(tmp_path):
    z = sp.Symbol("z", real=True)
    lines = []
    for f in MAPPED + [sg.relu, sg.sigmoid, sg.softplus]:
        for e in (f(z), sp.diff(f(z), z), f(W * x + b), sg.grad(sg.sum(f(W * x + b)), W)):
            lines.append(r"\[" + sp.latex(e) + r"\]")
    doc = "\n".join([r"\documentclass{article}", r"\usepackage{amsmath,amssymb}", r"\begin{document}",
                     *lines, r"\end{document}"])
    (tmp_path / "f.tex").write_text(doc)
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "f.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]
