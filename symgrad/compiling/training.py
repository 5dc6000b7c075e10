"""The training loop: minibatches, a progress bar, a history, a guard against divergence, checkpoints.

``train(program, data, epochs, batch_size, values=...)`` runs ``program.step`` over shuffled
minibatches of ``data`` for ``epochs`` passes and returns a `History`. It needs only this much of a
compiled `Program` (sg.compile):

    program.step(values, state, batch) -> (new_values, new_state)      or (..., loss) as a third item
    program.last_loss                 the loss of the batch before the step (when step returns two)
    program.loss(values, batch) -> float      (when neither gives the step's loss; and for metrics)
    program.grad(values, batch) -> {param: array}    (only to name the culprit when training diverges)
    program.init_state(values) -> state              (when no state is passed)
    program.forward(values, batch) -> output(s)      (only for the `accuracy` metric)
    program.in_place: bool (optional)   False: step never writes into the arrays it is given. Unless
                                        a program says so, train hands each step copies, so that a
                                        failed step cannot overwrite the last good values.

``values`` and ``data`` are dicts keyed by SymPy symbol or by name; ``data`` holds one array per
input with a leading sample axis. The loss recorded for a step is the minibatch loss at the values
BEFORE that step (the one whose gradient the step follows), as torch loops record it.

Training never loses work: a step is all or nothing (it runs on copies; its results replace the
kept values only once they are checked finite), Ctrl-C stops at the next step boundary and returns
the `History` so far (saving the checkpoint), a second Ctrl-C aborts, and what would fail at the end
of the first epoch (an unwritable checkpoint path, a validation set unlike the data, a bad metric) is
refused before the first step.

>>> import numpy as np
>>> from symgrad.compiling.training import History
>>> History(loss=[0.5, 0.25], epochs=[{"epoch": 1, "loss": 0.375}]).metric("loss")
[0.375]

(``sg.train`` is this module's ``train``; the module is ``symgrad.compiling.training``.)

This module holds the loop; what it uses lives beside it, and every public name is re-exported here
(``from symgrad.compiling.training import load, accuracy, init_values`` works):

- `training_results`: `History`, `TrainingDiverged`, `TrainingArgumentError`;
- `training_data`: the checks of the data before the first step;
- `training_init`: `init_values`, `relu_weights`, `param_roles` (the parameters not given);
- `training_metrics`: `batches`, `mean_loss` (and `loss_over_batch`, `BatchReductionWarning`), `predict`, `accuracy`;
- `training_checkpoint`: `save`, `load_checkpoint` (``sg.load_checkpoint``; `load` for short), `Checkpoint`,
  `CheckpointError`;
- `training_log`: `EpochLog`, each epoch's record to a .csv or .jsonl file (``on_epoch=EpochLog(path)``);
- `training_interrupts`: Ctrl-C; `training_arrays`: NumPy arrays and torch tensors alike.
"""
from __future__ import annotations

__all__ = ["train", "History", "TrainingDiverged", "TrainingArgumentError", "Checkpoint", "CheckpointError",
           "save", "load", "load_checkpoint", "check_checkpoint_path", "batches", "mean_loss", "loss_over_batch", "BatchReductionWarning", "predict", "accuracy",
           "regression_error", "class_metric", "probabilities", "TrainingDataError", "METRIC_NAMES", "init_values", "relu_weights", "param_roles", "ScheduleEndsWarning", "EpochLog",
           "ResumeSeedWarning", "ResumeDataWarning"]

import math
import os
import sys
import time
from collections.abc import Mapping, Sequence

import numpy as np

from ..core.values import key_name, lookup
from ..errors import show_value          # a NumPy scalar in a message as its number
from ..frontend.keywords import keywords
from .training_blowup import LossWatch, check_growth
from .training_arrays import all_finite, copied, num_samples, to_numpy
from .training_checkpoint import (Checkpoint, CheckpointError, ResumeDataWarning, ResumeSeedWarning,
                                  check_checkpoint_path, check_columns, fits, integer_seed, load, load_checkpoint,
                                  save)
from .training_data import (_check_data, _check_data_labels, _check_declared_shapes, _check_keys,
                            _check_validation, _named_data, nonfinite_entries)
from .training_early_stop import EarlyStop, direction
from .training_init import _initialized, init_values, param_roles, relu_weights
from .training_interrupts import _interrupted_message, _Interrupts, _Stop
from .options_elsewhere import ELSEWHERE
from .training_metrics import METRIC_NAMES, _metrics_dict, _probe_metrics, BatchReductionWarning, accuracy, batches, class_metric, loss_over_batch, mean_loss, predict, probabilities, regression_error
from .training_log import EpochLog
from .training_results import History, TrainingArgumentError, TrainingDataError, TrainingDiverged
from .training_standardize import check_statistics
from .training_schedule import ScheduleEndsWarning, warn_schedules_end  # noqa: F401


