"""sg.train(patience=...): early stopping as a torch loop writes it by hand (best metric, a counter of
epochs without improvement, the best epoch's weights loaded at the end)."""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import TrainingArgumentError, mean_loss

N = sp.Symbol("N", integer=True, positive=True)


def _program():
    x, y = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (3, 2)), sg.tensor("b", (2,))
    logits = x @ W + b
    return sg.compile(sg.cross_entropy(logits, y), [W, b], [x, y], outputs=[logits], dtype="float64",
                      optimizer=sg.optim.SGD(lr=0.1))


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    return {"x": x, "y": (x[:, 0] > 0).astype(int)}


def _scripted(scores):
    """A metric returning the given numbers in turn (the probe before training takes none)."""
    it = iter(scores)
    calls = {"n": 0}

    def score(program, values, data):
        calls["n"] += 1
        return 0.0 if calls["n"] == 1 else next(it)
    return score


def test_stops_after_patience_epochs_and_keeps_the_best_epochs_values():
    prog, data = _program(), _data()
    values = {"W": np.zeros((3, 2)), "b": np.zeros(2)}
    # a loss-like score: best at epoch 3, then 2 epochs without improvement -> stop after epoch 5
    h = sg.train(prog, data, epochs=10, batch_size=8, values=values, validation=data, progress=False,
                 metrics={"score": _scripted([5.0, 4.0, 3.0, 3.5, 3.2, 1.0, 1.0])}, patience=2,
                 monitor="val_score", mode="min")
    assert [r["epoch"] for r in h.epochs] == [1, 2, 3, 4, 5]
    assert h.stopped_early and h.best_epoch == 3
    # the oracle: the same run for exactly 3 epochs, without early stopping
    want = sg.train(prog, data, epochs=3, batch_size=8, values=values, progress=False)
    for k in ("W", "b"):
        np.testing.assert_array_equal(h.values[k], want.values[k])
    assert h.state["t"] == want.state["t"] == 3 * 5           # the state of that epoch too
    assert h.step == 5 * 5                                     # steps taken: the last epoch's count


def test_accuracy_is_maximized_and_min_delta_counts():
    prog, data = _program(), _data()
    values = {"W": np.zeros((3, 2)), "b": np.zeros(2)}
    h = sg.train(prog, data, epochs=10, batch_size=8, values=values, validation=data, progress=False,
                 metrics={"accuracy": _scripted([0.5, 0.8, 0.805, 0.9, 0.7, 0.7, 0.7])}, patience=2,
                 monitor="val_accuracy", min_delta=0.01)
    assert h.best_epoch == 4 and len(h.epochs) == 6           # 0.805 is not 0.01 better than 0.8


def test_runs_to_the_end_when_it_keeps_improving():
    prog, data = _program(), _data()
    h = sg.train(prog, data, epochs=4, batch_size=8, seed=1, progress=False, patience=3)   # train_loss
    assert not h.stopped_early and len(h.epochs) == 4
    assert h.best_epoch == 1 + int(np.argmin(h.metric("train_loss")))


@pytest.mark.parametrize("kwargs, match", [
    ({"patience": 2, "monitor": "val_los"}, "did you mean 'val_loss'"),
    ({"patience": 0}, "patience must be an integer >= 1"),
    ({"patience": 2, "min_delta": -1}, "min_delta"),
    ({"monitor": "val_loss"}, "without patience"),
])
def test_bad_arguments_are_refused_before_the_first_step(kwargs, match):
    prog, data = _program(), _data()
    values = {"W": np.zeros((3, 2)), "b": np.zeros(2)}
    with pytest.raises(TrainingArgumentError, match=match):
        sg.train(prog, data, epochs=2, batch_size=8, values=values, validation=data, progress=False, **kwargs)
    np.testing.assert_array_equal(values["W"], 0)


def test_an_abbreviated_validation_name_without_validation_names_the_training_one():
    """Before: monitor="val_acc" without a validation set named nothing (difflib finds no train_accuracy
    in val_acc); the validation name's training twin is now matched as loosely as the name itself."""
    prog, data = _program(), _data()
    with pytest.raises(TrainingArgumentError, match=r"did you mean 'train_accuracy'\? there is no validation set"):
        sg.train(prog, data, epochs=2, batch_size=8, progress=False, metrics=["loss", "accuracy"], patience=2,
                 monitor="val_acc")


def test_the_historys_repr_says_it_stopped_and_whose_values_it_holds():
    prog, data = _program(), _data()
    h = sg.train(prog, data, epochs=10, batch_size=8, validation=data, progress=False,
                 metrics={"cost": _scripted([5.0, 4.0, 4.5, 4.5, 1.0])}, patience=2, monitor="val_cost")
    assert "stopped early, values of epoch 2" in repr(h)
    # the training loss keeps falling after epoch 2: its own minimum is not called "best", which
    # read as contradicting "values of epoch 2"
    lowest = min(range(len(h.epochs)), key=lambda i: h.epochs[i]["loss"]) + 1
    assert lowest != 2
    m = re.search(r"\(lowest (\S+), epoch (\d+)\)", repr(h))
    assert m and int(m.group(2)) == lowest
    assert float(m.group(1)) == pytest.approx(h.epochs[lowest - 1]["loss"], rel=1e-3)
    assert "(best " not in repr(h)


