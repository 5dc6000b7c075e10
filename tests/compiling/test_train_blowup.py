"""A finite loss that explodes (a learning rate somewhat too large) stops training as a divergence
(`max_loss_growth`, default 1e8 times the first step's loss), keeping the values of the lowest
minibatch loss. Before: a float64 run went on for every epoch, its loss at 1e123, and ended as if
it had trained; only a loss that overflowed was a divergence."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import TrainingArgumentError, mean_loss

N = sp.Symbol("N", integer=True, positive=True)
x, y, w = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("w", (3,))
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3))
DATA = {"x": X, "y": X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=200)}


def _program(lr):
    return sg.compile(sg.mean((x @ w - y) ** 2), [w], [x, y], optimizer=sg.optim.SGD(lr=lr), dtype="float64")


def test_a_loss_grown_many_decades_stops_with_the_lowest_loss_values(tmp_path):
    prog = _program(1.1)             # past 2 / the largest curvature: each step overshoots a little more
    with pytest.raises(sg.TrainingDiverged) as caught:
        sg.train(prog, DATA, epochs=60, batch_size=20, progress=False, checkpoint=tmp_path / "ck.npz")
    e = caught.value
    losses = e.history.loss                          # the finite step losses before the stop
    assert np.isfinite(e.loss) and e.loss > 1e8 * losses[0] and max(losses) <= 1e8 * losses[0]
    assert e.step == len(losses) + 1 < 200           # stopped long before the 60 epochs' 600 steps
    assert "the loss grew from" in str(e) and "lr=1.1" in str(e) and "more than 1e8 times" in str(e)
    # the values kept: those before the step of the lowest minibatch loss (history.loss[k] is the
    # loss at the values after k steps), not the exploded ones from just before the stop
    k = int(np.argmin(losses))
    assert (e.kept_step, e.kept_loss) == (k, losses[k])
    assert mean_loss(prog, e.values, DATA) < losses[0]
    assert mean_loss(prog, e.history.values, DATA) > 1e6 * losses[0]
    # ... and saved, with the step count they are at: a run of k steps from the start has them
    ck = sg.load_checkpoint(tmp_path / "ck.npz")
    assert ck.step == k and np.array_equal(ck.values["w"], e.values["w"])
    # the minibatch of step k + 1 (epoch 1 shuffles with default_rng(0)'s first permutation): its loss
    # at the kept values is the one recorded
    assert k < 10
    rows = np.random.default_rng(0).permutation(200)[20 * k:20 * k + 20]
    assert np.isclose(float(prog.loss(e.values, {"x": X[rows], "y": DATA["y"][rows]})), e.kept_loss)
    # max_loss_growth=None (and before): the same steps, and on through every epoch, the loss far
    # past 1e8 times the first and still finite at the end
    off = sg.train(_program(1.1), DATA, epochs=60, batch_size=20, progress=False, max_loss_growth=None)
    assert len(off.epochs) == 60 and 1e20 * losses[0] < off.epochs[-1]["loss"] < np.inf
    assert np.allclose(off.loss[:len(losses)], losses)


def test_a_healthy_run_is_not_stopped():
    """The limit is relative to the first step's loss, but never below 1e-3 of it: a run whose first
    minibatch it fits exactly (loss 0) and whose next ones are noisy (loss about 0.5) goes on, and
    so does one that bounces near the edge of stability (lr=1.0: loss 0.45 after 60 epochs)."""
    exact = {"x": X[:40], "y": X[:40] @ np.array([1.0, -2.0, 0.5])}
    noisy = {"x": X[40:], "y": X[40:] @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=160)}
    both = {k: np.concatenate([exact[k], noisy[k]]) for k in exact}
    h = sg.train(_program(0.05), both, epochs=3, batch_size=40, shuffle=False, progress=False,
                 values={"w": np.array([1.0, -2.0, 0.5])})
    assert h.loss[0] < 1e-20 and max(h.loss) > 0.1 and len(h.epochs) == 3
    bouncing = sg.train(_program(1.0), DATA, epochs=60, batch_size=20, progress=False)
    assert len(bouncing.epochs) == 60 and max(bouncing.loss) > 10 * min(bouncing.loss)


def test_a_first_minibatch_fitted_exactly_does_not_stop_a_run_with_outliers():
    """A regression started at its exact weights, its first minibatch exact and the rest carrying
    outliers of size 1e3: the first step's loss is 0, the next 3e5. Before: stopped at step 2 ("grew
    from 0 ... to 3.3e5", past 1e8 times the 1e-3 floor); the limit is now also at least 1e4 (the
    square root of 1e8) times the largest loss of the first 10 steps."""
    wt = np.array([1.0, -2.0, 0.5])
    noise = 1e3 * np.random.default_rng(1).normal(size=180)
    data = {"x": X, "y": X @ wt + np.concatenate([np.zeros(20), noise])}
    h = sg.train(_program(0.01), data, epochs=3, batch_size=20, shuffle=False, progress=False,
                 values={"w": wt.copy()})
    assert len(h.epochs) == 3 and len(h.loss) == 30
    assert h.loss[0] < 1e-20 and max(h.loss[1:]) > 1e5 * 1e-3 * 1e3    # past the old limit (1e5)
    # independent of train: the first step's loss at the exact weights is 0, the second's the
    # second minibatch's mean squared outlier (one SGD step on an exact fit moves nothing)
    assert np.isclose(h.loss[1], np.mean(noise[:20] ** 2))
    # ... while the same data at a rate that blows up is still stopped, its limit then the
    # 1e4 times the early losses'
    with pytest.raises(sg.TrainingDiverged) as caught:
        sg.train(_program(1.1), data, epochs=60, batch_size=20, shuffle=False, progress=False,
                 values={"w": wt.copy()})
    e = caught.value
    early = max(e.history.loss[:10])
    assert e.loss > 1e4 * early and max(e.history.loss) <= 1e4 * early and e.step < 300
    assert "largest of the first 10 steps'" in str(e) and "more than 1e4 times it" in str(e)
    assert e.kept_loss == min(e.history.loss) and np.isfinite(e.values["w"]).all()


@pytest.mark.parametrize("bad", [1, 0.5, -1e8, "1e8", True, float("inf"), float("nan")])
def test_max_loss_growth_must_be_a_number_above_one(bad):
    with pytest.raises(TrainingArgumentError, match="max_loss_growth must be a number > 1"):
        sg.train(_program(0.1), DATA, epochs=1, progress=False, max_loss_growth=bad)


@pytest.mark.parametrize("theirs", ["divergence_threshold", "terminate_on_nan"])
def test_lightnings_and_keras_names_are_told_max_loss_growth(theirs):
    with pytest.raises(sg.ArgumentError, match="max_loss_growth= times the first step's"):
        sg.train(_program(0.1), DATA, epochs=1, progress=False, **{theirs: 1e3})


def test_lightnings_stopping_threshold_is_not_told_it_is_a_divergence():
    """Lightning's EarlyStopping(stopping_threshold=) stops once the monitored value is good enough —
    the opposite of its divergence_threshold; it was told the divergence stop (max_loss_growth)."""
    with pytest.raises(sg.ArgumentError) as caught:
        sg.train(_program(0.1), DATA, epochs=1, progress=False, stopping_threshold=1e-3)
    said = str(caught.value)
    assert "diverged" not in said and "max_loss_growth" not in said
    assert "good enough" in said and "on_epoch=" in said and "patience=" in said