# Keras's fit(x, y, ...) written as train(program, X, T, ...): T lands where epochs goes
DATA_AS_ONE = ("train takes the data as one argument, train(program, (X, T), epochs=...) with the arrays in "
               "the order of the program's inputs, or a dict train(program, {'x': X, 't': T}, ...) by the "
               "inputs' names — not Keras's fit(x, y)")


def _check_count(name, value, least):
    if name == "epochs" and (getattr(value, "ndim", 0) or isinstance(value, (list, tuple))):   # not np.int64(5)
        # Keras's fit(x, y): the targets came in where epochs goes (and the message printed them whole)
        raise TrainingArgumentError(f"epochs must be an integer >= {least}, got {type(value).__name__}: {DATA_AS_ONE}")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or int(value) != value or value < least:
        raise TrainingArgumentError(f"{name} must be an integer >= {least}, got {show_value(value)}")
    return int(value)


def missing_slots(program, state) -> list:
    """The slots of ``program``'s optimizer (``momentum_buffer``, ``exp_avg`` ...) that ``state``
    lacks: a checkpoint saved under another optimizer holds another's. [] when it fits, or when
    either side does not say (a program without ``slots``, a state that is no dict)."""
    slots = getattr(program, "slots", None)
    if not slots or not isinstance(state, Mapping):
        return []
    return [s for s in slots if s not in state]


def _check_seed(seed) -> None:
    """``seed`` as numpy.random.default_rng takes it (an integer >= 0, None for a fresh one, or
    NumPy's own SeedSequence or Generator), else a TrainingArgumentError before the first step (it
    was NumPy's TypeError about SeedSequence's entropy, for seed="1")."""
    if (seed is None or (integer_seed(seed) is not None and seed >= 0)
            or isinstance(seed, (np.random.SeedSequence, np.random.Generator))):
        return
    raise TrainingArgumentError(f"seed must be an integer >= 0 (it seeds numpy.random.default_rng: the "
                                f"initial values train draws and each epoch's shuffle), got {show_value(seed)}"
                                + (f" of type {type(seed).__name__}" if not isinstance(seed, (int, float)) else ""))


