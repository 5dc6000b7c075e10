"""A pooling layer as one step of the text, as the picture draws it (`symgrad.teaching.graph_folds`):
u = max_pool2d(y, 2) in the forward pass, and ∂L/∂y = max_pool2d_backward(∂L/∂u, y, 2) with the
pooling switch in the backward pass, not the lowering's windows → reshape → max over the window and
its fold. `symgrad.teaching.steps` numbers the nodes inside a pool last and shows none of them.

>>> import symgrad as sg
>>> y = sg.tensor("y", (1, 2, 4, 4))
>>> d = sg.derive(sg.sum(sg.max_pool2d(y, 2) ** 2), [y])
>>> eqns = d.ir.ancestors([d.output])
>>> from symgrad.teaching.graph_folds import _users
>>> [(p.kind, p.label) for p in _pool_groups(d.ir, _users(eqns), eqns, d.output.id).values()]
[('max', 'max pool 2×2')]
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..core import array_rules as A
from ..core import conv_rules as CR


@dataclass
class PoolGroup:
    """A pooling layer of the lowering, shown as one node: its windows equation, the kind ("max" or
    "avg"), the ids of the equations inside it, and the id of the one graph_folds draws it as."""
    windows: Any
    kind: str
    inner: set
    end: int
    label: str = ""

    def rule(self) -> str:
        if self.kind == "max":
            return (f"{self.label}: each window's gradient goes to its first arg-max, 0 elsewhere "
                    f"(the pooling switch)")
        k = math.prod(int(n) for n in self.windows.params[0])
        return f"{self.label}: each window's gradient is spread over it, 1/{k} to each entry"

    def display(self, x):
        """max_pool2d(x, 2) of the display symbol ``x`` of the pool's input."""
        from ..frontend import conv as C
        kernel, stride, pads, _, _ = self.windows.params
        cls = C.MaxPool if self.kind == "max" else C.AvgPool
        return cls(x, sp.Tuple(*kernel), sp.Tuple(*stride), sp.Tuple(*[lo for lo, _ in pads]))

    def backward(self, g, x):
        from .notation import PoolBackward
        kernel, stride, pads, _, _ = self.windows.params
        return PoolBackward(g, x, sp.Symbol(self.kind), sp.Tuple(*kernel), sp.Tuple(*stride),
                            sp.Tuple(*[lo for lo, _ in pads]))


def _pool_groups(g, consumers, fwd, root) -> dict:
    """{the id that carries a pool's value: PoolGroup}, for the pools `graph_folds.pooling` finds
    whose padding is even on both sides and which are not dilated (those max_pool2d writes); the
    reshape that drops a max's kept window axis is part of the pool."""
    from .graph_folds import pooling
    out = {}
    for end, (label, inner) in pooling(g, consumers, fwd).items():
        w = next(g.producer[i] for i in inner if g.producer[i].prim is CR.windows_p)
        kernel, stride, pads, dil, _ = w.params
        if any(lo != hi for lo, hi in pads) or any(x != 1 for x in dil):
            continue
        last, inner = end, set(inner)
        cs = consumers.get(end, [])
        # only the reshape that drops the window axis the max kept: (N, C, 2, 2, 1) → (N, C, 2, 2); a
        # flatten after the pool (p.reshape(N, -1)), merged into it by the lowering, is a step of its own
        if (end != root and len(cs) == 1 and cs[0].prim is A.reshape_p
                and tuple(cs[0].out.shape) == tuple(g.producer[end].out.shape[:-1])):
            last = cs[0].out.id
            inner.add(end)
        out[last] = PoolGroup(w, "max" if label.startswith("max") else "avg", inner, end, label)
    return out