def test_stopping_early_is_said_on_stderr_with_the_progress_bar(capsys):
    prog, data = _program(), _data()
    h = sg.train(prog, data, epochs=10, batch_size=8, validation=data, progress=True,
                 metrics={"cost": _scripted([5.0, 4.0, 4.5, 4.5, 1.0])}, patience=2, monitor="val_cost")
    want = "stopped early after epoch 4: val_cost (smaller is better) did not improve for 2 epochs; the values are those of epoch 2"
    assert h.message.startswith(want)
    assert want in capsys.readouterr().err


@pytest.mark.parametrize("name", ["f1", "auc", "iou", "r2", "score", "precision"])
def test_auto_mode_maximizes_the_usual_larger_is_better_metrics(name):
    # a larger-is-better metric was minimized unless its name held "acc": training stopped while it
    # improved and history.values held its worst epoch
    prog, data = _program(), _data()
    h = sg.train(prog, data, epochs=10, batch_size=8, validation=data, progress=False,
                 metrics={name: _scripted([0.2, 0.5, 0.7, 0.6, 0.65, 0.1, 0.1])}, patience=2,
                 monitor=f"val_{name}")
    assert h.best_epoch == 3 and len(h.epochs) == 5
    assert f"val_{name} (larger is better)" in h.message


@pytest.mark.parametrize("name, mode, best, epochs", [
    ("dice_loss", "auto", 1, 3),     # a loss, though it holds "dice"
    ("mse", "auto", 1, 3),
    ("mse", "max", 3, 5),            # mode= overrides the name
    ("accuracy", "min", 1, 3),
])
def test_mode_min_and_max_say_which_way_and_auto_minimizes_the_rest(name, mode, best, epochs):
    prog, data = _program(), _data()
    h = sg.train(prog, data, epochs=10, batch_size=8, validation=data, progress=False,
                 metrics={name: _scripted([0.2, 0.5, 0.7, 0.6, 0.65, 0.1, 0.1])}, patience=2,
                 monitor=f"val_{name}", mode=mode)
    assert (h.best_epoch, len(h.epochs)) == (best, epochs)
    way = "smaller" if best == 1 else "larger"
    assert h.message.endswith(f"epoch {best}, the best") and f"({way} is better)" in h.message


def test_a_run_to_the_end_says_whose_values_it_keeps_and_which_way():
    prog, data = _program(), _data()
    h = sg.train(prog, data, epochs=3, batch_size=8, validation=data, progress=False,
                 metrics={"f1": _scripted([0.2, 0.5, 0.4])}, patience=5, monitor="val_f1")
    assert not h.stopped_early and h.best_epoch == 2
    assert h.message == "ran every epoch; the values are those of epoch 2, the best by val_f1 (larger is better)"


@pytest.mark.parametrize("kwargs, match", [
    ({"patience": 2, "mode": "maximize"}, "mode must be 'auto', 'min' or 'max'"),
    ({"mode": "max"}, "mode='max' without patience"),
])
def test_a_bad_mode_is_refused_before_the_first_step(kwargs, match):
    prog, data = _program(), _data()
    with pytest.raises(TrainingArgumentError, match=match):
        sg.train(prog, data, epochs=2, batch_size=8, validation=data, progress=False, **kwargs)


def test_patience_with_metrics_accuracy_records_and_watches_val_loss():
    # val_loss, the default monitor, was not recorded when metrics left out "loss": refused, with a
    # hint to monitor 'loss' (the training loss)
    prog, data = _program(), _data()
    values = {"W": np.zeros((3, 2)), "b": np.zeros(2)}
    h = sg.train(prog, data, epochs=6, batch_size=8, values=values, validation=data, progress=False,
                 metrics=["accuracy"], patience=2)
    assert all({"val_loss", "val_accuracy"} <= set(r) for r in h.epochs)
    val = h.metric("val_loss")
    assert h.best_epoch == 1 + int(np.argmin(val))
    # the oracle: the loss of the program on the validation set at the kept values
    assert prog.loss(h.values, data) == pytest.approx(min(val), rel=1e-12)
    assert "val_loss (smaller is better)" in h.message


def test_val_loss_without_a_validation_set_points_to_train_loss():
    prog, data = _program(), _data()
    with pytest.raises(TrainingArgumentError, match=r"did you mean 'train_loss'\? there is no validation set"):
        sg.train(prog, data, epochs=2, batch_size=8, progress=False, patience=2, monitor="val_loss")


