"""sg.train on stand-in Programs (tests/standin_program.py) until the compiler lands."""
import math
import os

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import optim as O
from symgrad.compiling import training as T
from symgrad.compiling.training import (Checkpoint, History, TrainingDiverged, accuracy, load, mean_loss, save,
                           train)
from standin_program import Exp, SoftmaxRegression, blobs, init


def test_learns_separable_classes_and_records_history():
    data, val = blobs(200), blobs(100, sample_seed=7)
    prog = SoftmaxRegression(O.Adam(lr=0.05))
    h = train(prog, data, epochs=5, batch_size=32, validation=val, progress=False,
              metrics={"loss": mean_loss, "accuracy": accuracy("t")}, values=init())
    assert isinstance(h, History)
    assert len(h.loss) == 5 * math.ceil(200 / 32) == h.step
    assert [e["epoch"] for e in h.epochs] == [1, 2, 3, 4, 5]
    assert {"loss", "val_loss", "val_accuracy", "seconds"} <= set(h.epochs[0])
    assert h.metric("val_loss")[-1] < h.metric("val_loss")[0]
    assert h.metric("val_accuracy")[-1] >= 0.95
    # the recorded validation loss is the loss over the whole validation set at the final values
    assert h.metric("val_loss")[-1] == pytest.approx(prog.loss(h.values, val), rel=1e-12)


def test_step_loss_is_the_loss_before_the_step():
    data, v0 = blobs(50), init()
    for return_loss in (False, True):
        prog = SoftmaxRegression(O.SGD(lr=0.1), return_loss=return_loss)
        h = train(prog, data, epochs=2, batch_size=50, shuffle=False, progress=False, values=v0)
        assert h.loss[0] == pytest.approx(prog.loss(v0, data), rel=1e-12)
        # full-batch gradient descent, written out by hand, gives the same values
        W, b = v0["W"].copy(), v0["b"].copy()
        for _ in range(2):
            g = prog.grad({"W": W, "b": b}, data)
            W, b = W - 0.1 * g["W"], b - 0.1 * g["b"]
        np.testing.assert_allclose(h.values["W"], W, rtol=1e-12)


def test_metrics_on_training_data_without_validation_and_none_by_default():
    data = blobs(60)
    prog = SoftmaxRegression(O.SGD(lr=0.1))
    h = train(prog, data, epochs=1, batch_size=20, progress=False, values=init())
    assert set(h.epochs[0]) == {"epoch", "loss", "seconds"}
    h = train(prog, data, epochs=1, batch_size=20, progress=False, values=init(), metrics=["loss"])
    assert h.epochs[0]["train_loss"] == pytest.approx(prog.loss(h.values, data), rel=1e-12)
    with pytest.raises(KeyError, match="val_accuracy"):
        h.metric("val_accuracy")


def test_shuffle_is_seeded():
    data = blobs(64)
    run = lambda seed, shuffle=True: train(SoftmaxRegression(O.SGD(lr=0.1)), data, epochs=2,  # noqa: E731
                                           batch_size=8, seed=seed, shuffle=shuffle,
                                           progress=False, values=init()).loss
    assert run(0) == run(0)
    assert run(0) != run(1)
    assert run(0, shuffle=False) == run(1, shuffle=False)


def exp_data(bad_at=4, n=8):
    x = np.full(n, 0.5)
    x[bad_at] = 1e4                   # exp(w·1e4) overflows: loss and gradient are inf
    return {"x": x}


def manual_steps(k, lr=0.01, w=0.1):
    for _ in range(k):                # SGD on exp(w·0.5) one sample at a time
        w = w - lr * 0.5 * np.exp(w * 0.5)
    return w


@pytest.mark.parametrize("in_place", [False, True])
def test_divergence_names_step_and_parameter_and_keeps_last_finite_values(in_place):
    prog = Exp(O.SGD(lr=0.01), in_place=in_place)
    v0 = {"w": np.array(0.1)}
    with pytest.raises(TrainingDiverged, match=r"step 5\b.*'w'") as err:
        train(prog, exp_data(bad_at=4), epochs=1, batch_size=1, shuffle=False, progress=False,
              values=v0)
    e = err.value
    assert e.step == 5 and e.param == "w" and not math.isfinite(e.loss)
    assert float(e.values["w"]) == pytest.approx(manual_steps(4), rel=1e-12)
    assert e.state["t"] == 4
    assert len(e.history.loss) == 4 and float(e.history.values["w"]) == float(e.values["w"])
    assert float(v0["w"]) == 0.1      # the caller's values are not touched


