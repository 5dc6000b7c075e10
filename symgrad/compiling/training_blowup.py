"""A loss that explodes while staying finite: `train` stops it as a divergence (``max_loss_growth``).

A learning rate somewhat too large makes the loss grow by a factor at each step; in float64 it takes
hundreds of epochs to overflow, and until then every epoch trains further away (a linear regression
under SGD at lr=0.3 ran its 40 epochs to a loss of 1e123 and ended as if it had trained). A step
whose loss is more than ``max_loss_growth`` (default 10⁸) times the first step's (and more than
√max_loss_growth times the largest of the first 10 steps') is taken to diverge.

Decided: the reference is the loss of the first step of the call (the loss at the starting values),
at least 10⁻³ in size: a resumed run near a loss of 0 (a fit to 10⁻¹²) is not stopped by noise that
is many times its loss but still small; what a healthy run's minibatches vary by — tens, thousands
of times a batch of outliers — is far below 10⁸. But a first minibatch the starting values fit
exactly (loss 0) says nothing of the scale of the others: a regression started at its exact weights,
whose later minibatches carry outliers of size 10³, was stopped at step 2 (a loss of 4·10⁵, "grown"
from 0). So the limit is also never below √max_loss_growth (10⁴) times the largest loss of the
call's first ``WINDOW`` (10) steps: a step among those is never stopped for its growth, and a run
whose first losses agree in scale (within 10⁴ of the first; every healthy one seen) keeps the limit
of its first step. A blow-up fast enough to grow 10⁴ times in 10 steps is stopped a few steps later
than by the first step's loss alone (it still grows by a factor each step). The square root, not
a fixed share: any ``max_loss_growth`` > 1 then leaves the window's losses under the limit.

The values kept are those before the step of the lowest minibatch loss of the call: the values
just before the stop are those of a loss 10⁸ times the start, nothing to go on from. Holding them costs no copying: every step works on copies (or a
program that does not write in place), so the arrays of an earlier step are never written again;
but it keeps one earlier set of values and optimizer state alive (memory: the parameters and the
optimizer's slots once more), which ``max_loss_growth=None`` does not.

>>> watch = LossWatch(1e8)
>>> losses = [2.0, 0.5, 9.0] + [1.0] * 8 + [3e8]
>>> [watch.blew_up(loss, {"w": loss}, None, k, 0, 8 * k) for k, loss in enumerate(losses)][-3:]
[False, False, True]
>>> watch.lowest.loss, watch.lowest.step, watch.limit
(0.5, 1, 200000000.0)
>>> fitted = LossWatch(1e8)         # a first minibatch fitted exactly, the next ones with outliers
>>> any(fitted.blew_up(loss, {}, None, k, 0, 0) for k, loss in enumerate([0.0, 4e5, 9e5, 2e5] * 5))
False
>>> fitted.limit                    # 10⁴ times 9·10⁵, not 10⁸ times 10⁻³
9000000000.0
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .training_results import TrainingArgumentError

FLOOR = 1e-3          # the least reference: growth from a loss near 0 is measured from here
WINDOW = 10           # the first steps whose largest loss, times √factor, the limit is never below


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
        self.early = 0.0              # the largest loss (in size) of the first WINDOW steps
        self.steps = 0                # the steps watched
        self.lowest = None            # a Kept

    @property
    def limit(self) -> float:
        return max(self.factor * max(abs(self.first), FLOOR), self._early_limit)

    @property
    def _early_limit(self) -> float:
        return math.sqrt(self.factor) * self.early

    def blew_up(self, loss: float, values, state, step: int, epoch: int, seen: int) -> bool:
        """Whether ``loss`` (finite; the loss at ``values``, before the step) is past the limit;
        ``step``, ``epoch``, ``seen``: the steps and epochs done and the samples of the epoch under
        way trained on, at ``values``."""
        if self.factor is None:
            return False
        if self.first is None:
            self.first = loss
        self.steps += 1
        if self.steps <= WINDOW:
            self.early = max(self.early, abs(loss))
        if abs(loss) > self.limit:
            return True
        if self.lowest is None or loss < self.lowest.loss:
            self.lowest = Kept(loss, values, state, step, epoch, seen)
        return False

    def account(self, loss: float, lrs: str) -> str:
        """The message's account of a blow-up at ``loss``, with the learning rates said (``lrs``)."""
        cause = (f": the learning rate{lrs} is likely too large for this data (try a smaller one, or inputs of "
                 f"a smaller scale)")
        if self._early_limit > self.factor * max(abs(self.first), FLOOR):
            return (f"the loss grew from {self.early:.4g} (the largest of the first {WINDOW} steps') to "
                    f"{loss:.4g}, more than {_times(math.sqrt(self.factor))} times it (the square root of "
                    f"max_loss_growth, as the first step's loss, {self.first:.4g}, is far below it)" + cause)
        return (f"the loss grew from {self.first:.4g} (the first step's) to {loss:.4g}, more than "
                f"{_times(self.factor)} times it (max_loss_growth)" + cause)


def _times(factor: float) -> str:
    return f"{factor:.4g}".replace("e+0", "e").replace("e+", "e")        # 1e8, not 1e+08


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