@keywords(elsewhere=ELSEWHERE["train"], twice={"epochs": DATA_AS_ONE})
def train(program, data: Mapping, epochs: int = 1, batch_size: int = 32, shuffle: bool = True,
          seed: int = 0, validation: Mapping | None = None, progress: bool | None = None,
          metrics: Mapping | Sequence | None = None, checkpoint=None, state=None,
          values=None, patience=None, monitor=None, min_delta=0.0, mode="auto", on_epoch=None,
          max_loss_growth=1e8, standardized=None, columns=None) -> History:
    """Train ``program`` on ``data`` for ``epochs`` passes of minibatches of ``batch_size``.

    - ``data``, ``validation``: a dict of arrays by input (name or symbol), samples on the first
      axis; or a tuple of arrays, a torch ``TensorDataset`` or a ``Subset`` of one (``random_split``),
      in the order of the program's inputs.
    - ``values``: the initial parameter values (a dict, or a `Checkpoint` from `load_checkpoint` to resume
      with its state, and with step and epoch numbers that go on from it; or the `History` a call
      returned, to go on from where it ended, as from its checkpoint). ``state``: the optimizer state (default
      ``program.init_state(values)``).
    - ``shuffle``/``seed``: a new permutation of the samples each epoch, from
      ``numpy.random.default_rng(seed)``; the last minibatch of an epoch may be smaller.
    - ``metrics``: evaluated after each epoch on ``validation`` (recorded as ``val_<name>``), or
      on ``data`` when there is no validation set (``train_<name>``), or not at all when both
      ``metrics`` and ``validation`` are None. A dict name -> ``metric(program, values, data)``, or a
      list of such callables and the names ``"loss"`` and ``"accuracy"`` (the labels: the one input
      the program's outputs do not read); default ``{"loss": mean_loss}``. See `accuracy`.
    - ``progress``: a tqdm progress bar on stderr with the running loss. ``None`` (the default): a bar
      where one is watched — stderr a terminal, or a Jupyter kernel (a notebook's stderr is no terminal;
      tqdm draws its widget there) — and none in a log, a pipe or CI, where its redraws pile up into
      one line of carriage returns (as ``symgrad train``; tqdm's own ``disable=None``). ``True``: always,
      ``False``: never, and not the one-line messages of Ctrl-C and early stopping either.
    - ``on_epoch``: called after each epoch (its checkpoint saved) with a copy of its record, the
      dict ``history.epochs`` gets: to print or log it as it comes (``symgrad train`` prints its
      lines so; ``on_epoch=EpochLog("metrics.csv")`` writes them to a file, as Keras's CSVLogger), or
      plot it. The progress bar is cleared while it runs and drawn again after, so
      what it prints stands above the bar.
    - ``checkpoint``: a path; the values, state and step are saved there after every epoch (and
      when training stops early). A path that cannot be written is refused before the first step.
    - ``standardized``: the statistics ``data`` and ``validation`` were standardized with
      (`training_standardize.fit_standardization`; ``symgrad train --standardize``), recorded in
      every checkpoint and in ``history.best``, so that what reads them standardizes its data alike;
      train does not apply them. Default: those of a `Checkpoint` resumed from (``values=``).
    - ``columns``: the names of the data's columns, ``{input name: [column names]}`` (a table's
      header; ``symgrad train`` gives them), recorded alike, so that a table given to the trained
      values later is checked against them (``symgrad predict`` refuses columns in another order).
    - ``patience``: early stopping — training stops after ``patience`` epochs in which ``monitor``
      (a name the epochs record; default ``"val_loss"``, or ``"train_loss"`` without validation)
      did not improve on its best by more than ``min_delta``, and ``history.values`` / ``state``
      are those of the best epoch (``history.best_epoch``; ``history.stopped_early``;
      ``history.message`` says which way ``monitor`` was compared; ``history.monitor`` and
      ``history.mode`` record the name and the way, ``"min"`` or ``"max"``; ``history.best`` is the
      best epoch as a `Checkpoint`, also after Ctrl-C or a divergence). ``mode``: ``"min"`` (smaller is
      better), ``"max"`` (larger is better) or ``"auto"`` (Keras's: larger is better for names
      holding acc, f1, auc, precision, recall, iou, dice, r2 or score — not loss or err —, smaller
      for every other). With ``patience``, the epochs always record the loss (``val_loss``, or
      ``train_loss`` without validation), whatever ``metrics`` lists. The checkpoint keeps the last
      epoch's values, to resume from. Checked before the first step: a name no epoch records is
      refused.

    Before the first step, every key of ``data`` must be an input of the program (an array under
    another key — a typo, an input the program was not compiled with — is refused, naming the
    closest input; a metric that reads a column which is no input lists it in its ``reads``, as
    `accuracy` does), the validation set is checked against the data (the same inputs, the
    same shape per sample) and every metric is evaluated once at the initial values: a metric that
    is not callable, raises, or returns a non-finite number is a `TrainingArgumentError` then, not
    after the first epoch.

    A step whose loss, gradient or new parameter values are not finite stops training with
    `TrainingDiverged` (naming the step and the parameter); the values it holds, and the history's,
    are those from before that step — a failed step never overwrites good parameters (each step is
    given copies of the values and state, unless ``program.in_place`` is False). With a
    ``checkpoint``, those values are saved there before the error is raised. So does a finite loss
    more than ``max_loss_growth`` (default 1e8; None: never) times the first step's, and more than its
    square root times the largest of the first 10 steps' (a learning rate too large, still short of
    overflowing): its values are then those before the step of the call's
    lowest minibatch loss, saved to ``checkpoint`` with their step count.

    Any other exception raised while training (by ``on_epoch``, a metric, the program) goes on up
    with the `History` so far as its ``.history`` (its values those after the last step taken; with
    ``patience``, ``.history.best`` the best epoch's).

    Ctrl-C (SIGINT) stops training at the next step boundary: the step under way finishes (or, when
    it is the epoch's last, the epoch's metrics and checkpoint too), the checkpoint is saved, and
    `train` returns the `History` so far with ``interrupted=True`` and a ``message``; its values are
    those after step ``history.step``. A second Ctrl-C aborts at once with KeyboardInterrupt (the
    checkpoint file then holds the last completed save, never a half-written one). The handler is
    installed only while `train` runs in the main thread, and only over Python's default one;
    elsewhere a KeyboardInterrupt raised during a step or a metric is taken as the first Ctrl-C.

    >>> import numpy as np
    >>> class Mean:                       # a tiny stand-in Program: fit w to the mean of x
    ...     def loss(self, v, b): return float(np.mean((v["w"] - b["x"]) ** 2) / 2)
    ...     def grad(self, v, b): return {"w": np.mean(v["w"] - b["x"])}
    ...     def init_state(self, v): return None
    ...     def step(self, v, s, b): return {"w": v["w"] - 0.5 * self.grad(v, b)["w"]}, s
    >>> h = train(Mean(), {"x": np.array([1.0, 3.0])}, epochs=20, batch_size=2,
    ...           values={"w": 0.0}, progress=False)
    >>> round(float(h.values["w"]), 4), len(h.loss), h.interrupted
    (2.0, 20, False)
    """
    epochs = _check_count("epochs", epochs, 0)
    batch_size = _check_count("batch_size", batch_size, 1)
    if not (progress is None or isinstance(progress, (bool, np.bool_, int, np.integer))):
        # progress="no" or "auto" read as True: a bar where it was not wanted
        raise TrainingArgumentError(f"progress must be None (the default: a bar where stderr is a terminal or "
                                    f"in a notebook), True or False; got {show_value(progress)}")
    if not isinstance(shuffle, (bool, np.bool_, int, np.integer)):
        # Keras's shuffle="batch" (shuffling in HDF5 chunks), or "False" from a config file, read as True
        raise TrainingArgumentError(f"shuffle must be True (the default: a fresh permutation of the samples each "
                                    f"epoch) or False (in order); got {show_value(shuffle)}")
    _check_seed(seed)
    max_loss_growth = check_growth(max_loss_growth)
    if on_epoch is not None and not callable(on_epoch):
        raise TrainingArgumentError(f"on_epoch must be a function of the epoch's record (a dict), called after "
                                    f"each epoch; got {type(on_epoch).__name__}")
    data = _check_data(_named_data(program, data))
    evaluations = None if metrics is None and validation is None and patience is None \
        else _metrics_dict(metrics, program)
    if patience is not None and "loss" not in evaluations:
        # the default monitor, val_loss (train_loss): recorded even when metrics=["accuracy"] leaves it out
        evaluations = {"loss": mean_loss, **evaluations}
    _check_keys(program, data, evaluations)
    _check_declared_shapes(program, data)
    _check_data_labels(program, data)
    if validation is not None:
        validation = _check_data(_named_data(program, validation, "validation"), "validation")
        # against the declaration first: its message has the fix (argmax for one-hot rows where
        # labels are declared), where a comparison with data's shapes only says they differ
        _check_declared_shapes(program, validation, "validation")
        _check_validation(validation, data)
        _check_data_labels(program, validation, "validation")
    if checkpoint is not None:
        check_checkpoint_path(checkpoint)
    try:
        standardized = check_statistics(standardized)
    except ValueError as e:
        raise TrainingArgumentError(f"standardized: {e}; it is what fit_standardization returns") from None
    try:
        columns = None if columns is None else check_columns(columns)
    except ValueError as e:
        raise TrainingArgumentError(f"columns: {e}") from None
    step = done = seen0 = 0          # steps and epochs taken before, samples into the next (resuming)
    if isinstance(values, History):  # a History from train: go on from where it ended, as from its checkpoint
        values = _history_checkpoint(values)
    resumed = isinstance(values, Checkpoint)
    if resumed:
        ck = values
        wrong = fits(program, ck.values)
        if wrong:
            raise TrainingArgumentError(f"values: {wrong} — a checkpoint of another model, or of this one "
                                        f"before its parameters changed (to start from the values that fit, "
                                        f"pass a dict of them: values={{name: array, ...}}; the rest are drawn)")
        values, state, step, done = ck.values, ck.state if state is None else state, ck.step, ck.epoch
        seen0 = ck.seen
        _warn_other_seed(ck.seed, seed, shuffle)
        if standardized is None:           # the data of a run resumed are standardized as that run's were
            standardized = ck.standardized
        if columns is None:
            columns = ck.columns
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise TrainingArgumentError(f"values must be a dict param -> array (or a Checkpoint), "
                                    f"got {type(values).__name__}")
    values = _initialized(program, dict(values), seed)
    for name, v in values.items():          # NaN given as a starting value read 'diverged at step 1'
        a = to_numpy(v)                     # (a torch parameter that requires grad, one on a GPU)
        found = nonfinite_entries(a)
        if found:
            count, first, _ = found
            raise TrainingArgumentError(
                f"values[{key_name(name)!r}] has non-finite entries (NaN or inf): {count} of "
                f"{a.size}" + (f", the first at index {first}" if first else "")
                + f" (value {a[first]}); training starts from finite values")
    if state is None:
        state = program.init_state(values)
    elif resumed and state is ck.state and missing_slots(program, state):
        # found at the first step, as "the optimizer state has no slot 'momentum_buffer'"
        opt = getattr(getattr(program, "spec", None), "optimizer", None)
        raise TrainingArgumentError(
            f"values: the checkpoint's optimizer state holds the slots "
            f"{sorted(k for k in state if k != 't')}, another optimizer's, but this program's "
            f"{type(opt).__name__ if opt is not None else 'optimizer'} keeps "
            f"{', '.join(repr(k) for k in missing_slots(program, state))}: to go on from the checkpoint's "
            f"values with this optimizer, pass state=program.init_state(checkpoint.values) too (its slots "
            f"start afresh, and its step count t, which schedules and Adam's bias correction read, at 0)")
    where, prefix = (validation, "val_") if validation is not None else (data, "train_")
    early = None
    if patience is not None:
        early = EarlyStop(patience, prefix + "loss" if monitor is None else monitor, min_delta,
                          ["loss"] + [prefix + name for name in evaluations], mode)
    elif monitor is not None or mode != "auto":
        said = f"monitor={monitor!r}" if monitor is not None else f"mode={mode!r}"
        what = repr(monitor) if monitor is not None else "the monitor"
        raise TrainingArgumentError(f"{said} without patience: give patience=<epochs> to stop early when "
                                    f"{what} stops improving")
    if evaluations:
        _probe_metrics(evaluations, program, values, where, prefix)
    copies = getattr(program, "in_place", True) is not False

    rng = np.random.default_rng(seed)
    n = num_samples(data)
    # epoch k shuffles with the k-th permutation of default_rng(seed), resumed or not: a run resumed
    # from the checkpoint of epoch `done` goes on as the uninterrupted run would (same seed and data)
    for _ in range(done if shuffle else 0):
        rng.permutation(n)
    if not 0 <= seen0 < n:
        raise TrainingArgumentError(f"values: the checkpoint was saved {seen0} samples into epoch {done + 1}, "
                                    f"but data holds {n}: resume with the data it was trained on")
    if resumed:
        _warn_other_samples(ck.samples, n)
    per_epoch = math.ceil(n / batch_size)
    if early is not None:            # the best epoch's checkpoint records the run too (--best, history.best)
        early.run = {"seed": integer_seed(seed), "samples": n, "standardized": standardized, "columns": columns}
    # a checkpoint saved part-way through an epoch goes on with that epoch's next minibatch
    total = epochs * per_epoch - (per_epoch - math.ceil((n - seen0) / batch_size) if epochs else 0)
    if epochs:          # a schedule that ends (at 0) before training does: said now, not by flat epoch lines
        taken = _schedule_steps_taken(state, step)
        warn_schedules_end(program, taken + 1, taken + total, per_epoch)
    history = History(values=values, state=state, step=step)
    watch = LossWatch(max_loss_growth)
    if early is not None:            # what the stop compares, as decided (a report need not guess it)
        history.monitor, history.mode = early.monitor, "max" if early.maximize else "min"
    saved = None                     # the step the checkpoint file holds, once this call saved it
    interrupts = _Interrupts()

    def save_now(epochs_done, seen=0):
        nonlocal saved
        if checkpoint is not None and saved != history.step:
            save(checkpoint, history.values, history.state, step=history.step, epoch=epochs_done, seen=seen,
                 seed=seed, samples=n, standardized=standardized, columns=columns)
            saved = history.step

    drawn = bar_wanted(progress)
    bar = _progress_bar(total, drawn)
    said = progress is None or bool(progress)    # Ctrl-C's and early stopping's line: also in a log
    seen = seen0                     # samples of the epoch under way trained on
    try:
        # the guard below reports a non-finite step: NumPy's overflow warnings, pointing into the
        # generated module's cache file, would only add noise (one errstate for the loop: ~5 µs each)
        with interrupts, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            try:
                for epoch in range(done + 1, done + epochs + 1):
                    started, losses = time.perf_counter(), []
                    order = rng.permutation(n) if shuffle else None
                    if seen:                          # resumed part-way through this epoch
                        order = (np.arange(n) if order is None else order)[seen:]
                    for batch in batches(data, batch_size, order):
                        if interrupts.count:          # a step boundary: stop here
                            raise _Stop
                        step += 1
                        new_values, new_state, loss = _step(program, values, state, batch, copies)
                        if not (math.isfinite(loss) and all_finite(new_values) and all_finite(new_state)):
                            save_now(epoch - 1, seen)
                            history.seen = seen       # values=e.history goes on with this minibatch
                            diverged = _diverged(program, values, state, new_values, batch, step, epoch,
                                                 loss, history, checkpoint)
                            if early is not None and early.best_epoch is not None:
                                # what patience= promised, as after a run that ended: the best epoch's
                                _keep_best(history, early)
                                diverged.args = (f"{diverged}; the values of the best epoch by "
                                                 f"{early.monitor} ({direction(early.maximize)}), epoch "
                                                 f"{early.best_epoch}, are its .history.values",)
                            raise diverged
                        if watch.blew_up(loss, values, state, step - 1, epoch - 1, seen):
                            history.seen = seen
                            kept = watch.lowest
                            if checkpoint is not None:    # the values kept, where they go on from
                                save(checkpoint, kept.values, kept.state, step=kept.step, epoch=kept.epoch,
                                     seen=kept.seen, seed=seed, samples=n, standardized=standardized,
                                     columns=columns)
                            raise _blown_up(program, watch, loss, step, epoch, history, early, checkpoint)
                        # the commit: nothing above touched `values`, `state` or `history`
                        values, state = dict(new_values), new_state
                        history.values, history.state, history.step = values, state, step
                        history.loss.append(loss)
                        losses.append(loss)
                        seen += num_samples(batch)
                        if drawn:                     # a disabled bar still formats the postfix
                            bar.update(1)
                            bar.set_postfix(epoch=epoch, loss=f"{loss:.4g}", refresh=False)
                    seen = 0
                    record = {"epoch": epoch, "loss": float(np.mean(losses))}
                    if evaluations:
                        for name, metric in evaluations.items():
                            record[prefix + name] = float(metric(program, values, where))
                    record["seconds"] = time.perf_counter() - started
                    history.epochs.append(record)
                    # at the epoch's end the bar shows its record; the mean of the step losses is
                    # named mean_loss there, not loss (the last step's, shown during the epoch), so
                    # the number does not seem to jump back up
                    bar.set_postfix({("mean_loss" if k == "loss" else k):
                                     (f"{v:.4g}" if isinstance(v, float) else v)
                                     for k, v in record.items() if k != "seconds"})
                    save_now(epoch)
                    if on_epoch is not None:
                        with _bar_aside(bar):     # what on_epoch prints goes above the bar, not into it
                            on_epoch(dict(record))
                    # patience run out at the last epoch stops nothing: it ran every epoch, and says so
                    if early is not None and early.update(record, values, state, step) \
                            and epoch < done + epochs:
                        history.stopped_early = True
                        break
            except _Stop:
                pass
            except KeyboardInterrupt as e:
                if interrupts.count >= 2:             # the second Ctrl-C: abort
                    raise
                if not interrupts.count:              # raised by a step or metric, or no handler
                    interrupts.signum = getattr(e, "signum", interrupts.signum)    # (a SIGTERM passed on)
                interrupts.count = 1
            if interrupts.count:
                history.interrupted = True
                save_now(done + len(history.epochs), seen)  # a second Ctrl-C here aborts the save whole
                history.seen = seen
                history.message = _interrupted_message(history, done, per_epoch, checkpoint, interrupts.signum,
                                                       math.ceil(seen / batch_size))
    except KeyboardInterrupt as e:
        e.history = history                           # what was trained (the values: last good step)
        raise
    except Exception as e:          # an on_epoch or a metric that failed at epoch 30: the 29 epochs kept
        if not hasattr(e, "history"):                 # (TrainingDiverged has its own)
            if early is not None and early.best_epoch is not None:
                history.best = _best_checkpoint(early)   # as after Ctrl-C
            try:
                e.history = history
            except (AttributeError, TypeError):       # an exception class that takes no attributes
                pass
        raise
    finally:
        bar.close()
    if history.interrupted and said:
        print(history.message, file=sys.stderr)
    if early is not None and early.best_epoch is not None and history.interrupted:
        history.best = _best_checkpoint(early)       # the values stay the last step's, to go on from
    if early is not None and early.best_epoch is not None and not history.interrupted:
        _keep_best(history, early)    # as a torch loop loads its best.pt (the checkpoint keeps the last)
        watched = f"{early.monitor} ({direction(early.maximize)})"
        history.message = (f"ran every epoch; the values are those of epoch {early.best_epoch}, the best by "
                           f"{watched}")
        if history.stopped_early:
            history.message = (f"stopped early after epoch {history.epochs[-1]['epoch']}: {watched} did not "
                               f"improve for {early.patience} epoch{'s' if early.patience > 1 else ''}; the "
                               f"values are those of epoch {early.best_epoch}, the best")
            if said:
                print(history.message, file=sys.stderr)
    return history