def test_nonfinite_update_with_finite_gradient_names_the_parameter():
    class Overflow(Exp):              # a finite loss and gradient, but the step itself overflows
        def step(self, values, state, batch):
            return {"w": values["w"] * np.float64(1e308) * 10}, state
    with np.errstate(over="ignore"):
        with pytest.raises(TrainingDiverged, match="updated value") as err:
            train(Overflow(O.SGD(lr=0.1)), {"x": np.ones(3)}, batch_size=1, progress=False,
                  values={"w": np.array(1.0)})
    assert err.value.step == 1 and err.value.param == "w"


def test_checkpoint_resume_equals_uninterrupted_training(tmp_path):
    data, path = blobs(40), tmp_path / "ck.npz"
    kw = dict(batch_size=16, shuffle=False, progress=False)
    straight = train(SoftmaxRegression(O.Adam(lr=0.05)), data, epochs=3, values=init(), **kw)
    train(SoftmaxRegression(O.Adam(lr=0.05)), data, epochs=2, values=init(), checkpoint=path, **kw)
    ck = load(path)
    assert isinstance(ck, Checkpoint) and ck.step == 2 * 3 and ck.epoch == 2 and ck.state["t"] == 6
    resumed = train(SoftmaxRegression(O.Adam(lr=0.05)), data, epochs=1, values=ck, **kw)
    assert resumed.step == 9 and [e["epoch"] for e in resumed.epochs] == [3]
    for k in ("W", "b"):              # Adam's bias correction needs t restored too
        np.testing.assert_allclose(resumed.values[k], straight.values[k], rtol=1e-12)


def test_save_load_round_trip_of_nested_state(tmp_path):
    W = sp.MatrixSymbol("W", 2, 2)
    values = {W: np.arange(4.0).reshape(2, 2), "b": np.zeros((2, 1))}
    state = {"t": 7, "lr": 0.5, "slots": {W: {"exp_avg": np.ones((2, 2))}}, "pair": (1, [2.0, None])}
    save(tmp_path / "a.npz", values, state, step=7, epoch=2)
    ck = load(tmp_path / "a.npz")
    assert set(ck.values) == {"W", "b"}                 # saved by name
    np.testing.assert_array_equal(ck.values["W"], values[W])
    assert ck.state["t"] == 7 and ck.state["lr"] == 0.5 and ck.state["pair"] == (1, [2.0, None])
    np.testing.assert_array_equal(ck.state["slots"]["W"]["exp_avg"], np.ones((2, 2)))
    assert (ck.step, ck.epoch) == (7, 2)
    np.savez(tmp_path / "plain.npz", w=np.ones(2))
    with pytest.raises(sg.SymgradError, match="not a symgrad checkpoint"):
        load(tmp_path / "plain.npz")


@pytest.mark.parametrize("kwargs,message", [
    (dict(data={"x": np.ones((4, 2)), "t": np.ones((3, 3))}), "same positive number of samples"),
    (dict(data={"x": np.array([[np.nan, 1.0]] * 3), "t": np.ones((3, 3))}), r"data\['x'\] has 3 missing values \(NaN\)"),
    (dict(data={}), "non-empty dict"),
    (dict(batch_size=0), "batch_size"),
    (dict(epochs=1.5), "epochs"),
    (dict(values=None), "initial parameter values"),
    (dict(validation=blobs(4), metrics=["bogus"]), "unknown metric 'bogus'"),
])
def test_bad_arguments_are_clear_errors(kwargs, message):
    args = dict(data=blobs(10), epochs=1, batch_size=4, progress=False, values=init())
    args.update(kwargs)
    data = args.pop("data")
    with pytest.raises(ValueError, match=message):
        train(SoftmaxRegression(O.SGD(lr=0.1)), data, **args)


def test_progress_bar_on_stderr_and_off(capsys):
    data = blobs(20)
    train(SoftmaxRegression(O.SGD(lr=0.1)), data, epochs=1, batch_size=5, values=init(), progress=True)
    assert "train" in capsys.readouterr().err
    train(SoftmaxRegression(O.SGD(lr=0.1)), data, epochs=1, batch_size=5, values=init(), progress=False)
    assert capsys.readouterr().err == ""


