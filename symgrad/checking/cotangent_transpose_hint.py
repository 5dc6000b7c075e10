"""Name a backward that passes a product's gradient on transposed to one factor: attention's
dK = dscores @ Q where dscores.transpose(0, 1, 3, 2) @ Q belongs (scores = Q @ K.T, S × S: the shapes
cannot tell). For m = u @ v, f is derived again with m read as C + u @ V + swap(U @ v) — U, V the
values of u and v, swap the exchange of the last two axes, C = m − u @ V − swap(U @ v) held at the
point — so u's gradient is the right G @ Vᵀ and v's is Uᵀ @ Gᵀ: G transposed. Likewise for u.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs, value_at
from .hint_case import short_text as _text

MAX_PRODUCTS = 6


def _swap(e):
    """e with its last two axes exchanged."""
    n = len(e.shape)
    return e.transpose(*range(n - 2), n - 1, n - 2)


def cotangent_transpose_hint(case: Case):
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    prods = [m for m in dict.fromkeys(sp.preorder_traversal(case.f))
             if isinstance(m, T.TensorMatMul) and m.has(case.w) and len(m.shape) >= 2
             and m.shape[-1] == m.shape[-2]][:MAX_PRODUCTS]
    for m in prods:
        u, v = m.args
        shape = tuple(int(d) for d in m.shape)
        U, V = T.tensor("_U", tuple(int(d) for d in u.shape)), T.tensor("_V", tuple(int(d) for d in v.shape))
        C = T.tensor("_C", shape)
        for side, other, new in (("right", u, C + u @ V + _swap(U @ v)), ("left", v, C + _swap(u @ V) + U @ v)):
            if not (v if side == "right" else u).has(case.w):
                continue

            def extra(vals, u=u, v=v, side=side, U=U, V=V, C=C):
                uv, vv = (value_at(e, vals) for e in (u, v))
                mv = uv @ vv
                sw = lambda a: np.swapaxes(a, -1, -2)      # noqa: E731
                return {U.name: uv, V.name: vv,
                        C.name: mv - uv @ vv - sw(uv @ vv) if side == "right" else mv - sw(uv @ vv) - uv @ vv}
            if _claim_is_gradient_of(case, _rebuilt(case.f, {m: new}), extra):
                factor, kept = (v, u) if side == "right" else (u, v)
                return Hint("the product's gradient transposed",
                            f"the claim passes the gradient G at {_text(m)} to "
                            f"its {side} factor {_text(factor)} as if it were G.T — for m = u @ v the factors' "
                            f"gradients are G @ v.T and u.T @ G; the shapes agree because m is square "
                            f"({shape[-2]} × {shape[-1]}), so nothing fails (attention's scores = Q @ K.T: "
                            f"dK = dscores.transpose(0, 1, 3, 2) @ Q, not dscores @ Q).")
    return None
