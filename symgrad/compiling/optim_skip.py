"""Parameters that get no gradient: left alone by the step, as torch's optimizers leave them.

torch's ``optimizer.step()`` skips a parameter whose ``.grad`` is None — no weight decay, no
momentum, no moment update, not even its state's creation. A parameter's ``.grad`` is None when the
loss does not use it, or uses it only through ``.detach()``; a parameter that IS used but whose
gradient happens to be zero (a relu on a dead path) gets a zero tensor, and torch decays it.
symgrad tells the two apart the same way: reverse mode gives no gradient at all (None) to a
parameter the loss reaches by no differentiable path (`symgrad.core.reverse.backward`), and a
gradient — zero or not — to every other. The compiled step skips the first kind's update, says so
in a comment, and `compile` warns naming them (`NoGradientWarning`).

>>> import warnings, sympy as sp, symgrad as sg
>>> w, u, x = sp.symbols("w u x")
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     prog = sg.compile(w * x + sg.stop_gradient(u) * x, [w, u], [x],
...                       optimizer=sg.optim.AdamW(weight_decay=0.1))
>>> print(caught[0].message)        # doctest: +ELLIPSIS
sg.compile: the parameter 'u' gets no gradient from the loss (it is not used, or only through stop_gradient / .detach()): the training step leaves it unchanged...
"""
from __future__ import annotations

import warnings


class NoGradientWarning(UserWarning):
    """A parameter of ``sg.compile`` gets no gradient: the step will leave it unchanged."""


def without_gradient(params, grads) -> list:
    """The indices of the parameters whose gradient is None (no differentiable path to the loss)."""
    return [i for i, g in enumerate(grads) if g is None and i < len(params)]


def warn_no_gradient(params, grads, target: str = "numpy", stacklevel: int = 4) -> None:
    """One `NoGradientWarning` naming the parameters without a gradient (none: nothing). Every
    target's step skips them (the NumPy and the Triton update alike); ``target`` is kept for the
    callers' sake."""
    idle = without_gradient(params, grads)
    if not idle:
        return
    names = ", ".join(repr(params[i].name) for i in idle)
    one = len(idle) == 1
    them = "it" if one else "them"
    what = (f"the training step leaves {them} unchanged — no weight decay, no momentum, no update of the "
            f"optimizer's state — as torch's optimizers skip a parameter whose .grad is None")
    warnings.warn(
        f"sg.compile: the parameter{'' if one else 's'} {names} get{'s' if one else ''} no gradient from the "
        f"loss ({them} {'is' if one else 'are'} not used, or only through stop_gradient / .detach()): {what}; "
        f"Program.grad gives {'its' if one else 'their'} gradient as zeros", NoGradientWarning, stacklevel=stacklevel)


def skip_comment(i: int, name: str, rule: str) -> list:
    """The generated step's comment where parameter p{i} would be updated."""
    return [f"p{i} (the parameter {name}) gets no gradient: not updated by {rule} — no weight decay, no "
            f"momentum, its optimizer state unchanged — as torch's optimizer.step() skips a parameter "
            f"whose .grad is None"]


__all__ = ["NoGradientWarning", "without_gradient", "warn_no_gradient", "skip_comment"]