def _history_checkpoint(history: History) -> Checkpoint:
    """What ``train(values=history)`` goes on from: the checkpoint that run would have saved at its
    end — its last values, state, step count and completed epochs; with early stopping, the best
    epoch's (``history.best``: the values it returned are that epoch's)."""
    if history.best_epoch is not None and history.best is not None:
        return history.best
    done = history.epochs[-1]["epoch"] if history.epochs else 0
    return Checkpoint(history.values, history.state, history.step, done, history.seen)


def _warn_other_seed(saved, seed, shuffle) -> None:
    """A `ResumeSeedWarning` when a checkpoint saved under the integer seed ``saved`` is resumed with
    another: epoch k is shuffled by the k-th permutation of default_rng(seed), so the resumed run
    does not go on as the saving run would have (nothing said it)."""
    if saved is None or not shuffle or integer_seed(seed) == saved:
        return
    import warnings
    warnings.warn(f"the checkpoint was saved by a run with seed {saved}, and this run's seed is {show_value(seed)}: "
                  f"its epochs are shuffled otherwise than that run's would have been (give seed {saved} to go on "
                  f"as if it had not stopped)", ResumeSeedWarning, stacklevel=4)


def _warn_other_samples(saved, n: int) -> None:
    """A `ResumeDataWarning` when a checkpoint whose run trained on ``saved`` samples is resumed over
    ``n`` others (symgrad train said so; sg.train said nothing)."""
    if saved is None or saved == n:
        return
    import warnings
    held = "; did that run hold some out for validation?" if n > saved else ""
    warnings.warn(f"the checkpoint was saved by a run that trained on {saved} samples, and data holds {n}: this run "
                  f"goes on over other data than that run's (its epochs shuffled otherwise){held} (to start a new "
                  f"run from its values, as fine-tuning does, pass values=checkpoint.values)",
                  ResumeDataWarning, stacklevel=4)


