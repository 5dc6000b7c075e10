"""`symgrad derive --gates binary` (symgrad/cli/derive.py): the text, LaTeX and picture that
`sg.derive(..., gates="binary")` gives, so that the command draws cs231n's two-input gates too."""
import sympy as sp
import pytest

import symgrad as sg
from symgrad.cli import main

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
AT = "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"
w0, x0, w1, x1, w2 = sp.symbols("w0 x0 w1 x1 w2")
F = 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))
POINT = {w0: 2, x0: -1, w1: -3, x1: -2, w2: -3}


def api(gates, **kw):
    return sg.derive(F, sorted(F.free_symbols, key=str), at=POINT, gates=gates, **kw)


@pytest.mark.parametrize("fmt, view", [("unicode", "unicode"), ("latex", "latex-document"),
                                       ("text", "text")])
def test_each_format_is_the_apis_with_two_input_gates(capsys, fmt, view):
    assert main(["derive", NEURON, "--at", AT, "--gates", "binary", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert out == api("binary").render(view) + "\n"
    assert out != api("n-ary").render(view) + "\n"        # the gates changed the text
    if fmt == "unicode":                                   # (w0·x0 + w1·x1) + w2, each gate a line
        assert "  u₃ = u₁ + u₂ = 4" in out and "  u₄ = u₃ + w₂ = 1" in out


def test_the_picture_gets_the_gates_too(capsys, tmp_path):
    out = tmp_path / "g.dot"
    assert main(["derive", NEURON, "--at", AT, "--gates", "binary", "--graph", str(out)]) == 0
    assert out.read_text() == api("binary").graph().source
    assert out.read_text() != api("n-ary").graph().source


def test_forward_mode_and_default(capsys):
    assert main(["derive", "x*y*z", "--mode", "forward", "--gates", "binary"]) == 0
    x, y, z = sp.symbols("x y z")
    assert capsys.readouterr().out == sg.derive(x * y * z, [x, y, z], mode="forward",
                                                gates="binary").render("unicode") + "\n"
    assert main(["derive", "x*y*z", "--gates", "n-ary"]) == 0     # the default, spelled out
    assert capsys.readouterr().out == sg.derive(x * y * z, [x, y, z]).render("unicode") + "\n"


def test_refused_where_it_means_nothing(capsys):
    assert main(["derive", "x*y*z", "--wrt", "x", "--style", "calculus", "--gates", "binary"]) == 2
    assert "--gates binary" in capsys.readouterr().err
    assert main(["derive", "x*y*z", "--gates", "bin"]) == 2
    assert "did you mean 'binary'" in capsys.readouterr().err
