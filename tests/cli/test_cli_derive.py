"""`symgrad derive` (symgrad/cli/derive.py)."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from symgrad.cli import main
from teachtools import need

ROOT = Path(__file__).resolve().parents[2]


def test_calculus_style(capsys):
    assert main(["derive", "sin(x**2)", "--wrt", "x", "--style", "calculus", "--at", "x=1"]) == 0
    out = capsys.readouterr().out
    assert "let u = x²; apply the chain rule" in out and "so d/dx sin(x²) = 2·x·cos(x²)" in out
    assert "1.081" in out


def test_steps_with_point_and_names_text(capsys):
    rc = main(["derive", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "--name", "q=x+y", "--format", "text"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "df/dy = df/dq * dq/dy = z * 1 = z = -4" in out and "df/dz = q = 3" in out


@pytest.mark.parametrize("fmt, marker", [("latex", r"\begin{align*}"), ("md", "**Gradient**"),
                                         ("unicode", "∂f/∂x")])
def test_formats(capsys, fmt, marker):
    assert main(["derive", "x*exp(y)", "--format", fmt]) == 0
    assert marker in capsys.readouterr().out


def test_model_file(capsys, tmp_path):
    model = tmp_path / "model.py"
    model.write_text(textwrap.dedent("""
        import sympy as sp
        import symgrad as sg
        W = sp.MatrixSymbol("W", 2, 3)
        x = sp.MatrixSymbol("x", 3, 1)
        b = sp.MatrixSymbol("b", 2, 1)
        t = sp.MatrixSymbol("t", 2, 1)
        loss = sg.mse(sg.sigmoid(W * x + b), t)
        params = [W, b]
        inputs = [x, t]
    """))
    assert main(["derive", str(model)]) == 0
    out = capsys.readouterr().out
    assert "∂L/∂W = δ · ∂z/∂W = δ·xᵀ" in out and "∂L/∂b = δ · ∂z/∂b = δ" in out


def test_graph_file(capsys, tmp_path):
    need("dot")
    out = tmp_path / "g.svg"
    assert main(["derive", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "--graph", str(out)]) == 0
    assert "<svg" in out.read_text() and "−12" in out.read_text()


@pytest.mark.parametrize("argv, message", [
    (["derive", "sin(x**2"], "cannot parse the expression"),
    (["derive", "x*y", "--wrt", "q"], "'q' is not a symbol"),
    (["derive", "x*y", "--at", "x=abc"], "must be a number"),
    (["derive", "x*y", "--at", "x"], "NAME=VALUE"),
    (["derive", "(x+y)*z", "--at", "x=-2,y=5"], "--at gives no value for z"),      # named as --at's
    (["derive", "missing.py"], "not found"),
    (["derive", "x*y", "--style", "calculus"], "one --wrt symbol"),
    (["derive", "3"], "no symbols"),
    (["derive", "x*y", "--name", "q=x+y"], "not a subexpression"),
])
def test_bad_input_exits_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_model_file_without_loss(capsys, tmp_path):
    model = tmp_path / "bad.py"
    model.write_text("x = 1\n")
    assert main(["derive", str(model)]) == 2
    assert "must define `loss`" in capsys.readouterr().err


def test_console_entry_point():
    r = subprocess.run([sys.executable, "-m", "symgrad", "derive", "x**2", "--format", "text"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert "df/dx = 2*x" in r.stdout


# ---------------------------------------------------------------------------------------------------
# --matrix and --given, as `symgrad check` takes --matrix (a user trial found derive had neither)


def test_matrix_declarations_and_a_matrix_point(capsys):
    """∂/∂W Σ(Wx − y)² = 2(Wx − y)xᵀ; at W = [[1,2,3],[4,5,6]], x = (1,0,2), y = (1,1): Wx − y =
    (6, 15), so the gradient is [[12, 0, 24], [30, 0, 60]] (worked by hand)."""
    rc = main(["derive", "sum(HadamardPower(W*x - y, 2))", "--matrix", "W:2x3", "--matrix", "x:3x1",
               "--matrix", "y:2x1", "--wrt", "W", "--at", "W=1,2,3,4,5,6", "--at", "x=1,0,2,y=1,1"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "∂L/∂W = 2·(W·x − y)·xᵀ = [[12, 0, 24], [30, 0, 60]]" in out


def test_given_simplifies_a_one_hot_target(capsys):
    argv = ["derive", "cross_entropy(z, t)", "--matrix", "z:3x1", "--matrix", "t:3x1", "--wrt", "z"]
    assert main(argv) == 0
    plain = capsys.readouterr().out.split("Gradient:")[-1]
    assert "∂L/∂z = sum(t)·softmax(z) − t" in plain       # without the fact: softmax(z)·Σt − t
    assert main(argv + ["--given", "sum(t)=1"]) == 0
    out = capsys.readouterr().out
    assert "given sum(t) = 1" in out and "∂L/∂z = softmax(z) − t" in out.split("Gradient:")[-1]


@pytest.mark.parametrize("argv, message", [
    (["derive", "sum(W)", "--matrix", "W:2"], "expected NAME:RxC"),
    (["derive", "sum(W)", "--matrix", "W:2x2", "--at", "W=1,2,3"], "needs 4 values"),
    (["derive", "x*y", "--given", "x*y"], "EXPR=VALUE"),
    (["derive", "x*y", "--given", "x>=1"], "EXPR=VALUE"),
    (["derive", "x*y", "--given", "q=1"], "'q' is not a symbol"),
    (["derive", "x*y", "--given", "x=abc(1)"], "abc"),
])
def test_matrix_and_given_bad_input_exits_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err
