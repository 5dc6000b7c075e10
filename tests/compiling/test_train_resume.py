"""Resuming from a checkpoint goes on as training that never stopped, shuffled batches included,
and an interruption inside a step leaves the values of the last finished step (training.py)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import load


def regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    data = {"x": X, "t": X @ np.array([1.0, -2.0, 0.5])}
    x, t, W = sp.MatrixSymbol("x", 3, 1), sp.Symbol("t"), sp.MatrixSymbol("W", 1, 3)
    prog = sg.compile((sg.sum(W * x) - t) ** 2, params=[W], inputs=[x, t],
                      optimizer=sg.optim.Adam(lr=0.05))
    return prog, data, {"W": np.zeros((1, 3))}


def test_resumed_shuffled_training_equals_uninterrupted_training(tmp_path):
    """The shuffling restarted from the seed on resume: epoch 3 of a resumed run saw epoch 1's order
    (the values differed by 5e-3 from the run that never stopped)."""
    prog, data, v0 = regression()
    kw = dict(batch_size=8, seed=3, progress=False)
    straight = sg.train(prog, data, epochs=3, values=v0, **kw)
    sg.train(prog, data, epochs=2, values=v0, checkpoint=tmp_path / "ck.npz", **kw)
    resumed = sg.train(prog, data, epochs=1, values=load(tmp_path / "ck.npz"), **kw)
    assert resumed.step == straight.step == 15
    np.testing.assert_allclose(resumed.values["W"], straight.values["W"], rtol=1e-6)
    np.testing.assert_allclose(resumed.loss, straight.loss[10:], rtol=1e-6)


class CtrlCInsideStep:
    """A program whose step, at call ``at``, changes the arrays it was given in place and then is
    interrupted (KeyboardInterrupt), as a Ctrl-C landing inside a compiled step would."""

    def __init__(self, program, at):
        self.program, self.at, self.calls = program, at, 0

    def __getattr__(self, name):
        return getattr(self.program, name)

    def step(self, values, state, batch):
        self.calls += 1
        out = self.program.step(values, state, batch)
        if self.calls == self.at:
            for v in values.values():
                v[...] = 1e9
            raise KeyboardInterrupt
        return out


def test_ctrl_c_inside_a_step_keeps_the_values_of_the_last_finished_step():
    prog, data, v0 = regression()
    kw = dict(batch_size=8, shuffle=False, progress=False)
    h = sg.train(CtrlCInsideStep(prog, at=7), data, epochs=3, values=v0, **kw)
    six = sg.train(prog, data, epochs=3, values=v0, **kw)      # the same steps, uninterrupted
    assert h.interrupted and h.step == 6 and "after step 6" in h.message
    # the uninterrupted run's step 7 (epoch 2's second batch, samples 8 to 15) took its loss at
    # the values after step 6: so do the interrupted run's values give it
    loss7 = prog.loss(h.values, {k: a[8:16] for k, a in data.items()})
    np.testing.assert_allclose(loss7, six.loss[6], rtol=1e-5)
    assert np.all(v0["W"] == 0)                                  # the caller's dict is never written


def test_non_finite_starting_values_are_refused_naming_the_parameter():
    """values={'W': nan...} read 'training diverged at step 1 ... its gradient is not finite'."""
    import pytest
    from symgrad.compiling.training import TrainingArgumentError
    prog, data, _ = regression()
    with pytest.raises(TrainingArgumentError, match=r"values\['W'\] has non-finite entries .* 1 of 3, "
                                                    r"the first at index \(0, 1\) \(value nan\)"):
        sg.train(prog, data, epochs=1, progress=False, values={"W": np.array([[0.0, np.nan, 0.0]])})


def test_resuming_under_another_optimizer_says_how_before_the_first_step(tmp_path):
    """Before: a MissingValueError from inside the first step, "the optimizer state has no slot
    'momentum_buffer'", for a checkpoint saved by an Adam run resumed with SGD with momentum."""
    import pytest
    from symgrad.compiling.training import TrainingArgumentError
    prog, data, v0 = regression()
    sg.train(prog, data, epochs=1, batch_size=8, values=v0, checkpoint=tmp_path / "ck.npz", progress=False)
    x, t, W = prog.inputs[0], prog.inputs[1], prog.params[0]
    momentum = sg.compile((sg.sum(W * x) - t) ** 2, params=[W], inputs=[x, t],
                          optimizer=sg.optim.SGD(lr=0.01, momentum=0.9))
    ck = load(tmp_path / "ck.npz")
    with pytest.raises(TrainingArgumentError, match=r"slots \['exp_avg', 'exp_avg_sq'\].*SGD keeps "
                                                     r"'momentum_buffer'.*state=program.init_state"):
        sg.train(momentum, data, epochs=1, batch_size=8, values=ck, progress=False)
    # what the message says to do works: the values and the step count go on, the slots start afresh
    h = sg.train(momentum, data, epochs=1, batch_size=8, values=ck, state=momentum.init_state(ck.values),
                 shuffle=False, progress=False)
    assert h.step == 10 and h.state["t"] == 5
    first = {k: v[:8] for k, v in data.items()}
    assert h.loss[0] == pytest.approx(prog.loss(ck.values, first), rel=1e-6)     # from the checkpoint's values


