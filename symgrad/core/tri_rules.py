"""The triangular masks of attention, one rule row each (same table as `rules.py`), and the lowering
of `symgrad.frontend.tensor_tri.Tri` to them.

    tril[k](x)    x[..., i, j] where j ≤ i + k, else 0 (last two axes)     vjp: tril[k](ḡ)
    triu[k](x)    x[..., i, j] where j ≥ i + k, else 0                     vjp: triu[k](ḡ)

Both are linear and diagonal in the entries (each output entry is its input entry or 0), so each is
its own adjoint and its own tangent map. A causal mask ``sg.tril(sg.ones((T, T)))`` is ``tril`` of a
constant; ``sg.where(mask > 0, s, -inf)`` is then an ``ewise`` with a ``Piecewise`` body.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import lower as L
from . import rules as R
from .placeholders import ph
from .array_rules import _prim, _targs
from .ir import Graph, Var
from ..frontend import tensor_tri as TT

tril_p = _prim("tril", "lower triangle (a mask)", lambda p: f"k={p[0]}")
triu_p = _prim("triu", "upper triangle (a mask)", lambda p: f"k={p[0]}")


def tri(g: Graph, x: Var, k: int, upper: bool) -> Var:
    return g.bind(triu_p if upper else tril_p, (x,), (int(k),))


for _p, _np, _upper in ((tril_p, np.tril, False), (triu_p, np.triu, True)):
    _p.shape = lambda shapes, params: shapes[0]
    _p.impl = (lambda f: lambda args, params: f(np.asarray(args[0], float), params[0]))(_np)
    _p.vjp = (lambda u: lambda g, eqn, ct, want: [tri(g, ct, eqn.params[0], u)])(_upper)
    _p.jvp = (lambda u: lambda g, eqn, t: tri(g, t[0], eqn.params[0], u))(_upper)
    _p.to_sympy = (lambda u: lambda args, params, shape: TT.Tri(_targs(args)[0], sp.Integer(params[0]),
                                                                 sp.true if u else sp.false))(_upper)
del _p, _np, _upper

L._on(TT.Eye)(L._Handler(lambda low, e: e.parts(),           # eye(n, m, k): tril(ones, k) ⊙ triu(ones, k)
                         lambda low, e, a: R.ewise(low.graph, ph(0) * ph(1), a[0], a[1], shape=a[0].shape)))
L._on(TT.Tri)(L._Handler(lambda low, e: (e.x,), lambda low, e, a: tri(low.graph, a[0], e.k, e.upper)))

__all__ = ["tril_p", "triu_p", "tri"]
