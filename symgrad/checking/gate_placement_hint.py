"""Name a GRU backward that puts the reset gate on the wrong side of its product: 11-785's cell has
n = tanh(Wnx x + bnx + r ⊙ (Wnh h + bnh)), so the gradient reaching Wnh h + bnh is r ⊙ dn_pre and

    dh     += Wnh.T @ (r * dn_pre)        not   r * (Wnh.T @ dn_pre)
    dWnh    = np.outer(r * dn_pre, h)     not   np.outer(dn_pre, r * h)

— the slips read as the other GRU's n = tanh(… + Wnh (r ⊙ h) + bnh) (Cho et al.'s, with r on h
before the product). f is derived again with the product g ⊙ (W @ v + b) of a sigmoid gate g
changed in its derivative only: it becomes C + g ⊙ (W₀ @ v₀ + b) + W @ (G ⊙ v), where W₀, v₀ and G
hold the values of W, v and g and C = −W₀ @ (G ⊙ v₀) (constants at the point), so that v and W take
the gradient of W @ (r ⊙ v) and every value and every other path is kept. `hints.find_hint` asks it.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..frontend.functions import sigmoid
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs, value_at

MAX_PRODUCTS = 6


def _gated_products(f, w):
    """[(m, g, W, v)]: each product m = g ⊙ (… + W @ v + …) of f with g a sigmoid gate and w W or v."""
    from ..frontend import tensor as T
    from .gate_factor_hints import _sig
    out = []
    for m in dict.fromkeys(sp.preorder_traversal(f)):
        if not (isinstance(m, sp.Mul) and len(m.args) == 2):
            continue
        for i, a in enumerate(m.args):
            g, rest = _sig(a), m.args[1 - i]
            if g is None or g is not a:
                continue
            terms = rest.args if isinstance(rest, sp.Add) else (rest,)
            for t in terms:
                if isinstance(t, T.TensorMatMul) and w in (t.args[0], t.args[1]) and isinstance(t.args[1], T.Tensor):
                    out.append((m, g, rest, t))
    return out[:MAX_PRODUCTS]


def gate_placement_hint(case: Case):
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    w = case.w
    Cs, Ts = _fitted(case)
    if not isinstance(w, T.Tensor) or not differs(Cs, Ts) or not case.f.has(sigmoid):
        return None
    for m, g, rest, mm in _gated_products(case.f, w):
        W, v = mm.args
        try:
            gshape, vshape, mshape = (tuple(T.shape_of(e)) for e in (g, v, mm))
        except Exception:   # noqa: BLE001 - a product without a tensor shape is not tried
            continue
        W0, v0, G, C = (T.tensor(n, s) for n, s in (("_W0", tuple(W.shape)), ("_v0", vshape),
                                                    ("_G", gshape), ("_C", mshape)))

        def extra(vals, g=g, W=W, v=v, gshape=gshape):
            gv = np.broadcast_to(value_at(g, vals, gshape), gshape)
            Wv, vv = np.asarray(vals[W.name], float), np.asarray(vals[v.name], float)
            return {"_W0": Wv, "_v0": vv, "_G": gv, "_C": -(Wv @ (gv * vv))}
        slipped = C + g * rest.xreplace({mm: W0 @ v0}) + W @ T.as_tensor(G * v, vshape)
        if not _claim_is_gradient_of(case, _rebuilt(case.f, {m: slipped}), extra):
            continue
        gate = f"σ(… {next(n for n in sp.preorder_traversal(g.args[0]) if isinstance(n, T.TensorMatMul))} …)"
        right, slip = ((f"{W.name}.T @ (r * d)", f"r * ({W.name}.T @ d)") if w == v else
                       (f"np.outer(r * d, {v.name})", f"np.outer(d, r * {v.name})"))
        return (f"gate on the wrong side of the product: the claim for {w.name} passes the gradient back "
                f"through r ⊙ ({rest}) (r = {gate}) as if it were {W.name} @ (r ⊙ {v.name}) — "
                f"d{w.name} with {slip} where {right} belongs (d: the gradient reaching n's argument, "
                f"dn_pre). The gate multiplies {W.name} @ {v.name} after the product (11-785's GRU: "
                f"n = tanh(Wnx x + bnx + r ⊙ (Wnh h + bnh)), not tanh(… + Wnh (r ⊙ h) + bnh)), so r "
                f"scales the gradient before it goes back through {W.name}.")
    return None


__all__ = ["gate_placement_hint"]
