"""Elementwise bounds, as NumPy and PyTorch write them: ``sg.clip(x, lo, hi)`` (``x.clip(lo, hi)``,
torch's ``clamp``), ``sg.maximum(a, b)`` and ``sg.minimum(a, b)`` with broadcasting.

``sg.max`` / ``sg.min`` are the reductions over an axis (NumPy's ``max``); ``maximum`` / ``minimum``
compare two arrays entry by entry (NumPy's ``maximum``).

The subgradient policy (``symgrad/core/policy.py``) at the kinks:

- clip'(x) = 1 for lo ≤ x ≤ hi, 0 outside: **1 at both bounds**, as relu'(0) = 1 (relu is
  clip(x, 0, None)) and as ``torch.clamp``'s backward; ``Subgradients(relu_at_zero=0)`` makes it 0
  at both bounds (``torch.nn.functional.hardtanh``'s choice; `sg.hardtanh` is always 0 there).
- Bounds may be tensors (parameters too), broadcast with x as ``np.clip`` and ``torch.clamp`` take
  them. A bound takes the gradient where it is active: lo where x < lo ≤ hi, hi where x > hi or
  where the bounds cross (lo > hi: the value is hi, as min(max(x, lo), hi)). The three gradients
  add up to 1 everywhere. ``torch.clamp`` agrees except at lo = hi with x < lo, where torch gives
  nobody the gradient; here lo takes it (`symgrad.frontend.functions.clip_derivative`).
- maximum / minimum at a tie route the whole gradient to one argument (the first in SymPy's
  canonical order, the ``max`` policy); torch splits it in halves there, as
  ``Subgradients(max_ties="split")`` does.

>>> import sympy as sp, symgrad as sg
>>> x = sg.tensor("x", (4, 3))
>>> x.clip(-1, 2)
clip(x, -1, 2)
>>> sg.grad(x.clip(-1, 2).sum(), x)
Heaviside(2 - x, 1)*Heaviside(x + 1, 1)
>>> lo = sg.tensor("lo", (3,))                   # a learned bound per column
>>> sg.grad(x.clip(lo).sum(), lo)
-Heaviside(-lo + x, 1).sum(axis=0) + ones((4, 3)).sum(axis=0)
>>> sg.maximum(x, sg.tensor("b", (3,))).shape
(4, 3)
"""
from __future__ import annotations

import sympy as sp

from . import tensor as T
from .functions import clip as Clip, relu   # Clip: the SymPy function that clip() below builds
from .parse import as_expr
from .parse import register_tensor_function as _register_text
from ..errors import ArgumentError

__all__ = ["Clip", "clip", "maximum", "minimum"]


def _bound(v, name):
    """A bound of clip: a number, a scalar symbol or a tensor (broadcast against x, as np.clip and
    torch.clamp take them); None is no bound."""
    if v is None:
        return None
    given = type(v).__name__
    if isinstance(v, bool) or given == "bool_" or isinstance(v, (list, tuple)) or (
            hasattr(v, "shape") and not isinstance(v, sp.Basic) and getattr(v, "ndim", 1) != 0):
        # np.clip takes an array of bounds; here its values come with the data, as a tensor's
        what = "a truth value" if given in ("bool", "bool_") else f"an array ({given})"
        raise ArgumentError(f"clip: the bound {name} is {what}; a bound is a number, a scalar symbol or a "
                            f"tensor (broadcast with x). For an array of bounds declare a tensor, "
                            f"sg.tensor('{name}', shape), and give its values with the data (or as a "
                            f"parameter)")
    v = as_expr(v, name)
    if isinstance(v, sp.MatrixExpr):
        raise ArgumentError(f"clip: the bound {name} = {v} is a matrix (MatrixSymbol); clip takes a "
                            f"number, a scalar symbol or a tensor (sg.tensor) for each bound")
    if T.is_tensor_expr(v):
        return T.as_tensor(v)
    if v.is_number and not v.is_extended_real:
        raise ArgumentError(f"clip: the bound {name} = {v} is not a real number")
    return v


def _keyword_bound(v, name, spelled):
    """The one bound given positionally or under one of its keyword names; two is an ArgumentError."""
    given = [(n, b) for n, b in ((name, v),) + spelled if b is not None]
    if len(given) > 1:
        raise ArgumentError(f"clip: the bound {name} given twice, as {' and '.join(n + '=' for n, _ in given)}; "
                            f"give it once")
    return given[0][1] if given else None


