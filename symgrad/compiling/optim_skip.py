"""Parameters that get no gradient: left alone by the step, as torch's optimizers leave them.

torch's ``optimizer.step()`` skips a parameter whose ``.grad`` is None — no weight decay, no
momentum, no moment update, not even its state's creation. A parameter's ``.grad`` is None when the
loss does not use it, or uses it only through ``.detach()`` or where torch's autograd graph has no
edge: a comparison (``u > 0`` is a bool tensor), so the condition of ``torch.where(u > 0, a, b)``.
A parameter that IS reached by autograd but whose derivative is zero gets a zero tensor, and torch
decays it: a relu on a dead path, ``torch.sign(u)``, ``floor``, ``round``.

symgrad tells the two apart the same way, by the PATHS of the forward graph and not by the value of
the derivative (reverse mode gives None for ``sign(u)``, whose derivative is identically zero, yet
torch decays u): `without_gradient` walks back from the loss and does not cross a stop_gradient, a
Piecewise condition, a ``Heaviside`` (a step function: a comparison in torch, whose own
``torch.heaviside`` has no derivative at all), an arg-max or an integer index. A parameter reached
so gets its gradient — zero or not — and the step updates it; the others are skipped, the step says
so in a comment, and `compile` warns naming them (`NoGradientWarning`). The gradients themselves
are those of reverse mode either way (``Program.grad`` gives zeros for both kinds).

>>> import warnings, sympy as sp, symgrad as sg
>>> w, u, x = sp.symbols("w u x")
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     prog = sg.compile(w * x + sg.stop_gradient(u) * x, [w, u], [x],
...                       optimizer=sg.optim.AdamW(weight_decay=0.1))
>>> print(caught[0].message)        # doctest: +ELLIPSIS
sg.compile: the parameter 'u' gets no gradient from the loss (it is not used, or only through stop_gradient / .detach(), ...): the training step leaves it unchanged...
"""
from __future__ import annotations

import warnings

import sympy as sp

from ..core.placeholders import ph
from ..core.rules import ewise_p
from ..frontend.stop_gradient import stop_gradient


class NoGradientWarning(UserWarning):
    """A parameter of ``sg.compile`` gets no gradient: the step will leave it unchanged."""


# the inputs of a primitive that torch's autograd never differentiates (None: all of them): indices
# and arg-maxes are integers in torch
_NO_EDGE = {"argmax": None, "argmax_entry": None, "one_hot": None, "gather": (1,), "take_row": (1,),
            "take": (1,), "scatter_add": (1,)}
# in an ewise body: what torch's autograd has no edge through (a step and a comparison are bool tensors)
_NO_PATH = (stop_gradient, sp.Heaviside, sp.core.relational.Relational, sp.logic.boolalg.Boolean)


def _read(body) -> set:
    """The symbols the ewise body reads where torch's autograd would see them: not those only inside
    a stop_gradient, a Piecewise condition, a Heaviside step or a comparison. One walk over the
    distinct subexpressions (a sum over 3000 paths has 3000 placeholders)."""
    found, seen, stack = set(), set(), [body]
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        if isinstance(e, sp.Symbol):
            found.add(e)
        elif isinstance(e, sp.Piecewise):
            stack.extend(piece.expr for piece in e.args)
        elif not isinstance(e, _NO_PATH):
            stack.extend(e.args)
    return found


def _reached(lw) -> set:
    """The var ids from which the loss of the `Lowered` ``lw`` is reached by a path that torch's
    autograd would differentiate (see the module's docstring)."""
    graph, seen, stack = lw.graph, set(), [lw.loss.id]
    while stack:
        vid = stack.pop()
        if vid in seen:
            continue
        seen.add(vid)
        eqn = graph.producer[vid]
        if eqn.prim.leaf:
            continue
        if eqn.prim is ewise_p:
            read = _read(eqn.params[0])
            stack.extend(v.id for i, v in enumerate(eqn.inputs) if ph(i) in read)
            continue
        cut = _NO_EDGE.get(eqn.prim.name, ())
        stack.extend(v.id for i, v in enumerate(eqn.inputs) if cut is not None and i not in cut)
    return seen


def paths_without_gradient(lw) -> tuple:
    """The indices of the parameters of ``lw`` (a `Lowered` with its stop_gradients still in it) that
    the loss reaches by no path torch's autograd would differentiate: torch's ``.grad`` is None."""
    reached = _reached(lw)
    return tuple(i for i, vid in enumerate(lw.params) if vid is None or vid not in reached)


def without_gradient(params, lw) -> list:
    """The indices of the parameters that get no gradient (torch: ``.grad`` is None), for the
    `Lowered` ``lw`` of the training step: the ones `symgrad.compiling.strip_stops` recorded before
    it took the stop_gradients out, else found by walking ``lw``'s graph and recorded there (the walk
    runs once per lowering: `compile`'s warning, strip_stops and the backend all ask)."""
    idle = getattr(lw, "no_gradient", None)
    if idle is None:
        idle = paths_without_gradient(lw)
        if hasattr(lw, "no_gradient"):
            lw.no_gradient = idle
    return [i for i in idle if i < len(params)]


def warn_no_gradient(params, lw, target: str = "numpy", stacklevel: int = 4) -> None:
    """One `NoGradientWarning` naming the parameters without a gradient (none: nothing) of the
    training `Lowered` ``lw``. Every target's step skips them (the NumPy and the Triton update
    alike); ``target`` is kept for the callers' sake."""
    idle = without_gradient(params, lw)
    if not idle:
        return
    names = ", ".join(repr(params[i].name) for i in idle)
    one = len(idle) == 1
    them = "it" if one else "them"
    what = (f"the training step leaves {them} unchanged — no weight decay, no momentum, no update of the "
            f"optimizer's state — as torch's optimizers skip a parameter whose .grad is None")
    warnings.warn(
        f"sg.compile: the parameter{'' if one else 's'} {names} get{'s' if one else ''} no gradient from the "
        f"loss ({'it is' if one else 'they are'} not used, or only through stop_gradient / .detach(), a Piecewise "
        f"condition, a Heaviside step or an integer index): {what}; Program.grad gives "
        f"{'its' if one else 'their'} gradient as zeros", NoGradientWarning, stacklevel=stacklevel)


def skip_comment(i: int, name: str, rule: str) -> list:
    """The generated step's comment where parameter p{i} would be updated."""
    return [f"p{i} (the parameter {name}) gets no gradient: not updated by {rule} — no weight decay, no "
            f"momentum, its optimizer state unchanged — as torch's optimizer.step() skips a parameter "
            f"whose .grad is None"]


__all__ = ["NoGradientWarning", "paths_without_gradient", "without_gradient", "warn_no_gradient", "skip_comment"]
