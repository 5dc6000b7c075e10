"""A loss that explodes while staying finite: `train` stops it as a divergence (``max_loss_growth``).

A learning rate somewhat too large makes the loss grow by a factor at each step; in float64 it takes
hundreds of epochs to overflow, and until then every epoch trains further away (a linear regression
under SGD at lr=0.3 ran its 40 epochs to a loss of 1e123 and ended as if it had trained). A step
whose loss is more than ``max_loss_growth`` (default 10⁸) times the first step's is taken to diverge.

Decided: the reference is the loss of the first step of the call (the loss at the starting values),
at least 10⁻³ in size: a resumed run near a loss of 0 (a fit to 10⁻¹²) is not stopped by noise that
is many times its loss but still small; what a healthy run's minibatches vary by — tens, thousands
of times a batch of outliers — is far below 10⁸. The values kept are those before the step of the
lowest minibatch loss of the call: the values just before the stop are those of a loss 10⁸ times
the start, nothing to go on from. Holding them costs no copying: every step works on copies (or a
program that does not write in place), so the arrays of an earlier step are never written again;
but it keeps one earlier set of values and optimizer state alive (memory: the parameters and the
optimizer's slots once more), which ``max_loss_growth=None`` does not.

>>> watch = LossWatch(1e8)
>>> [watch.blew_up(loss, {"w": loss}, None, k, 0, 8 * k) for k, loss in enumerate([2.0, 0.5, 9.0, 3e8])]
[False, False, False, True]
>>> watch.lowest.loss, watch.lowest.step, watch.limit
(0.5, 1, 200000000.0)
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .training_results import TrainingArgumentError

FLOOR = 1e-3          # the least reference: growth from a loss near 0 is measured from here


@dataclass
class Kept:
    """Where the call's lowest minibatch loss was met: the values and state before that step, the
    steps and epochs done then and the samples of the epoch under way already trained on."""
    loss: float
    values: dict
    state: object
    step: int
    epoch: int
    seen: int


class LossWatch:
    """Watches each step's loss: ``blew_up(...)`` is True for the first past ``limit``."""

    def __init__(self, factor):
        self.factor = factor
        self.first = None             # the first step's loss
        self.lowest = None            # a Kept

    @property
    def limit(self) -> float:
        return self.factor * max(abs(self.first), FLOOR)

    def blew_up(self, loss: float, values, state, step: int, epoch: int, seen: int) -> bool:
        """Whether ``loss`` (finite; the loss at ``values``, before the step) is past the limit;
        ``step``, ``epoch``, ``seen``: the steps and epochs done and the samples of the epoch under
        way trained on, at ``values``."""
        if self.factor is None:
            return False
        if self.first is None:
            self.first = loss
        if abs(loss) > self.limit:
            return True
        if self.lowest is None or loss < self.lowest.loss:
            self.lowest = Kept(loss, values, state, step, epoch, seen)
        return False

    def account(self, loss: float, lrs: str) -> str:
        """The message's account of a blow-up at ``loss``, with the learning rates said (``lrs``)."""
        times = f"{self.factor:g}".replace("e+0", "e").replace("e+", "e")       # 1e8, not 1e+08
        return (f"the loss grew from {self.first:.4g} (the first step's) to {loss:.4g}, more than "
                f"{times} times it (max_loss_growth): the learning rate{lrs} is likely too large for "
                f"this data (try a smaller one, or inputs of a smaller scale)")


def check_growth(factor):
    """``max_loss_growth`` as given (None turns the watch off), else a TrainingArgumentError."""
    if factor is None:
        return None
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not math.isfinite(factor) \
            or factor <= 1:
        raise TrainingArgumentError(f"max_loss_growth must be a number > 1 (how many times the first step's loss "
                                    f"a loss may grow before training counts as diverged; default 1e8), or None "
                                    f"never to stop a finite loss; got {factor!r}")
    return float(factor)
