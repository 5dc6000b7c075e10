"""Early stopping for `train`: ``patience=`` epochs without improvement of a recorded metric stop
training, and the values of the best epoch are kept — what a torch loop does by hand with a
``best`` variable, a ``bad_epochs`` counter, ``torch.save(model.state_dict(), "best.pt")`` and a
``load_state_dict`` at the end (Keras: ``EarlyStopping(monitor, patience, min_delta,
restore_best_weights=True)``).

>>> stop = EarlyStop(patience=2, monitor="val_loss", min_delta=0.0, names=["val_loss"])
>>> [stop.update({"epoch": e, "val_loss": v}, {"w": v}, None) for e, v in enumerate([3, 2, 2.5, 2.1], 1)]
[False, False, False, True]
>>> stop.best_epoch, stop.best_values
(2, {'w': 2})
"""
from __future__ import annotations

import difflib
import math

import numpy as np

from ..errors import show_value
from .training_arrays import copied
from .training_results import TrainingArgumentError


MODES = ("auto", "min", "max")
# the names ``mode="auto"`` maximizes (any of these in the monitor's name, unless it names a loss
# or an error: "val_dice_loss" is minimized); Keras's auto knows only accuracies
LARGER_IS_BETTER = ("acc", "f1", "auc", "precision", "recall", "iou", "dice", "r2", "score")


def maximized(monitor: str, mode: str = "auto") -> bool:
    """Whether a larger ``monitor`` is better: ``mode="max"``/``"min"`` say so; ``"auto"`` maximizes
    accuracies, F1, AUC, precision, recall, IoU, Dice, R² and scores (a name holding ``acc``, ``f1``,
    ``auc``, ``precision``, ``recall``, ``iou``, ``dice``, ``r2`` or ``score``, but not ``loss`` or
    ``err``) and minimizes everything else.

    >>> [maximized(m) for m in ("val_accuracy", "val_f1", "val_dice_loss", "train_mse")]
    [True, True, False, False]
    >>> maximized("val_mse", "max")
    True
    """
    if mode != "auto":
        return mode == "max"
    name = monitor.lower()
    if "loss" in name or "err" in name:
        return False
    return any(word in name for word in LARGER_IS_BETTER)


def direction(maximize: bool) -> str:
    """How the monitor was compared, for messages: "larger is better" or "smaller is better"."""
    return "larger is better" if maximize else "smaller is better"


class EarlyStop:
    """The best epoch so far by ``monitor`` and the number of epochs since (see the module)."""

    def __init__(self, patience, monitor: str, min_delta, names, mode="auto"):
        if not isinstance(mode, str) or mode not in MODES:
            raise TrainingArgumentError(f"mode must be 'auto', 'min' or 'max' (whether a larger monitor is "
                                        f"better; 'auto' decides by its name), got {show_value(mode)}")
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
            raise TrainingArgumentError(f"patience must be an integer >= 1 (the epochs without improvement "
                                        f"that stop training), got {show_value(patience)}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float, np.integer, np.floating)) \
                or not math.isfinite(min_delta) or min_delta < 0:
            raise TrainingArgumentError(f"min_delta must be a finite number >= 0 (the least change that counts "
                                        f"as an improvement), got {show_value(min_delta)}")
        names = list(names)
        if monitor not in names:
            close = difflib.get_close_matches(str(monitor), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            head, _, rest = str(monitor).partition("_")
            other = {"val": "train", "train": "val"}.get(head, "") + "_" + rest
            if rest and other not in names and head in ("val", "train"):     # val_acc without validation
                other = next(iter(difflib.get_close_matches(other, names, n=1)), other)
            if rest and other in names:      # not 'loss' (the training loss) for val_loss without validation
                hint = (f" (did you mean {other!r}? there is {'no' if head == 'val' else 'a'} "
                        f"validation set)")
            said = (f"not recorded in each epoch{hint}; the epochs record {', '.join(repr(n) for n in names)} "
                    f"(metrics are val_<name> with a validation set, train_<name> without one)")
            raise TrainingArgumentError(f"monitor={monitor!r} is {said}", argument="monitor", key=monitor, said=said)
        self.patience, self.monitor, self.min_delta = int(patience), monitor, float(min_delta)
        self.maximize = maximized(monitor, mode)
        self.sign = -1.0 if self.maximize else 1.0      # compare sign·value: smaller is better
        self.best = math.inf
        self.best_epoch = None
        self.best_values = self.best_state = None
        self.best_step = None
        self.waited = 0
        self.run = {}                   # train's seed and samples, recorded in the best epoch's checkpoint

    def update(self, record: dict, values, state, step=None) -> bool:
        """Take an epoch's record (and the values, state and step count after it); True when training
        should stop."""
        v = self.sign * float(record[self.monitor])
        if math.isfinite(v) and v < self.best - self.min_delta:
            self.best, self.best_epoch, self.best_step, self.waited = v, record["epoch"], step, 0
            self.best_values, self.best_state = copied(values), copied(state)
            return False
        self.waited += 1
        return self.waited >= self.patience