def test_a_history_goes_on_as_training_that_never_stopped():
    """Before: train(values=history) was "values must be a dict param -> array (or a Checkpoint),
    got History"; now it goes on from where that run ended, its epochs and shuffles counted on."""
    prog, data, v0 = regression()
    kw = dict(batch_size=8, seed=3, progress=False)
    straight = sg.train(prog, data, epochs=4, values=v0, **kw)
    first = sg.train(prog, data, epochs=2, values=v0, **kw)
    more = sg.train(prog, data, epochs=2, values=first, **kw)
    assert [e["epoch"] for e in more.epochs] == [3, 4] and more.step == straight.step == 20
    np.testing.assert_allclose(more.values["W"], straight.values["W"], rtol=1e-6)
    np.testing.assert_allclose(more.loss, straight.loss[10:], rtol=1e-6)
    stopped = sg.train(prog, data, epochs=6, values=v0, patience=1, monitor="loss", **kw)
    again = sg.train(prog, data, epochs=1, values=stopped, **kw)    # early stopping: on from the best epoch
    assert again.epochs[0]["epoch"] == stopped.best_epoch + 1 and again.step == stopped.best_step + 5


def test_resumed_from_a_ctrl_c_inside_an_epoch_goes_on_with_its_next_batch(tmp_path):
    """A checkpoint saved by Ctrl-C (or SIGTERM: a preempted job) part-way through an epoch resumes
    with that epoch's next minibatch. Before, the epoch ran again from its first minibatch: the 6 steps
    taken in it were taken twice, and the run never equalled the one that did not stop."""
    prog, data, v0 = regression()
    kw = dict(batch_size=8, seed=3, progress=False)
    straight = sg.train(prog, data, epochs=3, values=v0, **kw)             # 5 steps an epoch
    h = sg.train(CtrlCInsideStep(prog, at=8), data, epochs=3, values=v0, checkpoint=tmp_path / "ck.npz", **kw)
    assert h.interrupted and h.step == 7 and "in epoch 2, after 2 of its 5 steps" in h.message
    ck = load(tmp_path / "ck.npz")
    assert (ck.step, ck.epoch, ck.seen) == (7, 1, 16)                      # 2 minibatches of 8 into epoch 2
    resumed = sg.train(prog, data, epochs=2, values=ck, **kw)              # the rest of epoch 2, and epoch 3
    assert resumed.step == straight.step == 15
    assert [r["epoch"] for r in resumed.epochs] == [2, 3]
    np.testing.assert_allclose(resumed.loss, straight.loss[7:], rtol=1e-6)
    np.testing.assert_allclose(resumed.values["W"], straight.values["W"], rtol=1e-6)
    # the History of the interrupted run goes on the same way (values=history)
    again = sg.train(prog, data, epochs=2, values=h, **kw)
    np.testing.assert_allclose(again.values["W"], straight.values["W"], rtol=1e-6)
    # a checkpoint at an epoch's end holds seen = 0
    sg.train(prog, data, epochs=1, values=v0, checkpoint=tmp_path / "one.npz", **kw)
    assert load(tmp_path / "one.npz").seen == 0


