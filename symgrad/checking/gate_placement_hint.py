"""Name a gated cell's backward that puts a sigmoid gate r on the wrong side of a matrix product.

Two GRUs place the reset gate differently, and a student who learnt one writes the other's backward:

- r after the product — 11-785's n = tanh(Wnx x + bnx + r ⊙ (Wnh h + bnh)) (column states, weights on
  the left) and torch's n = tanh(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn)) (batch-first rows): the
  gradient reaching the product is r ⊙ d, so dh += Wnh.T @ (r * d) (rows: (d * r) @ W_hn), not
  r * (Wnh.T @ d); dWnh = np.outer(r * d, h) (rows: (d * r).T @ h), not np.outer(d, r * h);
- r before the product — d2l's H̃ = tanh(X @ W_xh + (R * H) @ W_hh + b_h) (Cho et al.'s): the product
  sees R ⊙ H, so dH += R * (d @ W_hh.T), not (d * R) @ W_hh.T; dW_hh = (R * H).T @ d, not H.T @ (d * R).

f is derived again with the product changed in its derivative only. After: g ⊙ (… + A @ B + …)
becomes C + g ⊙ (… + A₀ @ B₀ + …) + (G ⊙ A) @ B (or A @ (G ⊙ B), the state on the right), where A₀,
B₀ and G hold the values of A, B and g and C = −(G ⊙ A₀) @ B₀: the state and the weight take the
gradient of the other placement, the gate its own, every value and every other path kept. Before:
(g ⊙ u) @ B becomes C + G ⊙ (u @ B) + (g ⊙ U₀) @ B₀, C = −G ⊙ (U₀ @ B₀). `hints.find_hint` asks it.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..frontend.functions import sigmoid
from .gate_factor_hints import _gate_of, _short
from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, _transposed_of, differs, value_at

MAX_PRODUCTS = 6


def _is_weight(e) -> bool:
    from ..frontend import tensor as T
    return isinstance(e, T.Tensor) or _transposed_of(e) is not None


def _gated_products(f, w):
    """[(node, g, product, side, how)]: the products A @ B of f holding w whose operand on ``side`` is
    the state a sigmoid gate g multiplies — ``how`` "after": the node g ⊙ (… + A @ B + …), the
    state a tensor; "before": the node A @ B itself, the operand on ``side`` being g ⊙ u."""
    from ..frontend import tensor as T
    out = []
    for m in dict.fromkeys(sp.preorder_traversal(f)):
        if isinstance(m, sp.Mul) and len(m.args) == 2:             # g ⊙ (W @ v + b): the gate after
            for i, a in enumerate(m.args):
                rest = m.args[1 - i]
                if _gate_of(a) is None:
                    continue
                inner = rest.args[0] if isinstance(rest, T.Ewise) else rest
                for t in (inner.args if isinstance(inner, sp.Add) else (inner,)):
                    if isinstance(t, T.TensorMatMul) and t.has(w):
                        out += [(m, a, t, s, "after") for s in (0, 1)
                                if isinstance(t.args[s], T.Tensor) and _is_weight(t.args[1 - s])]
        elif isinstance(m, T.TensorMatMul) and m.has(w):            # (g ⊙ u) @ W: the gate before
            for s in (0, 1):
                a = m.args[s].args[0] if isinstance(m.args[s], T.Ewise) else m.args[s]
                if isinstance(a, sp.Mul) and len(a.args) == 2 and _is_weight(m.args[1 - s]):
                    g = next((x for x in a.args if _gate_of(x) is not None), None)
                    u = next((x for x in a.args if x is not g), None)
                    if g is not None and isinstance(u, T.Tensor):
                        out.append((m, g, m, s, "before"))
    return out[:MAX_PRODUCTS]


def _tr(e) -> str:
    """The text of e.T for a weight e (W or W.T)."""
    inner = _transposed_of(e)
    return inner.name if inner is not None else f"{e.name}.T"


def _texts(w, side, A, B, state) -> tuple[str, str]:
    """(the gate after the product, the gate before it): what d(w) reads in each placement for the
    product A @ B whose operand on ``side`` is the state named ``state``; d the gradient reaching
    the product's sum (dn_pre), r the gate."""
    weight = (A, B)[1 - side]
    if w.name == state:
        if side == 0:                              # rows: u @ M, du = dP @ M.T
            return f"(d * r) @ {_tr(weight)}", f"r * (d @ {_tr(weight)})"
        return f"{_tr(weight)} @ (r * d)", f"r * ({_tr(weight)} @ d)"
    if side == 0:                                  # rows: u @ W (dW = u.T @ dP) or u @ W.T (dW = dP.T @ u)
        if _transposed_of(weight) is not None:
            return f"(d * r).T @ {state}", f"d.T @ (r * {state})"
        return f"{state}.T @ (d * r)", f"(r * {state}).T @ d"
    if len(B.shape) == 1:                          # columns: W @ v, dW = np.outer(dP, v)
        return f"np.outer(r * d, {state})", f"np.outer(d, r * {state})"
    return f"(r * d) @ {state}.T", f"d @ (r * {state}).T"


