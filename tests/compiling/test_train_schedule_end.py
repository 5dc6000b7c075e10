"""sg.train says before the first step when the optimizer's schedule reaches a rate of 0 an epoch or
more before training ends (total= written in epochs where steps are meant): those epochs changed
nothing, and only the repeating epoch lines showed it."""
import warnings

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import ScheduleEndsWarning, load

N = sp.Symbol("N", integer=True, positive=True)
X = np.random.default_rng(0).normal(size=(40, 3))
Y = X @ np.array([1.0, -2.0, 0.5])


def _program(lr):
    x, y, w = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("w", (3,))
    return sg.compile(sg.mean((x @ w - y) ** 2), [w], [x, y], optimizer=sg.optim.SGD(lr=lr), dtype="float64")


def _train(prog, epochs, **kw):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        h = sg.train(prog, {"x": X, "y": Y}, epochs=epochs, batch_size=10, progress=False,
                     values={"w": np.zeros(3)}, **kw)
    return h, [w for w in seen if issubclass(w.category, ScheduleEndsWarning)]


def test_a_cosine_that_ends_epochs_before_training_is_said_and_is_true():
    # total=5 meant as 5 epochs; 4 steps an epoch, so the rate is 0 from step 6 on
    prog = _program(sg.optim.WarmupCosine(0.05, warmup=1, total=5))
    h, said = _train(prog, 5, metrics=["loss"])
    assert len(said) == 1
    text = str(said[0].message)
    assert "reaches its end rate 0 at step 6, but training runs to step 20: its last 15 steps (3.75 epochs)" in text
    assert "= 20 for this run" in text
    # what it says is so: nothing changed after step 5 (the loss on all the data repeats from epoch 2)
    losses = h.metric("train_loss")
    assert losses[1] == losses[2] == losses[3] == losses[4] and losses[0] != losses[1]


@pytest.mark.parametrize("lr", [sg.optim.WarmupCosine(0.05, warmup=1, total=20),          # ends with training
                                sg.optim.WarmupCosine(0.05, warmup=1, total=5, lr_min=0.01),   # a floor
                                sg.optim.LinearAnnealing(0.05, 0.0, tau=17),          # 0 for less than an epoch
                                0.05])
def test_no_word_when_the_schedule_runs_the_whole_training(lr):
    assert _train(_program(lr), 5)[1] == []


def test_linear_annealing_to_zero_and_a_resumed_run_count_the_schedules_steps(tmp_path):
    prog = _program(sg.optim.LinearAnnealing(0.05, 0.0, tau=2, every=4))
    assert "LinearAnnealing(tau=2, every=4)" in str(_train(prog, 5)[1][0].message)
    cosine = _program(sg.optim.WarmupCosine(0.05, warmup=1, total=12))
    h, said = _train(cosine, 3, checkpoint=tmp_path / "ck.npz")        # 12 steps: the whole schedule
    assert said == []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        sg.train(cosine, {"x": X, "y": Y}, epochs=2, batch_size=10, progress=False, values=load(tmp_path / "ck.npz"))
    said = [w for w in seen if issubclass(w.category, ScheduleEndsWarning)]
    assert len(said) == 1 and "at step 13, but training runs to step 20" in str(said[0].message)
    # the total it advises is the resumed run's last step (the schedule counts on from the
    # checkpoint's step 12), not the 8 steps of this run (it said "= 8 for this run: give that")
    assert "(steps 13 to 20 here): give 20 as its total to end with this run" in str(said[0].message)
    assert "for this run: give that" not in str(said[0].message)


def test_a_long_run_counts_its_epochs_in_digits_and_a_resumed_idle_run_says_every_step(tmp_path):
    # 1200 epochs of one step after a schedule of 5: "(1.2e+03 epochs)"
    prog = _program(sg.optim.WarmupCosine(0.05, warmup=1, total=5))
    with pytest.warns(ScheduleEndsWarning) as said:
        sg.train(prog, {"x": X, "y": Y}, epochs=1200, batch_size=40, progress=False, values={"w": np.zeros(3)},
                 checkpoint=tmp_path / "ck.npz")
    text = str(said[0].message)
    assert "its last 1195 steps (1195 epochs)" in text and "e+03" not in text, text
    # resumed after the rate reached 0: "its last 8 steps" were every one of them
    with pytest.warns(ScheduleEndsWarning) as said:
        sg.train(prog, {"x": X, "y": Y}, epochs=2, batch_size=10, progress=False, values=load(tmp_path / "ck.npz"))
    text = str(said[0].message)
    assert "training runs to step 1208: every one of its 8 steps (2 epochs) would change nothing" in text, text


def test_the_warning_points_at_the_line_that_called_train():
    # it pointed into symgrad/compiling/training.py, at warn_schedules_end's call
    with pytest.warns(ScheduleEndsWarning) as said:
        sg.train(_program(sg.optim.WarmupCosine(0.05, warmup=1, total=5)), {"x": X, "y": Y}, epochs=5,
                 batch_size=10, progress=False, values={"w": np.zeros(3)})
    assert said[0].filename == __file__
