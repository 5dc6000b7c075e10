"""What `train` returns and what it raises: the `History` of a run (shown as a one-line summary, or
a small table beside the loss curve in Jupyter), `TrainingDiverged` (a step went non-finite; it
carries the history and the last finite values) and `TrainingArgumentError` (an argument refused
before the first step).

>>> History(loss=[0.5, 0.25], epochs=[{"epoch": 1, "loss": 0.375}]).metric("loss")
[0.375]
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import ArgumentError, DataError, SymgradError
from ..teaching.display import esc, number, sparkline


@dataclass
class History:
    """What `train` returns.

    ``loss``: the minibatch loss of every step. ``epochs``: one dict per epoch, with ``epoch`` (1,
    2, ...), ``loss`` (the mean of that epoch's step losses), ``seconds``, and each metric as
    ``val_<name>`` (on the validation data) or ``train_<name>`` (on the training data, when no
    validation data is given). ``values``, ``state``: where training ended. ``step``: the number of
    steps taken, counting those of a checkpoint training resumed from. ``interrupted``: True when
    Ctrl-C stopped training early; ``message`` then says where (values and checkpoint are those
    after step ``step``). With ``train(patience=...)``: ``stopped_early`` (no improvement for
    ``patience`` epochs) and ``best_epoch``, whose values and state ``values`` and ``state`` then are;
    ``best``, the best epoch's values, state, step count and epoch as a `Checkpoint` (what a torch
    loop's ``best.pt`` holds; set also when Ctrl-C or a divergence ended training, when ``values``
    are not the best epoch's); ``monitor``, the name early stopping compared (``"val_loss"`` by default), and ``mode``, the way
    it compared it: ``"min"`` (smaller is better) or ``"max"`` (``mode="auto"`` resolved by the name).

    >>> h = History(loss=[1.0], epochs=[{"epoch": 1, "loss": 1.0, "val_accuracy": 0.5}])
    >>> h.metric("val_accuracy")
    [0.5]
    """

    loss: list = field(default_factory=list)
    epochs: list = field(default_factory=list)
    values: dict | None = None
    state: object = None
    step: int = 0
    interrupted: bool = False
    message: str = ""
    stopped_early: bool = False     # train(patience=...) stopped before the last epoch
    best_epoch: int | None = None   # train(patience=...): the epoch whose values `values` holds
    best_step: int | None = None    # ... and the step count at its end
    best: object = None             # train(patience=...): the best epoch as a Checkpoint (values, state,
                                    # step, epoch), also when training was interrupted or diverged
    monitor: str | None = None      # train(patience=...): the epoch record's name it compared
    mode: str | None = None         # ... and how: "min" or "max" (never "auto": resolved by the name)
    seen: int = 0                   # stopped part-way through an epoch (Ctrl-C, a divergence): its
                                    # samples trained on, where values=history goes on

    # -- display: a summary, never the arrays ------------------------------------------------------
    def _summary(self) -> dict:
        """What a glance needs: epochs, steps, the loss from first to last epoch and the best one,
        the last value of each metric, the time."""
        e = self.epochs
        losses = [r.get("loss") for r in e if r.get("loss") is not None]
        out = {"epochs": len(e), "steps": self.step, "seconds": sum(r.get("seconds", 0.0) for r in e)}
        if losses:
            best = min(range(len(losses)), key=lambda i: losses[i] if math.isfinite(losses[i]) else math.inf)
            out.update(first=losses[0], last=losses[-1], best=losses[best], best_epoch=e[best].get("epoch", best + 1))
        elif self.loss:          # stopped inside the first epoch: the step losses
            out.update(first=self.loss[0], last=self.loss[-1], best=min(self.loss))
        out["metrics"] = {k: v for k, v in (e[-1].items() if e else ())
                          if k not in ("epoch", "loss", "seconds") and isinstance(v, (int, float))}
        return out

    def __repr__(self):
        """One line: epochs, steps, the epoch loss first → last and the best, the last metrics.

        >>> History(loss=[2.0, 1.0, 0.5, 0.7], step=4, epochs=[{"epoch": 1, "loss": 1.5, "seconds": 0.25},
        ...         {"epoch": 2, "loss": 0.6, "val_accuracy": 0.75, "seconds": 0.25}])
        <History: 2 epochs, 4 steps, mean loss 1.5 → 0.6 (best 0.6, epoch 2), val_accuracy 0.75, 0.5 s>
        """
        s = self._summary()
        parts = [f"{s['epochs']} epoch{'s' if s['epochs'] != 1 else ''}", f"{s['steps']} steps"]
        if "last" in s:
            what = "mean loss" if s["epochs"] else "step loss"
            # with early stopping "best" is the monitored epoch's (values of epoch k): the loss's is its lowest
            word = "lowest" if self.best_epoch is not None else "best"
            best = f" ({word} {number(s['best'])}" + (f", epoch {s['best_epoch']})" if "best_epoch" in s else ")")
            parts.append(f"{what} {number(s['first'])} → {number(s['last'])}{best}")
        parts += [f"{k} {number(v)}" for k, v in s["metrics"].items()]
        parts.append(f"{s['seconds']:.3g} s")
        if self.stopped_early:
            parts.append("stopped early")
        if self.best_epoch is not None:
            parts.append(f"values of epoch {self.best_epoch}")
        if self.interrupted:
            parts.append("interrupted")
        return "<History: " + ", ".join(parts) + ">"

    def _repr_html_(self):
        """The summary as a small table beside the loss curve (an inline SVG: each epoch's mean
        loss, or each step's when there is only one epoch)."""
        s = self._summary()
        curve = [r.get("loss") for r in self.epochs] if len(self.epochs) > 1 else self.loss
        rows = [("epochs", s["epochs"]), ("steps", s["steps"])]
        if "last" in s:
            rows += [("loss, first → last", f"{number(s['first'])} → {number(s['last'])}"),
                     ("lowest loss" if self.best_epoch is not None else "best loss", number(s["best"]) + (f" (epoch {s['best_epoch']})" if "best_epoch" in s else ""))]
        rows += [(k, number(v)) for k, v in s["metrics"].items()]
        rows.append(("time", f"{s['seconds']:.3g} s"))
        if self.interrupted:
            rows.append(("interrupted", self.message))
        table = "".join(f"<tr><th style='text-align:left'>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
        picture = sparkline(curve, label="mean loss per epoch" if len(self.epochs) > 1 else "loss per step")
        return (f"<div><b>History</b><div style='display:flex;gap:1em;align-items:center'>"
                f"<table>{table}</table>{picture}</div></div>")

    def plot(self, path=None, *, title=None, dpi=100):
        """The training curves as a matplotlib ``Figure`` — each epoch's losses, the metrics beside
        them, the best epoch marked after early stopping — saved to ``path`` (``"curves.png"``,
        ``.pdf``, ``.svg``) when one is given. Needs matplotlib (`symgrad.compiling.training_plot`)."""
        from .training_plot import plot_history
        return plot_history(self, path, title=title, dpi=dpi)

    def metric(self, name: str) -> list:
        """The per-epoch series of ``name`` (``loss``, ``val_loss``, ``val_accuracy`` ...)."""
        if self.epochs and not any(name in e for e in self.epochs):
            import difflib
            keys = sorted({k for e in self.epochs for k in e})
            close = difflib.get_close_matches(str(name), keys, n=1, cutoff=0.6)
            raise KeyError(f"no metric {name!r} in this history" + (f" (did you mean {close[0]!r}?)" if close else "")
                           + f"; it has {keys}")
        return [e.get(name) for e in self.epochs]


class TrainingDiverged(SymgradError, FloatingPointError):
    """A step produced a non-finite loss, gradient or parameter. ``step`` is the 1-based step
    number, ``param`` the parameter's name (``"loss"`` when only the loss is not finite); ``values``
    and ``state`` are the last finite ones (from before that step); ``history`` is what was
    recorded until then. ``account`` is the message's account of the step and its likely cause,
    without what was kept; ``saved_to``, the checkpoint those values were saved to (or None): a
    caller that words the rest itself (``symgrad train``) builds on these, not on the message.

    A finite loss past ``max_loss_growth`` times the first step's is a divergence too (``param`` is
    ``"loss"``): ``values`` and ``state`` are then those before the step of the run's lowest
    minibatch loss, ``kept_loss``, with ``kept_step`` steps taken (both None otherwise)."""

    def __init__(self, message, *, step, param, loss, values, state, history, account=None, saved_to=None,
                 kept_step=None, kept_loss=None):
        super().__init__(message)
        self.step, self.param, self.loss = step, param, loss
        self.values, self.state, self.history = values, state, history
        self.account = message if account is None else account
        self.saved_to = saved_to
        self.kept_step, self.kept_loss = kept_step, kept_loss


class TrainingArgumentError(ArgumentError):
    """An argument of `train` that cannot work (a validation set unlike the data, a metric that is
    not callable or fails on a first probe, a count that is not a positive integer), refused before
    the first step. The message names the argument. An `ArgumentError` (so also a ValueError).

    What it is about, for a caller that says it in its own words (``symgrad train`` names its
    --data file rather than ``data['x']``), without reading the message: ``argument`` (``"data"``,
    ``"validation"``, ``"metrics"``, ``"monitor"``, or None), ``key`` (the input's or the metric's
    name), ``said`` (the message after its subject ``argument[key]``, or after ``monitor=...``),
    ``fix`` (the advice at its end, when a caller may have another; ``said`` then ends before it) and
    ``dataset`` (the data a metric was probed on: ``"data"`` or ``"validation"``)."""

    def __init__(self, message, *, argument=None, key=None, said=None, fix=None, dataset=None):
        super().__init__(message)
        self.argument, self.key, self.fix, self.dataset = argument, key, fix, dataset
        self.said = message if said is None else said


class TrainingDataError(TrainingArgumentError, DataError):
    """Data that `train` cannot learn from, refused before the first step: missing values (NaN) or
    infinities in an array of ``data`` or ``validation``, named by column and sample. A `DataError`
    (bad data) and, as it was before it had a class of its own, a `TrainingArgumentError`."""


def about_array(error, what: str, key, said: str):
    """``error`` (an exception class) with the message ``what[key]<said>`` — ``data['x'] has shape
    ...`` — and the fields ``argument``, ``key`` and ``said`` of `TrainingArgumentError` set, whatever
    its class (a `LabelRangeError` too)."""
    e = error(f"{what}[{key!r}]{said}")
    e.argument, e.key, e.said = what, key, said
    return e
