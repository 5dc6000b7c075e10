"""Name a backward that leaves in the entries its forward masks out: SimCLR's NT-Xent softmax over a
row of similarities without the row's own (the diagonal set to −inf or −1e9), a causal attention's
scores above the diagonal. The forward writes ``where(mask, -1e9, S)`` (or masked_fill); a backward
that recomputes the softmax from S itself gives those entries a probability, and the claim is the
gradient of f with the where read as its unmasked branch S.
"""
from __future__ import annotations

import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs


def _constant(e) -> bool:
    from ..frontend import tensor as T
    return (isinstance(e, sp.Basic) and e.is_number) or isinstance(e, T.Full)


def masked_branch_hint(case: Case):
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    for n in dict.fromkeys(m for m in sp.preorder_traversal(case.f) if isinstance(m, T.Where)):
        cond, a, b = n.args
        for fill, kept in ((a, b), (b, a)):
            if not _constant(fill) or _constant(kept) or not kept.has(case.w):
                continue
            if _claim_is_gradient_of(case, _rebuilt(case.f, {n: T.as_tensor(kept, tuple(T.shape_of(n)))})):
                value = f"{float(fill):g}" if fill.is_number else str(fill)
                mask = str(cond) if len(str(cond)) <= 40 else "mask"
                return Hint("masked entries left in",
                            f"the claim for {case.w.name} is the gradient with where({mask}, "
                            f"{value}, {kept}) read as {kept} alone — the backward gives a probability (a gradient) to "
                            f"the entries the forward sets to {value}; they must stay masked there too (SimCLR's "
                            f"diagonal, a row's similarity with itself; a causal attention's future): recompute "
                            f"the softmax with the same mask, or set those entries' gradient to 0.")
    return None