@pytest.mark.parametrize("kwargs, validation, monitor, mode", [
    ({"patience": 2}, True, "val_loss", "min"),                  # the defaults, as decided
    ({"patience": 2}, False, "train_loss", "min"),
    ({"patience": 2, "monitor": "val_f1"}, True, "val_f1", "max"),                # auto, by the name
    ({"patience": 2, "monitor": "val_f1", "mode": "min"}, True, "val_f1", "min"),
    ({}, True, None, None),                                      # no early stopping: nothing to record
])
def test_the_history_records_the_monitor_and_the_way_it_was_compared(kwargs, validation, monitor, mode):
    """Before: the History did not say what early stopping compared, so a report (symgrad train's)
    derived the default monitor and mode="auto"'s choice again, apart from train's own."""
    prog, data = _program(), _data()
    h = sg.train(prog, data, epochs=2, batch_size=8, progress=False, validation=data if validation else None,
                 metrics={"loss": mean_loss, "f1": _scripted([0.2, 0.5, 0.4])} if validation else None, **kwargs)
    assert (h.monitor, h.mode) == (monitor, mode)


def _diverging_later():
    """Least squares under a learning rate that jumps to 5 after step 30 (epoch 3 of 10 steps): the
    validation loss falls for three epochs, then training blows up and diverges at epoch 6."""
    N = sp.Symbol("N", integer=True, positive=True)
    x, y, W = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("W", (3,))
    jump = sg.optim.SGD(lr=lambda t: sp.Piecewise((0.01, t <= 30), (5.0, True)))
    prog = sg.compile(sg.mean((x @ W - y) ** 2), [W], [x, y], optimizer=jump)      # float32: overflows soon
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    return prog, {"x": X, "y": X @ np.array([1.0, -2.0, 0.5])}


def test_a_divergence_after_the_best_epoch_keeps_its_values_in_the_history():
    """Before: with patience=, a run that diverged lost the best epoch's values (history.best_epoch
    None, history.values the last finite, already huge ones)."""
    prog, data = _diverging_later()
    with pytest.raises(sg.TrainingDiverged) as e:
        sg.train(prog, data, epochs=20, batch_size=20, validation=data, patience=5, progress=False,
                 values={"W": np.zeros(3)})
    h = e.value.history
    val = h.metric("val_loss")
    best = 1 + int(np.nanargmin(val))
    assert best == 3 and h.best_epoch == 3 and h.best_step == 30
    assert "the values of the best epoch by val_loss (smaller is better), epoch 3, are its .history.values" \
        in str(e.value)
    straight = sg.train(prog, data, epochs=3, batch_size=20, progress=False, values={"W": np.zeros(3)})
    np.testing.assert_array_equal(h.values["W"], straight.values["W"])         # epoch 3's, exactly
    assert not np.allclose(e.value.values["W"], h.values["W"])              # .values: the last finite
    assert prog.loss(h.values, data) == pytest.approx(val[2])


def test_history_best_is_the_best_epoch_as_a_checkpoint_also_after_ctrl_c():
    prog, data = _program(), _data()
    values = {"W": np.zeros((3, 2)), "b": np.zeros(2)}
    h = sg.train(prog, data, epochs=10, batch_size=8, values=values, validation=data, progress=False,
                 metrics={"cost": _scripted([5.0, 4.0, 4.5, 4.5, 1.0])}, patience=2, monitor="val_cost")
    assert (h.best.epoch, h.best.step) == (2, 10) and h.best.values is h.values and h.best.state is h.state
    calls = {"n": 0}

    def cost_then_ctrl_c(program, values, data):
        calls["n"] += 1
        if calls["n"] == 4:                  # the probe, epochs 1 and 2, then Ctrl-C in epoch 3's
            raise KeyboardInterrupt
        return [0.0, 5.0, 4.0][calls["n"] - 1]
    h = sg.train(prog, data, epochs=10, batch_size=8, values=values, validation=data, progress=False,
                 metrics={"cost": cost_then_ctrl_c}, patience=2, monitor="val_cost")
    assert h.interrupted and h.best_epoch is None and h.step == 15       # values: the last step's
    straight = sg.train(prog, data, epochs=2, batch_size=8, values=values, progress=False)
    assert (h.best.epoch, h.best.step) == (2, 10)
    np.testing.assert_array_equal(h.best.values["W"], straight.values["W"])
    assert not np.array_equal(h.values["W"], straight.values["W"])


def test_patience_running_out_at_the_last_epoch_is_not_stopping_early():
    """Before: with patience=2 over 4 epochs whose last two did not improve, history.stopped_early was
    True and the message "stopped early after epoch 4" — of 4: every epoch had run."""
    prog, data = _program(), _data()
    h = sg.train(prog, data, epochs=4, batch_size=8, validation=data, progress=False,
                 metrics={"cost": _scripted([5.0, 4.0, 4.5, 4.5, 1.0])}, patience=2, monitor="val_cost")
    assert len(h.epochs) == 4 and h.best_epoch == 2
    assert not h.stopped_early
    assert h.message.startswith("ran every epoch; the values are those of epoch 2, the best by val_cost")
    # one epoch more, and it does stop early: after epoch 4, with epoch 5 not run
    h = sg.train(prog, data, epochs=5, batch_size=8, validation=data, progress=False,
                 metrics={"cost": _scripted([5.0, 4.0, 4.5, 4.5, 1.0])}, patience=2, monitor="val_cost")
    assert h.stopped_early and len(h.epochs) == 4