def test_public_names():
    assert sg.History is History and sg.TrainingDiverged is TrainingDiverged
    h = sg.train(SoftmaxRegression(O.SGD(lr=0.1)), blobs(8), epochs=1, batch_size=4,
                 progress=False, values=init())
    assert isinstance(h, sg.History) and issubclass(TrainingDiverged, sg.SymgradError)


def test_loss_comes_from_last_loss_without_an_extra_evaluation():
    class LastLoss(SoftmaxRegression):           # like sg.compile's Program: step keeps last_loss
        last_loss = None

        def step(self, values, state, batch):
            self.last_loss = self.loss_and_grad(values, batch)[0]
            return super().step(values, state, batch)

        def loss(self, values, batch):
            raise AssertionError("train should not evaluate the loss again")
    data, v0 = blobs(30), init()
    h = train(LastLoss(O.SGD(lr=0.1)), data, epochs=1, batch_size=30, progress=False, values=v0)
    assert h.loss[0] == pytest.approx(SoftmaxRegression(O.SGD()).loss(v0, data), rel=1e-12)


class Fixed:
    """forward returns given rows: enough for the accuracy metric."""
    def __init__(self, out):
        self.out = out

    def forward(self, values, batch):
        return [self.out[batch["i"]]]


@pytest.mark.parametrize("out,labels,threshold,expected", [
    (np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), np.array([[0, 1], [0, 1], [0, 1]]), 0.5, 2 / 3),
    (np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), np.array([1, 0, 0]), 0.5, 2 / 3),
    (np.array([[0.9], [0.2], [0.6], [0.4]]), np.array([1, 0, 0, 0]), 0.5, 3 / 4),
    (np.array([[2.0], [-1.0], [0.5]]), np.array([1.0, 0.0, 0.0]), 0.0, 2 / 3),
])
def test_accuracy_metric(out, labels, threshold, expected):
    data = {"i": np.arange(len(out)), "y": labels}
    assert accuracy("y", threshold=threshold)(Fixed(out), {}, data) == pytest.approx(expected)


class Counting(SoftmaxRegression):
    """Counts its steps: a check "before the first epoch" must leave this at 0."""
    steps = 0

    def step(self, values, state, batch):
        self.steps += 1
        return super().step(values, state, batch)


def _nan_metric(program, values, data):
    return float("nan")


def _raising_metric(program, values, data):
    return data["no such input"]


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(checkpoint="{tmp}"), T.CheckpointError, r"checkpoint: cannot save .* it is a directory"),
    (dict(checkpoint="{tmp}/file.txt/ck.npz"), T.CheckpointError, r"checkpoint: .* cannot be written"),
    (dict(checkpoint=3), T.CheckpointError, "checkpoint must be a file path"),
    (dict(validation={"x": np.ones((5, 4))}), T.TrainingArgumentError,
     r"validation has the inputs \['x'\], but the training data has \['t', 'x'\]"),
    (dict(validation={"x": np.ones((5, 3)), "t": np.ones((5, 3))}), T.TrainingArgumentError,
     r"validation\['x'\] has samples of shape \(3,\), but data\['x'\] has samples of shape \(4,\)"),
    (dict(metrics={"acc": 3}), T.TrainingArgumentError, r"metrics\['acc'\] is not callable"),
    (dict(metrics="loss"), T.TrainingArgumentError, "metrics must be a list or a dict"),
    (dict(metrics={"nan": _nan_metric}), T.TrainingArgumentError,
     r"metrics\['nan'\] returned nan on a first probe"),
    (dict(metrics={"boom": _raising_metric}, validation=blobs(6)), T.TrainingArgumentError,
     r"metrics\['boom'\] failed on a first probe .* on the validation\): KeyError: 'no such input'"),
    (dict(metrics={"acc": accuracy("y")}), T.TrainingArgumentError, r"metrics\['acc'\] failed"),
])
def test_what_would_fail_after_the_first_epoch_is_refused_before_it(kwargs, error, message, tmp_path):
    (tmp_path / "file.txt").write_text("a file, not a folder")
    kwargs = {k: (v.format(tmp=tmp_path) if isinstance(v, str) else v) for k, v in kwargs.items()}
    prog = Counting(O.SGD(lr=0.1))
    with pytest.raises(error, match=message) as e:
        train(prog, blobs(10), epochs=2, batch_size=4, progress=False, values=init(), **kwargs)
    assert isinstance(e.value, sg.SymgradError) and isinstance(e.value, ValueError)
    assert prog.steps == 0


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc, where nobody can create files")
def test_a_read_only_checkpoint_folder_is_refused_even_for_root():
    prog = Counting(O.SGD(lr=0.1))
    with pytest.raises(T.CheckpointError, match="cannot be written"):
        train(prog, blobs(10), epochs=1, batch_size=4, progress=False, values=init(),
              checkpoint="/proc/self/ck.npz")
    assert prog.steps == 0


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes read-only folders")
def test_a_read_only_checkpoint_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(T.CheckpointError, match="cannot be written"):
            train(Counting(O.SGD(lr=0.1)), blobs(10), progress=False, values=init(),
                  checkpoint=folder / "ck.npz")
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("bad_at", [0, 4])
def test_divergence_saves_the_last_finite_values_to_the_checkpoint(bad_at, tmp_path):
    ck = tmp_path / "ck.npz"
    with pytest.raises(TrainingDiverged, match=f"saved to {ck}") as err:
        train(Exp(O.SGD(lr=0.01), in_place=True), exp_data(bad_at=bad_at), epochs=1, batch_size=1,
              shuffle=False, progress=False, values={"w": np.array(0.1)}, checkpoint=ck)
    saved = load(ck)
    assert saved.step == bad_at == err.value.step - 1 and saved.epoch == 0
    assert float(saved.values["w"]) == pytest.approx(manual_steps(bad_at), rel=1e-12)
    assert saved.state["t"] == bad_at


