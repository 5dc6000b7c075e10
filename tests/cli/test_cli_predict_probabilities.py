"""`symgrad predict --probabilities`: a classifier's class probabilities (scikit-learn's predict_proba)
beside its scores — the sigmoid of one logit, the softmax of several — checked against SciPy's expit
and softmax of the scores the same command writes."""
import numpy as np
import pytest

from symgrad import cli
from standin_program import LABELS_MODEL_FILE

special = pytest.importorskip("scipy.special")
BINARY = """import sympy as sp, symgrad as sg
N = sp.Symbol('N', integer=True, positive=True)
x, y = sg.tensor('x', (N, 4)), sg.tensor('y', (N,))
w, b = sg.tensor('w', (4,)), sg.tensor('b', ())
outputs = [x @ w + b]
loss = sg.bce_with_logits(x @ w + b, y, pos_weight=3.0)
params, inputs, target = [w, b], [x, y], y
"""


@pytest.fixture
def path(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)) * 3
    y = (x[:, 0] > 1).astype(int)
    rows = "".join(",".join(f"{v:.6f}" for v in r) + f",{k}\n" for r, k in zip(x, y))
    (tmp_path / "d.csv").write_text(rows)
    (tmp_path / "new.csv").write_text("".join(",".join(f"{v:.6f}" for v in r) + "\n" for r in x[:10]))
    (tmp_path / "binary.py").write_text(BINARY + "optimizer = sg.optim.Adam(lr=0.1)\n")
    (tmp_path / "three.py").write_text(LABELS_MODEL_FILE + "optimizer = sg.optim.Adam(lr=0.1)\n")
    return tmp_path


def _predict(path, model, *argv):
    assert cli.main(["train", str(path / model), "--data", str(path / "d.csv"), "--no-progress", "--epochs", "2",
                     "--checkpoint", str(path / "ck.npz"), "--dtype", "float64"]) == 0
    code = cli.main(["predict", str(path / model), str(path / "ck.npz"), "--data", str(path / "new.csv"),
                     "--dtype", "float64", *argv])
    return code


def test_one_logits_probability_is_its_sigmoid(path, capsys):
    assert _predict(path, "binary.py", "--probabilities", "-o", str(path / "p.csv")) == 0
    with open(path / "p.csv") as f:
        assert f.readline().strip() == "output,class,probability"
    table = np.loadtxt(path / "p.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(table[:, 2], special.expit(table[:, 0]), rtol=1e-12)
    np.testing.assert_array_equal(table[:, 1], table[:, 2] > 0.5)


def test_several_scores_probabilities_are_their_softmax(path, capsys):
    assert _predict(path, "three.py", "--probabilities", "-o", str(path / "p.npz")) == 0
    with np.load(path / "p.npz") as z:
        np.testing.assert_allclose(z["probability"], special.softmax(z["output"], axis=1), rtol=1e-12)
        np.testing.assert_array_equal(z["class"], z["probability"].argmax(axis=1))


def test_without_a_target_it_is_refused(path, capsys):
    (path / "plain.py").write_text(BINARY.replace("params, inputs, target = [w, b], [x, y], y",
                                                  "params, inputs = [w, b], [x, y]"))
    assert _predict(path, "plain.py", "--probabilities") == 2
    assert "--probabilities: class probabilities are a classifier's" in capsys.readouterr().err


def test_predict_probas_name_is_told(path, capsys):
    """Before: only 'unrecognized arguments: --predict-proba'."""
    assert cli.main(["predict", str(path / "binary.py"), "ck.npz", "--data", "d.csv", "--predict-proba"]) == 2
    assert "(--predict-proba: --probabilities adds each sample's class probabilities" in capsys.readouterr().err