def _schedule_steps_taken(state, step: int) -> int:
    """The steps a schedule has counted before this run: the optimizer state's ``t`` (which a fresh
    state for a resumed run starts at 0), else ``step``."""
    t = state.get("t") if isinstance(state, Mapping) else None
    try:
        return int(np.asarray(to_numpy(t)).reshape(-1)[0]) if t is not None else step
    except (TypeError, ValueError, IndexError):
        return step


def _keep_best(history, early) -> None:
    """``history`` takes the best epoch's values and state (copies taken at that epoch)."""
    history.values, history.state, history.best_epoch = early.best_values, early.best_state, early.best_epoch
    history.best_step = early.best_step
    history.best = _best_checkpoint(early)


def _best_checkpoint(early) -> Checkpoint:
    """The best epoch so far as a `Checkpoint`: what ``train(values=...)`` resumes and `save` writes."""
    return Checkpoint(early.best_values, early.best_state, early.best_step, early.best_epoch,
                      **early.run)


def _step(program, values, state, batch, copies: bool):
    """(new values, new state, the batch's loss before the step) of one step. The step may update
    the arrays it is given in place: with ``copies`` it is given copies, so that ``values`` and
    ``state`` still hold the last good step until this one is checked finite."""
    given_values, given_state = (copied(values), copied(state)) if copies else (values, state)
    out = program.step(given_values, given_state, batch)
    if len(out) == 3:
        loss = out[2]
    elif hasattr(program, "last_loss"):
        loss = program.last_loss
    else:                                             # `values` is intact: the step had copies
        loss = program.loss(values, batch)
    return out[0], out[1], float(loss)


