"""A learning-rate schedule that ends before training does, said before the first step.

``WarmupCosine(lr, warmup, total)`` decays to ``lr_min`` at step ``total`` and stays there;
``LinearAnnealing(lr0, lr_end, tau, every)`` reaches ``lr_end`` after ``tau·every`` steps. Both count
optimizer steps, and a schedule written with epochs where steps are meant (``total=30`` for 30
epochs of 45 steps) runs most of training at the end rate: at 0, the default ``lr_min``, the
parameters stop changing, and nothing said so — the epoch lines just repeat the same loss.

>>> from symgrad.compiling.schedules import WarmupCosine
>>> import warnings
>>> with warnings.catch_warnings(record=True) as seen:
...     warnings.simplefilter("always")
...     warn_schedule_ends(WarmupCosine(1e-3, warmup=2, total=30), first=1, last=450, per_epoch=45)
>>> print(seen[0].message)   # doctest: +ELLIPSIS
the learning rate (WarmupCosine(total=30)) reaches its end rate 0 at step 31, but training runs to step 450: ...
"""
from __future__ import annotations

import warnings

from .optim import LinearAnnealing
from .schedules import WarmupCosine


class ScheduleEndsWarning(UserWarning):
    """A learning-rate schedule reaches a rate of 0 an epoch or more before training ends."""


def schedule_end(schedule):
    """(the first step at the end rate, the end rate, how it is written) of a schedule with an end,
    else None (a number, a function of t)."""
    if isinstance(schedule, WarmupCosine):
        return schedule.total + 1, schedule.lr_min, f"WarmupCosine(total={schedule.total})"
    if isinstance(schedule, LinearAnnealing):
        return (schedule.tau * schedule.every + 1, schedule.lr_end,
                f"LinearAnnealing(tau={schedule.tau}, every={schedule.every})")
    return None


def warn_schedule_ends(schedule, first: int, last: int, per_epoch: int, where: str = "", stacklevel: int = 2) -> None:
    """Warn when ``schedule`` is at a rate of 0 for an epoch (``per_epoch`` steps) or more of the
    steps ``first`` … ``last`` that training will take."""
    end = schedule_end(schedule)
    if end is None:
        return
    at, rate, said = end
    idle = last - max(at, first) + 1
    if rate != 0 or idle < max(per_epoch, 1):
        return
    epochs = idle / per_epoch
    # a resumed run goes on counting from the checkpoint's step: the total that ends with this run
    # is its last step, not its own step count (it advised the run's own 48 steps where 80 was needed)
    count = (f"epochs × ceil(samples / batch_size) = {last - first + 1} for this run: give that as its total"
             if first == 1 else
             f"and a resumed run goes on counting from the checkpoint's (steps {first} to {last} here): give "
             f"{last} as its total to end with this run")
    # 4996.67 epochs as "4997", not "5e+03" (3 significant digits, as below 1000)
    shown = f"{epochs:.0f}" if epochs >= 1000 else f"{epochs:.3g}"
    which = f"its last {idle} steps" if at > first else f"every one of its {idle} steps"     # resumed past it
    warnings.warn(
        f"the learning rate{where} ({said}) reaches its end rate 0 at step {at}, but training runs to step "
        f"{last}: {which} ({shown} epoch{'s' if epochs != 1 else ''}) would change nothing. "
        f"The schedule counts optimizer steps, {count} (or an end rate above 0, or fewer epochs)",
        ScheduleEndsWarning, stacklevel=stacklevel + 1)


def warn_schedules_end(program, first: int, last: int, per_epoch: int) -> None:
    """`warn_schedule_ends` for the learning rate of ``program``'s optimizer and of each of its groups."""
    opt = getattr(getattr(program, "spec", None), "optimizer", None)
    if opt is None:
        return
    # the warning's line is the caller's of sg.train: here, train, its keyword check, the caller
    warn_schedule_ends(getattr(opt, "lr", None), first, last, per_epoch, stacklevel=4)
    for k, group in enumerate(getattr(opt, "groups", ()) or ()):
        if isinstance(group, dict) and "lr" in group:
            warn_schedule_ends(group["lr"], first, last, per_epoch, f" of groups[{k}]", stacklevel=4)