class NaNAtStep(CtrlCInsideStep):
    """The step at call ``at`` returns NaN values: training diverges there."""

    def step(self, values, state, batch):
        self.calls += 1
        new_values, new_state = self.program.step(values, state, batch)[:2]
        if self.calls == self.at:
            new_values = {k: np.full_like(v, np.nan) for k, v in new_values.items()}
        return new_values, new_state


def test_a_divergence_inside_an_epoch_saves_where_it_was(tmp_path):
    # the values from before the failing step 9 (epoch 2's 4th minibatch): 3 minibatches of 8 into epoch 2
    prog, data, v0 = regression()
    kw = dict(batch_size=8, seed=3, progress=False)
    with pytest.raises(sg.TrainingDiverged) as e:
        sg.train(NaNAtStep(prog, at=9), data, epochs=3, values=v0, checkpoint=tmp_path / "ck.npz", **kw)
    ck = load(tmp_path / "ck.npz")
    assert (ck.step, ck.epoch, ck.seen) == (8, 1, 24) and e.value.history.seen == 24
    straight = sg.train(prog, data, epochs=2, values=v0, **kw)
    resumed = sg.train(prog, data, epochs=1, values=ck, **kw)            # the rest of epoch 2
    np.testing.assert_allclose(resumed.values["W"], straight.values["W"], rtol=1e-6)


def test_resuming_under_another_seed_is_said(tmp_path):
    """The checkpoint records the seed of the run that saved it; a run resumed with another shuffles its
    epochs otherwise, which nothing said (the run silently differed from the one that did not stop)."""
    import warnings
    from symgrad.compiling.training import Checkpoint, ResumeSeedWarning
    prog, data, v0 = regression()
    kw = dict(batch_size=8, progress=False)
    sg.train(prog, data, epochs=1, values=v0, seed=3, checkpoint=tmp_path / "ck.npz", **kw)
    ck = load(tmp_path / "ck.npz")
    assert ck.seed == 3
    with pytest.warns(ResumeSeedWarning, match=r"saved by a run with seed 3, and this run's seed is 0: .* \(give "
                                               r"seed 3 to go on as if it had not stopped"):
        sg.train(prog, data, epochs=1, values=ck, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResumeSeedWarning)
        sg.train(prog, data, epochs=1, values=ck, seed=3, **kw)                 # the same seed: no word
        sg.train(prog, data, epochs=1, values=ck, shuffle=False, **kw)          # no shuffling: no word
        older = Checkpoint(ck.values, ck.state, ck.step, ck.epoch)           # no seed recorded: no word
        sg.train(prog, data, epochs=1, values=older, **kw)


def test_resuming_over_another_sample_count_is_said(tmp_path):
    """symgrad train warned of a --resume over other data; sg.train itself went on without a word."""
    import warnings
    from symgrad.compiling.training import Checkpoint, ResumeDataWarning
    prog, data, v0 = regression()
    kw = dict(batch_size=8, progress=False)
    sg.train(prog, data, epochs=1, values=v0, checkpoint=tmp_path / "ck.npz", **kw)
    ck = load(tmp_path / "ck.npz")
    fewer = {k: a[:30] for k, a in data.items()}
    with pytest.warns(ResumeDataWarning, match=r"saved by a run that trained on 40 samples, and data holds 30: .*"
                                               r"pass values=checkpoint.values"):
        sg.train(prog, fewer, epochs=1, values=ck, **kw)
    more = {k: np.concatenate([a, a[:10]]) for k, a in data.items()}
    with pytest.warns(ResumeDataWarning, match=r"holds 50: .*did that run hold some out for validation\?"):
        sg.train(prog, more, epochs=1, values=ck, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResumeDataWarning)
        sg.train(prog, data, epochs=1, values=ck, **kw)                       # the same data: no word
        sg.train(prog, fewer, epochs=1, values=ck.values, **kw)               # a fresh run from its values
        sg.train(prog, fewer, epochs=1, values=Checkpoint(ck.values, ck.state, ck.step, ck.epoch), **kw)


