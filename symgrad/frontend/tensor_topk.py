"""``torch.topk(x, k, dim)``: the k largest entries along an axis and their indices, as a
composition — k rounds of (max, argmax, mask the chosen entry with −inf) — so the gradient needs no
rule of its own: each value's gradient goes to the entry it was read from, as torch's (at ties, to
the first of the tied entries not yet taken; torch's order among ties is unspecified, the values
agree). O(k·n) for an axis of n entries; the axis must have a fixed size.

A mixture-of-experts router (top-2 gating):

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> logits = sg.tensor("logits", (N, 4))
>>> vals, idx = sg.topk(logits, 2, dim=-1)            # or logits.topk(2)
>>> gates = sg.softmax(vals, axis=-1)
>>> vals.shape, idx.shape, idx.is_integer_tensor
((N, 2), (N, 2), True)
>>> weights = (gates[..., None] * sg.one_hot(idx, 4)).sum(axis=1)   # (N, 4), zero off the chosen
"""
from __future__ import annotations

from collections import namedtuple

from . import tensor as T
from .keywords import check_flag, keywords
from ..errors import ArgumentError, ShapeError

__all__ = ["topk", "TopK"]

# torch.return_types.topk: unpacks as (values, indices), and has the two names
TopK = namedtuple("topk", ["values", "indices"])


@keywords()
def topk(x, k, dim=T.DefaultAxis(-1), largest=True, sorted=True, *, axis=None):  # noqa: A002 - torch's names
    """``torch.topk(x, k, dim=-1, largest=True, sorted=True)``: a pair ``(values, indices)`` of
    x's shape with k entries on ``dim`` (``axis=`` is NumPy's name for it; both given is an
    `ArgumentError`), the largest first (``largest=False``: the smallest first). The values are
    always sorted (torch's sorted=False leaves the order unspecified, so this order is one it allows)."""
    x = T._tensor_arg(x, "topk")
    ax = T.normalize_axis(_dim_or_axis(dim, axis), x.ndim, "topk", x)
    n = x.shape[ax]
    if not isinstance(n, int):
        raise ShapeError(f"topk: axis {ax} of {x} has the size {n}; topk needs an axis of fixed size "
                         f"(the classes, the experts, the positions), not the batch")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise ArgumentError(f"topk: k must be an integer in 1 … {n} (the size of axis {ax} of {x}), got {k!r}")
    check_flag("topk", "largest", largest)
    check_flag("topk", "sorted", sorted)
    rest = x if largest else -x
    values, indices = [], []
    for j in range(k):
        i = T.argmax(rest, ax)
        values.append(rest.max(axis=ax, keepdims=True))
        indices.append(i)
        if j < k - 1:                       # the chosen entry leaves the race
            rest = T.where(T.one_hot(i, n, axis=ax) > 0, float("-inf"), rest)
    v = values[0] if k == 1 else T.concat(values, axis=ax)
    return TopK(v if largest else -v, T.stack(indices, axis=ax))


def _dim_or_axis(dim, axis):
    """topk's axis: torch's ``dim`` (positional, default -1) or NumPy's ``axis=``; both given — even
    ``dim=-1`` written out, told from the default by `DefaultAxis` — is an error naming both (``axis``
    silently won)."""
    if axis is not None:
        if not isinstance(dim, T.DefaultAxis):
            raise ArgumentError(f"topk: give dim= or NumPy's axis=, not both (got dim={dim!r} and axis={axis!r})")
        return axis
    return dim.value if isinstance(dim, T.DefaultAxis) else dim


T.BY_LATER_MODULES["topk"] = topk          # torch's x.topk(k, dim)