def _diverged(program, values, state, new_values, batch, step, epoch, loss, history, checkpoint):
    """The TrainingDiverged of a step that went non-finite, naming the culprit."""
    param, why = _culprit(program, values, new_values, batch)
    kept = "; the values from before this step are kept (the exception's .values)"
    if checkpoint is not None:
        kept += f" and saved to {os.fspath(checkpoint)}"
    what = f"{why} (loss {loss})" if param == "loss" else f"parameter {param!r}: {why} (loss {loss})"
    account = (f"training diverged at step {step} (epoch {epoch}): {what}"
               f"{_growth_hint(program, history) or _sudden_hint(program, history, values)}")
    return TrainingDiverged(account + kept, step=step, param=param, loss=loss, values=values, state=state,
                            history=history, account=account,
                            saved_to=None if checkpoint is None else os.fspath(checkpoint))


def _blown_up(program, watch, loss, step, epoch, history, early, checkpoint):
    """The TrainingDiverged of a finite loss past ``watch.limit``: it holds the values of the lowest
    minibatch loss (``.kept_step``: the steps done at them), saved to ``checkpoint`` already when
    there is one; with patience= the history holds the best epoch's, as after a divergence."""
    kept = watch.lowest
    account = f"training diverged at step {step} (epoch {epoch}): {watch.account(loss, _lrs_said(program))}"
    said = (f"; the values from before step {kept.step + 1}, whose minibatch loss {kept.loss:.4g} was the "
            f"lowest, are kept (the exception's .values)")
    if checkpoint is not None:
        said += f" and saved to {os.fspath(checkpoint)}"
    if early is not None and early.best_epoch is not None:
        _keep_best(history, early)
        said += (f"; the values of the best epoch by {early.monitor} ({direction(early.maximize)}), epoch "
                 f"{early.best_epoch}, are its .history.values")
    return TrainingDiverged(account + said, step=step, param="loss", loss=loss, values=kept.values,
                            state=kept.state, history=history, account=account,
                            saved_to=None if checkpoint is None else os.fspath(checkpoint),
                            kept_step=kept.step, kept_loss=kept.loss)


