"""The command line's words for the optimizer's clipping and groups: a bad --clip-grad-norm /
--clip-grad-value names the option; --target triton compiles clipping and groups as --target numpy
does (the same training run, under TRITON_INTERPRET=1 here)."""
import numpy as np
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


@pytest.mark.parametrize("argv", [["model.py", "--clip-grad-norm", "0.05", "--optimizer", "sgd", "--lr", "0.5"],
                                  ["grouped.py", "--clip-grad-value", "0.01"]])
def test_triton_trains_with_clipping_and_groups_as_numpy(model, capsys, argv):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 4)).astype(np.float32)
    np.savez(model / "data.npz", x=X, t=np.eye(3, dtype=np.float32)[rng.integers(0, 3, 12)])
    finals = {}
    for target in ("numpy", "triton"):
        assert cli.main(["train", str(model / argv[0]), *argv[1:], "--data", str(model / "data.npz"), "--epochs", "2",
                         "--batch-size", "6", "--no-progress", "--target", target]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        finals[target] = float(lines[-1].rsplit(" ", 1)[1])
    assert finals["triton"] == pytest.approx(finals["numpy"], rel=1e-4), finals
