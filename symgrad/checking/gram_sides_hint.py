"""Name a backward that takes one side of a product of a variable with itself: SimCLR's similarity
matrix z @ z.T (a Gram matrix), whose gradient reaches z through both factors, (G + G.T) @ z with G
the gradient at the product, written as G @ z. f is derived again with one factor held at its value.
The fan-out hint names it too, by a path through the whole loss; this names the product.
"""
from __future__ import annotations

import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, _transposed_of, differs, value_at


def gram_sides_hint(case: Case):
    from ..frontend import tensor as T
    Cs, Ts = _fitted(case)
    w = case.w
    if not differs(Cs, Ts):
        return None
    for m in dict.fromkeys(n for n in sp.preorder_traversal(case.f) if isinstance(n, T.TensorMatMul)):
        left, right = m.args
        if not all(a == w or _transposed_of(a) == w for a in (left, right)):
            continue
        for side, held in (("left", right), ("right", left)):
            # the other factor a fresh tensor in the product alone: m's other uses keep their paths
            U = T.tensor("_side", tuple(T.shape_of(held)))
            one = left @ U if side == "left" else U @ right
            if _held_side(case, m, one, U, held):
                return Hint(f"one side of {m}",
                            f"{w.name} is both factors of the product {m}, so its gradient "
                            f"sums both sides' terms — with G the gradient at the product, G @ {w.name} from the "
                            f"left factor and G.T @ {w.name} from the right, (G + G.T) @ {w.name}; the claim has the "
                            f"{side} factor's term alone.")
    return None


def _held_side(case, m, one, U, held) -> bool:
    """Is the claim the gradient of f with the product m read as ``one``, U holding ``held``'s value?"""
    from .layer_hints import _rebuilt
    return _claim_is_gradient_of(case, _rebuilt(case.f, {m: one}),
                                 lambda v: {U.name: value_at(held, v)})