def _sudden_hint(program, history, values) -> str:
    """When the step losses did not grow before the failing step, the usual cause: parameters of a
    huge size (one step of too large a learning rate took them there), else a function at a point
    where it is not finite (a log of a probability that rounded to 0)."""
    losses = [x for x in history.loss if math.isfinite(x)]
    if not losses:
        return ""
    sizes = {}
    for k, v in (values or {}).items():
        try:
            a = np.abs(to_numpy(v)).astype(float)
        except (TypeError, ValueError):
            continue
        if a.size and np.isfinite(a).all():
            sizes[key_name(k)] = float(a.max())
    name = max(sizes, key=sizes.get) if sizes else None
    if name is not None and sizes[name] > _HUGE:
        return (f"; the parameters had grown to {sizes[name]:.4g} (entry of {name!r}) before it: the "
                f"learning rate{_lrs_said(program)} is likely too large for this data (try a smaller one, "
                f"or inputs of a smaller scale)")
    return (f"; the loss was finite until then ({losses[-1]:.4g} at step {history.step}), with parameters "
            f"of a sane size: usually a function met a point where it is not finite — a log or a division "
            f"at 0, as of a probability that rounded to 0 or 1 (a sigmoid or softmax written out before a "
            f"log or bce: sg.bce_with_logits and sg.cross_entropy take the logits and stay finite), or an "
            f"exp of a large input")