def _placement_words(how, side, W, state) -> str:
    if how == "after":
        where = (f"torch's GRU: n = tanh(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))" if side == 0 else
                 f"11-785's GRU: n = tanh(Wnx x + bnx + r ⊙ (Wnh h + bnh))")
        return (f"The gate multiplies the product's sum, after the product is taken ({where}; not "
                f"d2l's (R * H) @ W_hh), so r scales the gradient before it goes back through {W}.")
    where = ("d2l's GRU: H̃ = tanh(X @ W_xh + (R * H) @ W_hh + b_h)" if side == 0 else
             "Cho et al.'s GRU: n = tanh(Wnx x + Wnh (r ⊙ h) + bnh)")
    return (f"The gate multiplies {state} before the product ({where}; not torch's r * (h @ W_hn.T + "
            f"b_hn)), so the gradient goes back through {W} first and r then scales what reaches {state}"
            f" — and {W}'s gradient pairs d with r ⊙ {state}, the value the product saw.")


def gate_placement_hint(case: Case):
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    w = case.w
    Cs, Ts = _fitted(case)
    if not isinstance(w, T.Tensor) or not differs(Cs, Ts) or not case.f.has(sigmoid):
        return None
    for node, g, mm, side, how in _gated_products(case.f, w):
        A, B = mm.args
        try:
            gshape, pshape = tuple(T.shape_of(g)), tuple(T.shape_of(mm))
            ashape, bshape = tuple(T.shape_of(A)), tuple(T.shape_of(B))
        except Exception:   # noqa: BLE001 - a product without a tensor shape is not tried
            continue
        gated = (A, B)[side]
        state = gated if how == "after" else next(x for x in (gated.args[0] if isinstance(gated, T.Ewise)
                                                               else gated).args if x is not g)
        sshape = tuple(T.shape_of(state))
        if (gshape != sshape) if how == "after" else (gshape != pshape):
            continue                   # G ⊙ state (after) or G ⊙ (u @ B) (before) must fit
        A0, B0 = T.tensor("_A0", ashape), T.tensor("_B0", bshape)
        G, C, U0 = T.tensor("_G", gshape), T.tensor("_C", pshape), T.tensor("_U0", sshape)
        if how == "after":
            Gs = T.as_tensor(G * state, sshape)
            slipped_mm = Gs @ B if side == 0 else A @ Gs
            new = C + g * node.args[1 - node.args.index(g)].xreplace({mm: A0 @ B0}) + slipped_mm
        else:
            plain = state @ B if side == 0 else A @ state
            held = T.as_tensor(g * U0, sshape)
            new = C + T.as_tensor(G * plain, pshape) + (held @ B0 if side == 0 else A0 @ held)

        def extra(vals, g=g, A=A, B=B, state=state, side=side, how=how, gshape=gshape):
            gv = np.broadcast_to(value_at(g, vals, gshape), gshape)
            av, bv, sv = value_at(A, vals), value_at(B, vals), value_at(state, vals)
            if how == "after":
                gs = gv * sv
                c = -((gs @ bv) if side == 0 else (av @ gs))
            else:
                c = -gv * ((sv @ bv) if side == 0 else (av @ sv))
            return {"_A0": av, "_B0": bv, "_G": gv, "_C": c, "_U0": sv}
        if not _claim_is_gradient_of(case, _rebuilt(case.f, {node: new}), extra):
            continue
        W = (A, B)[1 - side]
        Wname = (_transposed_of(W) or W).name
        after, before = _texts(w, side, A, B, state.name)
        right, slip = (after, before) if how == "after" else (before, after)
        gate = _short(g, 40)
        said = (f"r ⊙ {_short(node.args[1 - node.args.index(g)], 60)}" if how == "after"
                else f"(r ⊙ {state.name}) @ …" if side == 0 else f"… @ (r ⊙ {state.name})")
        read = ((f"(r ⊙ {state.name}) @ {W}" if side == 0 else f"{W} @ (r ⊙ {state.name})") if how == "after"
                else f"r ⊙ ({mm.xreplace({gated: state})})")
        return Hint("gate on the wrong side of the product",
                    f"the claim for {w.name} passes the gradient back through {said} (r = {gate}) as if it "
                    f"were {read} — d{w.name} with {slip} where {right} belongs (d: the gradient reaching the "
                    f"product's sum — the tanh's input, dn_pre). " + _placement_words(how, side, Wname, state.name))
    return None


__all__ = ["gate_placement_hint"]
