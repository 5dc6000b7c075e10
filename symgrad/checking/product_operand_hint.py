"""Name an elementwise product layer's backward that multiplies dout by the variable's own value:
out = x * w with dx = dout * x where dout * w belongs (the derivative of a product with respect to one
factor is the other factor).

f is derived again with one product x ⊙ b of f — a layer's output, as check_backward made f of it
(`layer_outputs`), or one inside it — changed in its derivative only: x ⊙ b becomes
C + x ⊙ K + X ⊙ b, K holding x's own value (broadcast to the product's shape), X x's value and
C = x ⊙ b − x ⊙ K − X ⊙ b (constants at the point), so ∂/∂x takes K, b's derivative keeps x's value,
and every value is kept. Tried before `other_gradient_hint`: where x and b have one shape, dout * x is
also ∂f/∂b (a copied line gives the same numbers), and the hint says so; where the claim for b is
∂f/∂x as well, the two are "gradients swapped" (that hint's), not this.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs, value_at
from .layer_outputs import f_of, layer_outputs, product_splits

MAX_PRODUCTS = 6


def _is_dout(a) -> bool:
    from ..frontend import tensor as T
    return isinstance(a, T.Tensor) and a.name.startswith("dout")


def _swapped(case: Case, b) -> bool:
    """Whether b is another variable whose claim is ∂f/∂w at every point (the two claims swapped)."""
    from .claims import _shape, fit_shape
    from .hint_case import all_same
    if b not in case.params or b == case.w:
        return False
    j = case.params.index(b)
    Cb = [fit_shape(np.asarray(c[j], float), _shape(b)) for c in case.claims]
    Tw = [np.asarray(t[case.k], float) for t in case.truths]
    return not any(c is None for c in Cb) and all_same(Cb, Tw)


def product_operand_hint(case: Case):
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    w = case.w
    Cs, Ts = _fitted(case)
    if not isinstance(w, T.Tensor) or not differs(Cs, Ts):
        return None
    # (the other factor b, whether the product is an output times its dout, f with w ⊙ b replaced):
    # f's own products w ⊙ b, then each output that is one (x * w, 2 * x * w), as check_backward
    # made f of it (layer_outputs.py), f rebuilt from the outputs with that output changed
    cands = []
    for m in dict.fromkeys(sp.preorder_traversal(case.f)):
        if (isinstance(m, sp.Mul) and w in m.args and len(m.args) == 2 and not any(a.is_number for a in m.args)
                and not any(_is_dout(a) for a in m.args)):
            cands.append((m.args[1 - m.args.index(w)], False, sp.S.One, lambda P, m=m: _rebuilt(case.f, {m: P})))
    cands = cands[:MAX_PRODUCTS]
    outputs = layer_outputs(case)
    for k, (o, _) in enumerate(outputs):
        for c, a, b in product_splits(o):
            if a == w and not b.has(w):       # 2 * x * w: dx = dout * 2 * x for dout * 2 * w
                shape = tuple(T.shape_of(o))
                cands.append((b, True, c, lambda P, k=k, c=c, shape=shape: f_of(outputs, {k: T.as_tensor(c * P, shape)})))
    for b, is_output, c, slipped_f in cands:
        if _swapped(case, b):            # dw is ∂f/∂x too: `other_gradient_hint`'s "gradients swapped"
            return None
        try:
            core = tuple(T.shape_of(w * b))
        except Exception:   # noqa: BLE001 - a product without a tensor shape is not tried
            continue
        K, X, C = T.tensor("_K", core), T.tensor("_X", tuple(w.shape)), T.tensor("_C", core)

        def extra(vals, b=b, K=K, X=X, C=C, core=core):
            xv = np.asarray(vals[w.name], float)
            bv = value_at(b, vals)
            kv = np.broadcast_to(xv, core)
            return {K.name: kv, X.name: xv, C.name: xv * bv - xv * kv - xv * bv}
        if not _claim_is_gradient_of(case, slipped_f(C + w * K + X * b), extra):
            continue
        bt = b.name if isinstance(b, T.Tensor) else f"({b})"
        d = "dout" if is_output else "the upstream gradient"
        ct = f"{float(c):g}" if isinstance(c, sp.Float) else str(c)      # 0.5, not 0.500000000000000
        cb = bt if c == 1 else f"{ct} * {bt}"          # 2 * x * w: dx = dout * 2 * w
        summed = ("" if tuple(w.shape) == core else
                  f", summed over the axes {w.name} is broadcast along")
        cw = w.name if c == 1 else f"{ct} * {w.name}"
        same_as = ("" if not (isinstance(b, T.Tensor) and b in case.params and tuple(b.shape) == tuple(w.shape))
                   else f" (these are the numbers of ∂f/∂{b.name} = {d} * {cw}: a line copied from "
                        f"d{b.name}'s and not changed reads the same)")
        return Hint("the variable's own value where the other factor belongs",
                    f"the claim for {w.name} is "
                    f"{d} * {cw}, {w.name}'s own value where the other factor {bt} of the product "
                    f"{cw} * {bt} belongs — the derivative of a product with respect to one factor is the "
                    f"other factor: d{w.name} = {d} * {cb}{summed}{same_as}.")
    return None
