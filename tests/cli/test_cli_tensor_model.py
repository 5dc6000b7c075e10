"""`symgrad compile` and `symgrad train` on model files that declare tensors (sg.tensor): one written
for one example (fixed shapes, batched by symgrad, with a dropout layer) and one written over the
batch (a symbolic N). The real console entry point and compiler run; the trained values are read
back from the checkpoint and scored by NumPy written here."""
import numpy as np
import pytest

from symgrad import cli
from symgrad.compiling.training import load

PER_EXAMPLE = '''
import symgrad as sg
D, H, C = 4, 8, 3
x, y = sg.tensor("x", (D,)), sg.tensor("y", (), integer=True)      # one example and its label
W1, b1 = sg.tensor("W1", (H, D)), sg.tensor("b1", (H,))
W2, b2 = sg.tensor("W2", (C, H)), sg.tensor("b2", (C,))
outputs = [W2 @ sg.dropout(sg.relu(W1 @ x + b1), 0.1) + b2]
loss = sg.cross_entropy(outputs[0], y)
params, inputs, target = [W1, b1, W2, b2], [x, y], y
optimizer = sg.optim.Adam(lr=0.05)
'''

OVER_THE_BATCH = '''
import sympy as sp, symgrad as sg
N = sp.Symbol("N", integer=True, positive=True)
D, H, C = 4, 8, 3
x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
W1, b1 = sg.tensor("W1", (D, H)), sg.tensor("b1", (H,))
W2, b2 = sg.tensor("W2", (H, C)), sg.tensor("b2", (C,))
outputs = [sg.relu(x @ W1 + b1) @ W2 + b2]
loss = sg.cross_entropy(outputs[0], y)
params, inputs, target = [W1, b1, W2, b2], [x, y], y
optimizer = sg.optim.Adam(lr=0.05)
'''


def _blobs(n, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(99).standard_normal((3, 4)) * 3
    y = rng.integers(0, 3, n)
    return {"x": centers[y] + rng.standard_normal((n, 4)), "y": y.astype(float)}


def _scores(kind, v, x):
    """The network's scores for rows x, in NumPy (per example: W @ x; over the batch: x @ W)."""
    if kind == "per example":
        return np.maximum(x @ v["W1"].T + v["b1"], 0) @ v["W2"].T + v["b2"]
    return np.maximum(x @ v["W1"] + v["b1"], 0) @ v["W2"] + v["b2"]


@pytest.mark.parametrize("kind, text, header", [("per example", PER_EXAMPLE, "Declared per example"),
                                                ("over the batch", OVER_THE_BATCH, "Declared over the batch")])
def test_a_tensor_model_file_compiles_and_trains(kind, text, header, tmp_path, capsys):
    model = tmp_path / "model.py"
    model.write_text(text)
    assert cli.main(["compile", str(model), "--dtype", "float64"]) == 0
    src = capsys.readouterr().out
    assert header in src and "def step(" in src
    np.savez(tmp_path / "data.npz", **_blobs(200))
    ck = tmp_path / "ck.npz"
    assert cli.main(["train", str(model), "--data", str(tmp_path / "data.npz"), "--epochs", "6",
                     "--checkpoint", str(ck), "--no-progress"]) == 0
    assert "train_accuracy" in capsys.readouterr().out
    test = _blobs(300, seed=5)
    values = load(ck).values
    accuracy = (_scores(kind, values, test["x"]).argmax(1) == test["y"]).mean()
    assert accuracy > 0.9


def test_a_model_file_with_something_else_in_params_is_refused(tmp_path, capsys):
    model = tmp_path / "model.py"
    model.write_text(PER_EXAMPLE + "params = [W1, 'b1']\n")
    assert cli.main(["compile", str(model)]) == 2
    err = capsys.readouterr().err
    assert "'params' must be a list of SymPy Symbols, MatrixSymbols or tensors (sg.tensor)" in err