def test_checkpoints_record_the_runs_samples_and_the_best_one_its_seed(tmp_path):
    """A checkpoint records how many samples its run trained on (symgrad train refuses a --resume under
    another --validation-split by it); the best epoch's (history.best, --best) recorded no seed."""
    from symgrad.compiling.training import save
    prog, data, v0 = regression()
    h = sg.train(prog, data, epochs=3, values=v0, seed=5, batch_size=8, progress=False,
                 checkpoint=tmp_path / "ck.npz", validation=data, patience=2)
    assert (load(tmp_path / "ck.npz").samples, load(tmp_path / "ck.npz").seed) == (40, 5)
    assert (h.best.samples, h.best.seed) == (40, 5)
    save(tmp_path / "best.npz", **vars(h.best))
    assert (load(tmp_path / "best.npz").samples, load(tmp_path / "best.npz").seed) == (40, 5)
    save(tmp_path / "old.npz", v0)                   # as checkpoints before the tenth session: not recorded
    assert (load(tmp_path / "old.npz").samples, load(tmp_path / "old.npz").seed) == (None, None)


def test_a_checkpoint_of_another_model_is_refused_before_anything_runs(tmp_path):
    """A checkpoint lacking a parameter had it drawn at random, silently; one of another shape failed at
    the first step with the step's ShapeError, after warnings about the run."""
    import warnings
    from symgrad.compiling.training import Checkpoint, TrainingArgumentError
    prog, data, v0 = regression()
    kw = dict(batch_size=8, progress=False)
    sg.train(prog, data, epochs=1, values=v0, checkpoint=tmp_path / "ck.npz", **kw)
    ck = load(tmp_path / "ck.npz")
    x, t, W, b = sp.MatrixSymbol("x", 3, 1), sp.Symbol("t"), sp.MatrixSymbol("W", 1, 3), sp.Symbol("b")
    with_bias = sg.compile((sg.sum(W * x) + b - t) ** 2, params=[W, b], inputs=[x, t],
                           optimizer=sg.optim.SGD(lr=0.05))
    with pytest.raises(TrainingArgumentError, match=r"values: the checkpoint holds the values of 'W': it has no "
                                                    r"value for 'b' — a checkpoint of another model"):
        sg.train(with_bias, data, epochs=1, values=ck, **kw)
    wide = sg.compile((sg.sum(sp.MatrixSymbol("W", 2, 3) * x) - t) ** 2, params=[sp.MatrixSymbol("W", 2, 3)],
                      inputs=[x, t], optimizer=sg.optim.Adam(lr=0.05))
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # refused before any warning about the run (other data here)
        with pytest.raises(TrainingArgumentError, match=r"holds 'W' of shape \(1, 3\), but this program declares "
                                                        r"it \(2, 3\)"):
            sg.train(wide, {k: a[:30] for k, a in data.items()}, epochs=1, values=ck, **kw)
    extra = Checkpoint({**ck.values, "V": np.ones(2)}, ck.state, ck.step, ck.epoch)
    with pytest.raises(TrainingArgumentError, match=r"it holds 'V', no parameter of this program"):
        sg.train(prog, data, epochs=1, values=extra, **kw)
    # the values that fit, as a dict: the rest drawn, as documented for a dict
    h = sg.train(with_bias, data, epochs=1, values=dict(ck.values), **kw)
    assert set(h.values) == {"W", "b"}
