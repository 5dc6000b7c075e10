"""A dropout backward whose mask is not the forward's: cs231n's dropout_backward with the mask made
again from a tensor that is nonzero everywhere (``mask = (x != 0) / (1 - p)``, or from dout: every
entry kept), or read off another tensor's sign (``(x > 0) / (1 - p)``, a relu's mask where the
dropout's belongs). `layer_hints.factor_left_out_hint` names the mask left out altogether (the claim
is the gradient with the mask = 1); here f is evaluated again with the mask replaced by each of
those values at each point, and the claim compared with that gradient."""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..frontend.masks import masks_in
from .hint_case import Case, _fitted, all_same, differs
from .hint_kind import Hint


def dropout_mask_hint(case: Case):
    from ..frontend import tensor as T
    D = case.derivation
    g = D.gradient_vars[case.k]
    masks = [m for m in masks_in(case.f) if isinstance(m, T.Tensor)]
    if g is None or not masks:
        return None
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    for m in masks:
        scale = 1 / (1 - m.p)
        shape = tuple(m.shape)
        signs = sorted((a for a in case.f.atoms(T.Tensor) if a.name != m.name and a.name not in
                        {k.name for k in masks} and not a.is_integer_tensor and tuple(a.shape) == shape),
                       key=lambda a: a.name)
        cands = [(lambda vals: np.full(np.shape(vals[m.name]), scale),
                  f"the claim keeps every entry, each scaled by 1/(1 − p) = {scale:g}: its mask is nonzero "
                  f"everywhere — made again from x or dout ((x != 0), (dout != 0)), not the mask the "
                  f"forward drew")]
        for a in signs:
            for k, how in ((scale, f" / (1 - p)"), (1.0, "")):
                cands.append((lambda vals, a=a, k=k: (np.asarray(vals[a.name], float) > 0) * k,
                              f"the claim masks with ({a.name} > 0){how}, the sign of {a.name}, where the "
                              f"dropout's own mask belongs"))
        for value, said in cands:
            vals = case.eval_vars(D.ir, [g], lambda v, value=value, name=m.name: {name: value(v)})
            if all_same(Cs, [np.broadcast_to(v[0], t.shape) for v, t in zip(vals, Ts)]):
                return Hint("another mask than the dropout's",
                            f"{said}. The backward multiplies by the same mask as the forward, passed to "
                            f"it as mask (cs231n keeps it in the cache): dx = dout * mask.")
    return None


__all__ = ["dropout_mask_hint"]
