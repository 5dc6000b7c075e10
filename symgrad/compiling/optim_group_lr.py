"""A group's constant ``lr`` under a scheduled base ``lr``: `sg.compile` warns (`GroupLrWarning`).

torch's schedulers scale every parameter group's lr by one factor: a script ported as
``AdamW(lr=WarmupCosine(3e-3, ...), groups=[{"params": [b], "lr": 1e-4}])`` had, in torch, the
group's 1e-4 warmed up and decayed with the rest; here a group that gives a number keeps it
constant (docs/optimizers.md). That difference is silent in the numbers, so it is said once, at
compile time, with what to write for torch's behaviour (the group's own schedule).
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np


class GroupLrWarning(UserWarning):
    """A parameter group gives a constant ``lr`` while the optimizer's ``lr`` is a schedule: torch would
    scale the group's lr by the schedule's factor, symgrad keeps it constant."""


def _number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _suggestion(base, lr) -> str:
    """A schedule for a group's ``lr`` that follows ``base`` as torch's schedulers would."""
    from .schedules import WarmupCosine
    if isinstance(base, WarmupCosine) and base.lr_min == 0:
        extra = f", start_factor={base.start_factor:g}" if base.start_factor else ""
        return f"WarmupCosine({lr:g}, warmup={base.warmup}, total={base.total}{extra})"
    peak = getattr(base, "lr", None)
    if _number(peak) and peak > 0:
        return f"lambda t: {lr / peak:g} * base(t), base being the optimizer's lr schedule"
    return "a schedule of its own (a function of the step t), e.g. lambda t: r * base(t) with base the " \
           "optimizer's lr schedule and r the group's lr over the base's peak"


def _stacklevel() -> int:
    """The stack level of the first frame outside symgrad (the user's sg.compile call)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    level, frame = 1, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        level, frame = level + 1, frame.f_back
    return level


def warn_constant_group_lrs(optimizer, is_schedule) -> None:
    """One `GroupLrWarning` per group that gives a number as its ``lr`` while the optimizer's ``lr``
    is a schedule (``is_schedule(lr)``: optim's ``_schedule``, passed in, as optim imports this
    module); none: nothing."""
    base = getattr(optimizer, "lr", None)
    if not is_schedule(base):
        return
    name = getattr(base, "__name__", None) or type(base).__name__
    for k, group in enumerate(getattr(optimizer, "groups", ()) or ()):
        if not isinstance(group, dict) or not _number(group.get("lr")):
            continue
        lr = float(group["lr"])
        params = ", ".join(repr(getattr(p, "name", p)) for p in group.get("params", ()))
        warnings.warn(
            f"groups[{k}] (parameters {params}) gives lr={lr:g}, a number, while the optimizer's lr is the "
            f"schedule {name}: symgrad keeps the group's lr constant at {lr:g}, where torch's schedulers "
            f"scale every group's lr by the schedule's factor. For torch's behaviour give the group a "
            f"schedule of its own: 'lr': {_suggestion(base, lr)}; to keep it constant on purpose, "
            f"ignore sg.optim.GroupLrWarning (warnings.simplefilter('ignore', sg.optim.GroupLrWarning))",
            GroupLrWarning, stacklevel=_stacklevel())
