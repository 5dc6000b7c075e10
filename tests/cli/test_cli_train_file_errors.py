"""`symgrad train` says what is wrong with a data file with the file's option and name, reading
sg.train's refusal by its fields (argument, key, said, fix; TrainingDiverged.account, saved_to), not
by its message text."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import cli
from symgrad.compiling.training import TrainingArgumentError, TrainingDiverged
from standin_program import LABELS_MODEL_FILE

MODEL = LABELS_MODEL_FILE


@pytest.fixture
def files(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 4)), rng.integers(0, 3, 40)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    bad = y.copy()
    bad[6] = 3
    np.savez(tmp_path / "range.npz", x=x, y=bad)
    return tmp_path


@pytest.mark.parametrize("flag", ["--data", "--validation"])
def test_a_label_out_of_range_names_the_file_it_is_in(files, capsys, flag):
    """Before: "symgrad train: error: data['y']: the input 'y' holds labels ..." — sg.train's words for
    its argument, naming no file (and 'data' for a --validation file)."""
    good, bad = str(files / "data.npz"), str(files / "range.npz")
    argv = ["train", str(files / "model.py"), "--no-progress", "--epochs", "1"]
    argv += ["--data", bad] if flag == "--data" else ["--data", good, "--validation", bad]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"error: {flag} {bad}: the input 'y' holds labels" in err and "entry 6 is 3" in err
    assert "data['y']" not in err and "validation['y']" not in err


def test_train_refusals_carry_what_they_are_about():
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    W = sg.tensor("W", (4, 3))
    prog = sg.compile(sg.cross_entropy(x @ W, y), [W], [x, y], outputs=[x @ W])
    data = {"x": np.ones((5, 3)), "y": np.zeros(5, dtype=int)}
    with pytest.raises(TrainingArgumentError) as e:
        sg.train(prog, data, progress=False)
    assert (e.value.argument, e.value.key) == ("data", "x") and e.value.said.startswith(" has shape (5, 3)")
    assert str(e.value) == "data['x']" + e.value.said
    with pytest.raises(TrainingArgumentError) as e:
        sg.train(prog, {"x": np.ones((5, 4)), "y": np.zeros(5, dtype=int)}, patience=2, monitor="val_loss",
                 progress=False)
    assert (e.value.argument, e.value.key) == ("monitor", "val_loss") and "'train_loss'" in e.value.said
    with pytest.raises(sg.LabelRangeError) as e:
        sg.train(prog, {"x": np.ones((5, 4)), "y": np.array([0, 1, 2, 3, 0])}, progress=False)
    assert (e.value.argument, e.value.key) == ("data", "y")


def test_accuracy_of_real_targets_keeps_its_advice_apart():
    N = sp.Symbol("N", integer=True, positive=True)
    x, y, w = sg.tensor("x", (N, 2)), sg.tensor("y", (N,)), sg.tensor("w", (2,))
    prog = sg.compile(sg.mean((x @ w - y) ** 2), [w], [x, y], outputs=[x @ w])
    with pytest.raises(TrainingArgumentError) as e:
        sg.train(prog, {"x": np.ones((6, 2)), "y": np.linspace(0, 5, 6)}, metrics=["loss", "accuracy"],
                 progress=False)
    cause = e.value.__cause__
    assert (e.value.argument, e.value.key, e.value.dataset) == ("metrics", "accuracy", "data")
    assert cause.fix.startswith("use metrics=['loss', 'mae']") and str(cause) == f"{cause.said}: {cause.fix}"


def test_a_divergence_carries_its_account_apart_from_what_was_kept(tmp_path):
    w, x = sp.symbols("w x")
    prog = sg.compile((w * x) ** 2, [w], [x], optimizer=sg.optim.SGD(lr=100.0), dtype="float64")
    ck = tmp_path / "ck.npz"
    with pytest.raises(TrainingDiverged) as e:
        sg.train(prog, {"x": np.full(8, 10.0)}, epochs=50, batch_size=8, values={"w": np.array(1.0)},
                 checkpoint=ck, progress=False)
    assert e.value.account.startswith("training diverged at step") and "kept" not in e.value.account
    assert e.value.saved_to == str(ck) and str(e.value).startswith(e.value.account)


@pytest.mark.parametrize("flag, name", [("--data", "data.npz"), ("--validation", "range.npz"),
                                        ("the model file", "model.py")])
def test_a_checkpoint_onto_another_file_of_the_command_is_refused(files, capsys, flag, name):
    # the checkpoint, saved after the first epoch, would have replaced that file
    before = (files / name).read_bytes()
    argv = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--validation",
            str(files / "range.npz"), "--no-progress", "--epochs", "1", "--checkpoint", str(files / name)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"--checkpoint {files / name}: that is {flag}; saving a checkpoint there would overwrite it" in err, err
    assert (files / name).read_bytes() == before