def clip(x, lo=None, hi=None, *, min=None, max=None, a_min=None, a_max=None):  # noqa: A002
    """NumPy's ``np.clip(x, lo, hi)`` / torch's ``clamp(x, min, max)``, elementwise; either bound may
    be None (no bound on that side), not both. A bound is a number, a scalar symbol or a tensor
    (a parameter too), broadcast with x as NumPy broadcasts: the result has the shape of the three
    broadcast together. lo > hi is an `ArgumentError` when both are numbers; where tensor bounds
    cross at run time the result is hi, as NumPy and torch compute min(max(x, lo), hi). The
    gradient is 1 for lo ≤ x ≤ hi, bounds included; a tensor bound gets it where it is active
    (x < lo for lo, x > hi for hi; see the module). The bounds may be given by keyword as
    ``jnp.clip(x, min=, max=)`` and torch's ``clamp`` name them, or NumPy's ``a_min=``/``a_max=``."""
    lo = _keyword_bound(lo, "lo", (("min", min), ("a_min", a_min)))
    hi = _keyword_bound(hi, "hi", (("max", max), ("a_max", a_max)))
    x = as_expr(x, "x")
    lo, hi = _bound(lo, "lo"), _bound(hi, "hi")
    if lo is None and hi is None:
        raise ArgumentError(f"clip of {x}: give at least one bound, clip(x, lo, hi) (None for no bound)")
    present = [(v, n) for v, n in ((x, "x"), (lo, "lo"), (hi, "hi")) if v is not None]
    tensor = any(T.is_tensor_expr(v) for v, _ in present)
    if tensor:
        T.broadcast_shapes(*(T.shape_of(v) for v, _ in present),
                           names=[f"{n} = {v}" for v, n in present])
    wrap = T.as_tensor if tensor else (lambda e: e)
    if lo is not None and hi is not None:
        if lo.is_number and hi.is_number and bool(lo > hi):
            raise ArgumentError(f"clip of {x}: the lower bound {lo} is above the upper bound {hi}; "
                                f"clip(x, lo, hi) needs lo <= hi")
        return wrap(Clip(x, lo, hi))
    if hi is None:                                # x ≥ lo: lo + relu(x − lo), relu'(0) = 1 at lo
        return wrap(lo + relu(x - lo))
    return wrap(hi - relu(hi - x))


def _two(a, b, who):
    a, b = as_expr(a, "a"), as_expr(b, "b")
    if not (T.is_tensor_expr(a) or T.is_tensor_expr(b)):
        raise ArgumentError(f"{who}({a}, {b}): for tensors (sg.tensor); of scalars write "
                            f"sp.{'Max' if who == 'maximum' else 'Min'}({a}, {b})")
    T.broadcast_shapes(T.shape_of(a), T.shape_of(b), names=[str(a), str(b)])
    return a, b


def maximum(a, b):
    """NumPy's ``np.maximum(a, b)`` / ``torch.maximum``: the larger entry, with broadcasting (not the
    reduction over an axis, which is `sg.max`). At a tie the whole gradient goes to the first of
    SymPy's sorted arguments (``sp.Max(a, b).args``), not to the first written nor ½ to each as
    torch's: see docs/core.md, Subgradients."""
    a, b = _two(a, b, "maximum")
    return T.as_tensor(sp.Max(a, b))


def minimum(a, b):
    """NumPy's ``np.minimum(a, b)`` / ``torch.minimum``: the smaller entry, with broadcasting."""
    a, b = _two(a, b, "minimum")
    return T.as_tensor(sp.Min(a, b))


T.BY_LATER_MODULES["clip"] = clip          # x.clip(lo, hi), x.clamp(min, max)
T.BY_LATER_MODULES.update(maximum=maximum, minimum=minimum)   # torch's x.maximum(y), x.minimum(y)
# The text reads these (symgrad/frontend/parse.py): clip(x, -1, 1) (bounds: number constants or
# None; tensor bounds only in Python), maximum(x, 0) and minimum(a, b) (a tensor either operand)
_register_text("clip", clip, (2, 3), rest=("bound", "bound"), keywords={})
_register_text("maximum", maximum, (2, 2), rest=("operand",), keywords={}, any_operand=True)
_register_text("minimum", minimum, (2, 2), rest=("operand",), keywords={}, any_operand=True)