_HUGE = 1e6          # a parameter entry this large is one a too large step made, not one training wants


def _lrs_said(program) -> str:
    """" (lr=1, groups[0]'s lr=0.1)": the optimizer's numeric learning rates, for a message."""
    opt = getattr(getattr(program, "spec", None), "optimizer", None)
    number = lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    lrs = [f"lr={float(getattr(opt, 'lr', None)):g}"] if number(getattr(opt, "lr", None)) else []
    groups = getattr(opt, "groups", ()) or ()      # a group's own lr, where it sets one
    lrs += [f"groups[{k}]'s lr={float(g['lr']):g}" for k, g in enumerate(groups)
            if isinstance(g, dict) and number(g.get("lr"))]
    return f" ({', '.join(lrs)})" if lrs else ""


def _growth_hint(program, history) -> str:
    """When the step losses grew tenfold before the failing step, the usual cause: the learning rate."""
    losses = [x for x in history.loss if math.isfinite(x)]
    if len(losses) < 2 or not max(losses[1:]) > 10 * max(abs(losses[0]), 1e-12):
        return ""
    return (f"; the loss grew from {losses[0]:.4g} (step 1) to {max(losses):.4g} before it: the learning "
            f"rate{_lrs_said(program)} is likely too large for this data (try a smaller one, or inputs of a "
            f"smaller scale)")


def _culprit(program, values, new_values, batch) -> tuple[str, str]:
    """(parameter name, what is wrong) for a step that went non-finite."""
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            grads = program.grad(values, batch)
    except Exception:                       # noqa: BLE001 - diagnosing; fall back to the values
        grads = {}
    for found, why in ((grads, "its gradient is not finite"),
                       (new_values, "its updated value is not finite")):
        for k in values:
            try:
                v = lookup(found, k)
            except KeyError:
                continue
            if not all_finite(v):
                return key_name(k), why
    return "loss", "the loss is not finite"


class _bar_aside:
    """Clear the progress bar's line while the body runs and draw the bar again after it, so that a
    line printed meanwhile (``on_epoch=print``; ``symgrad train``'s epoch lines) stands on its own
    line above the bar rather than in the middle of it (tqdm's ``write`` does the same)."""

    def __init__(self, bar):
        self.bar = bar

    def __enter__(self):
        self.bar.clear()               # a disabled bar does nothing
        return self

    def __exit__(self, *exc):
        for stream in (sys.stdout, sys.stderr):    # what the body wrote, out before the bar is back
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        self.bar.refresh()
        return False


def bar_wanted(progress) -> bool:
    """Whether `train` draws its progress bar. ``progress=None`` (the default) decides by where stderr
    goes: a terminal, or a Jupyter kernel, gets a bar; a file, a pipe or a CI log none.

    Decided: tqdm's own ``disable=None`` turns the bar off where the stream is no terminal, but
    ``tqdm.notebook`` turns that None into False — a notebook's stderr is no terminal, and its bar
    (a widget, or text where ipywidgets is missing) is what its user watches. A kernel is told by
    ``ipykernel`` being imported, as ``tqdm.autonotebook`` tells it (Jupyter, JupyterLab, VS Code,
    Colab); IPython in a terminal has a terminal."""
    if progress is not None:
        return bool(progress)
    if "ipykernel" in sys.modules:
        return True
    try:
        return bool(sys.stderr is not None and sys.stderr.isatty())
    except (AttributeError, OSError, ValueError):        # a stream without isatty, or closed
        return False


def _progress_bar(total, enabled):
    from tqdm.auto import tqdm
    # a terminal that reports no width (a pty opened without a size: `script` run from a pipe, some
    # IDE consoles and `docker exec -t`) made tqdm's width 0 and its rows -1: no bar was drawn at all
    if _reported_columns(sys.stderr) == 0:
        import shutil
        width = {"ncols": shutil.get_terminal_size().columns, "nrows": 24}      # $COLUMNS, or 80
    else:
        width = {"dynamic_ncols": True}
    return tqdm(total=total, disable=not enabled, unit="step", desc="train", leave=True, **width)


def _reported_columns(stream):
    """The width the terminal of ``stream`` reports (0 for a pty without a size), or None when it is
    no terminal or says nothing."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return None
