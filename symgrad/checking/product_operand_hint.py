"""Name an elementwise product layer's backward that multiplies dout by the variable's own value:
out = x * w with dx = dout * x where dout * w belongs (the derivative of a product with respect to one
factor is the other factor).

f is derived again with one product x ⊙ b of f changed in its derivative only: x ⊙ b becomes
C + x ⊙ K + X ⊙ b, K holding x's own value (broadcast to the product's shape), X x's value and
C = x ⊙ b − x ⊙ K − X ⊙ b (constants at the point), so ∂/∂x takes K, b's derivative keeps x's value,
and every value is kept. Tried before `other_gradient_hint`: where x and b have one shape, dout * x is
also ∂f/∂b (a copied line gives the same numbers), and the hint says so; where the claim for b is
∂f/∂x as well, the two are "gradients swapped" (that hint's), not this.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_case import Case, _claim_is_gradient_of, _fitted, differs

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
    from ..core.evaluate import numeric
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    w = case.w
    Cs, Ts = _fitted(case)
    if not isinstance(w, T.Tensor) or not differs(Cs, Ts):
        return None
    prods = [m for m in dict.fromkeys(sp.preorder_traversal(case.f))
             if isinstance(m, sp.Mul) and w in m.args and not any(a.is_number for a in m.args)]
    for m in prods[:MAX_PRODUCTS]:
        douts = [a for a in m.args if _is_dout(a)]
        rest = [a for a in m.args if a != w and not _is_dout(a)]
        if len(rest) != 1 or len(douts) > 1 or rest[0].has(w):
            continue
        b = rest[0]
        if _swapped(case, b):            # dw is ∂f/∂x too: `other_gradient_hint`'s "gradients swapped"
            return None
        try:
            core = tuple(T.shape_of(w * b))
        except Exception:   # noqa: BLE001 - a product without a tensor shape is not tried
            continue
        K, X, C = T.tensor("_K", core), T.tensor("_X", tuple(w.shape)), T.tensor("_C", core)

        def extra(vals, b=b, K=K, X=X, C=C, core=core):
            xv = np.asarray(vals[w.name], float)
            bv = np.asarray(numeric(T.as_tensor(b), vals), float)
            kv = np.broadcast_to(xv, core)
            return {K.name: kv, X.name: xv, C.name: xv * bv - xv * kv - xv * bv}
        new = C + w * K + X * b
        if douts:
            new = new * douts[0]
        if not _claim_is_gradient_of(case, _rebuilt(case.f, {m: new}), extra):
            continue
        bt = b.name if isinstance(b, T.Tensor) else f"({b})"
        d = "dout" if douts else "the upstream gradient"
        summed = ("" if tuple(w.shape) == core else
                  f", summed over the axes {w.name} is broadcast along")
        same_as = ("" if not (isinstance(b, T.Tensor) and b in case.params and tuple(b.shape) == tuple(w.shape))
                   else f" (these are the numbers of ∂f/∂{b.name} = {d} * {w.name}: a line copied from "
                        f"d{b.name}'s and not changed reads the same)")
        return (f"the variable's own value where the other factor belongs: the claim for {w.name} is "
                f"{d} * {w.name}, {w.name}'s own value where the other factor {bt} of the product "
                f"{w.name} * {bt} belongs — the derivative of a product with respect to one factor is the "
                f"other factor: d{w.name} = {d} * {bt}{summed}{same_as}.")
    return None
