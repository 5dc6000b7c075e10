"""The command line's words for the optimizer's clipping and groups: a bad --clip-grad-norm /
--clip-grad-value names the option, and --target triton's refusal of clipping or groups says which
command line works."""
import pytest

from symgrad import cli

MODEL = """\
import sympy as sp, symgrad as sg
W, b = sp.MatrixSymbol("W", 3, 4), sp.MatrixSymbol("b", 3, 1)
x, t = sp.MatrixSymbol("x", 4, 1), sp.MatrixSymbol("t", 3, 1)
loss = sg.cross_entropy(W * x + b, t)
params, inputs = [W, b], [x, t]
"""


@pytest.fixture
def model(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "grouped.py").write_text(MODEL + "optimizer = sg.optim.Adam(lr=0.05, groups=[{'params': [b], 'lr': 0.2}])\n")
    return tmp_path


@pytest.mark.parametrize("flag", ["--clip-grad-norm", "--clip-grad-value"])
@pytest.mark.parametrize("value", ["-1", "0", "inf"])
def test_a_bad_clipping_value_names_the_option(model, capsys, flag, value):
    assert cli.main(["compile", str(model / "model.py"), flag, value]) == 2
    err = capsys.readouterr().err
    assert f"{flag} {float(value):g}: must be a finite number > 0" in err, err


@pytest.mark.parametrize("argv", [["model.py", "--clip-grad-norm", "1.0"], ["grouped.py"]])
def test_triton_refusal_gives_command_line_advice(model, capsys, argv):
    assert cli.main(["compile", str(model / argv[0]), *argv[1:], "--target", "triton"]) != 0
    err = capsys.readouterr().err
    assert "--target triton:" in err and "--target numpy" in err and "as_torch" not in err, err