def test_divergence_without_a_checkpoint_says_where_the_values_are():
    with pytest.raises(TrainingDiverged, match=r"kept \(the exception's \.values\)$"):
        train(Exp(O.SGD(lr=0.01)), exp_data(), epochs=1, batch_size=1, shuffle=False,
              progress=False, values={"w": np.array(0.1)})


def test_loading_a_missing_truncated_or_foreign_checkpoint_is_a_checkpoint_error(tmp_path):
    good = tmp_path / "good.npz"
    save(good, {"W": np.ones((3, 4))}, {"t": 1, "m": {"W": np.zeros((3, 4))}}, step=1)
    raw = good.read_bytes()
    for cut in (10, len(raw) // 2, len(raw) - 10):
        (tmp_path / "cut.npz").write_bytes(raw[:cut])
        with pytest.raises(T.CheckpointError, match="not a readable symgrad checkpoint"):
            load(tmp_path / "cut.npz")
    with pytest.raises(T.CheckpointError, match="no such checkpoint file"):
        load(tmp_path / "missing.npz")
    with pytest.raises(T.CheckpointError, match="is a directory"):
        load(tmp_path)
    assert load(good).step == 1


def test_integer_labels_for_a_declared_one_hot_target_are_refused_before_the_first_step():
    """A user trial: labels of shape (1400,) for a declared one-hot t (N, 10) gave "the input 't' has
    shape (32,)" at the first step — the minibatch's shape. The data is checked against the
    declaration first, naming the data's shape and the two fixes."""
    N = sp.Symbol("N", integer=True, positive=True)
    X, t = sg.tensor("X", (N, 8)), sg.tensor("t", (N, 10))
    W, b = sg.tensor("W", (8, 10)), sg.tensor("b", (10,))
    program = sg.compile(sg.cross_entropy(X @ W + b, t), params=[W, b], inputs=[X, t])
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((1400, 8)), rng.integers(0, 10, 1400)
    steps = []
    program.step = lambda *a, **k: steps.append(1)       # no step may run
    with pytest.raises(T.TrainingArgumentError, match=r"data\['t'\] has shape \(1400,\), but the input 't' is "
                                                      r"declared \(N, 10\).*np\.eye\(10\)\[labels\].*"
                                                      r"sg\.tensor\('t', \(N,\), integer=True\)"):
        sg.train(program, {"X": x, "t": labels})
    assert not steps
    with pytest.raises(T.TrainingArgumentError, match=r"data\['X'\] has shape \(1400, 7\)"):
        sg.train(program, {"X": x[:, :7], "t": np.eye(10)[labels]})
    del program.step
    h = sg.train(program, {"X": x[:64], "t": np.eye(10)[labels[:64]]}, epochs=1, progress=False)
    assert len(h.loss) == 2
