"""Name a backward that undoes a transpose with a reshape: a multi-head attention's heads split as
``x.reshape(N, S, H, Dh).transpose(0, 2, 1, 3)`` and their gradient merged back as
``dQh.reshape(N, S, E)`` without ``.transpose(0, 2, 1, 3)`` first — the entries keep the heads'
order. f is derived again with one permute p = x.transpose(perm) read as C + x.reshape(p's shape),
C = p − x.reshape(…) held at the point: the value is p's, and the gradient reaches x as
G.reshape(x.shape) where G.transpose(the inverse permutation) belongs.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs, short_text, value_at

MAX_PERMUTES = 6


def permute_reshape_hint(case: Case):
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    perms = [n for n in dict.fromkeys(sp.preorder_traversal(case.f))
             if isinstance(n, T.Permute) and n.has(case.w) and len(n.axes) > 2][:MAX_PERMUTES]
    for p in perms:
        x = p.args[0]
        shape = tuple(int(d) for d in p.shape)
        C = T.tensor("_C", shape)

        def extra(vals, p=p, x=x, shape=shape, C=C):
            pv = value_at(p, vals)
            return {C.name: pv - value_at(x, vals).reshape(shape)}
        if _claim_is_gradient_of(case, _rebuilt(case.f, {p: C + x.reshape(*shape)}), extra):
            inverse = tuple(int(i) for i in np.argsort(p.axes))
            xs = tuple(int(d) for d in x.shape)
            return Hint("a transpose undone by a reshape",
                        f"the gradient reaching {short_text(x, 50)} through its "
                        f".transpose{p.axes} is read back with .reshape{xs} alone — the backward of "
                        f".transpose{p.axes} is .transpose{inverse}, then the reshape; without it the entries "
                        f"stay in the transposed order (a multi-head attention's heads merged back as "
                        f"dQh.reshape(N, S, E) where dQh.transpose(0, 2, 1, 3).reshape(N, S, E) belongs).")
    return None
