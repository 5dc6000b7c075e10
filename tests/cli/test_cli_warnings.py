"""A warning while a command runs is one line on stderr, `symgrad train: warning: ... (Category)`;
it was Python's two lines: the path and line inside symgrad that issued it, and that line's source."""
import numpy as np

from symgrad import cli

MODEL = '''
import sympy as sp, symgrad as sg
N = sp.Symbol("N", integer=True, positive=True)
x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,))
w, u = sg.tensor("w", (3,)), sg.tensor("u", (2,))
loss = sg.mean((x @ w - y) ** 2)
params, inputs = [w, u], [x, y]
optimizer = sg.optim.SGD(lr=sg.optim.WarmupCosine(0.05, warmup=1, total=5))
'''


def test_warnings_are_one_line_each(tmp_path, capsys):
    (tmp_path / "model.py").write_text(MODEL)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(40, 3)), y=rng.normal(size=40))
    assert cli.main(["train", str(tmp_path / "model.py"), "--data", str(tmp_path / "d.npz"), "--epochs", "5",
                     "--batch-size", "10"]) == 0
    err = capsys.readouterr().err.splitlines()
    warned = [line for line in err if "warning" in line.lower()]
    assert any(line.startswith("symgrad train: warning: sg.compile: the parameter 'u' gets no gradient")
               and line.endswith("(NoGradientWarning)") for line in warned), err
    assert any(line.startswith("symgrad train: warning: the learning rate (WarmupCosine(total=5)) reaches its "
                               "end rate 0 at step 6") for line in warned), err
    assert not any(".py:" in line for line in err), err
