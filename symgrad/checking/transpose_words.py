"""How a weight's gradient is written in the layout f uses it — the words of the transpose hints,
here so that shape_hints (a claim of the transposed shape) and sign_transpose_hints (a square w's
claim transposed) both read them without importing each other."""
from __future__ import annotations

import sympy as sp

from .hint_case import Case


def _transpose_rule(case: Case) -> str:
    """How the gradient of a weight is written, in the layout f uses it: cs231n's and d2l's z = x @ W
    (W on the right of a product of tensors) gives dW = x.T @ dz; torch's z = x @ W.T (nn.Linear, an
    RNN's h @ W_hh.T) gives dW = dz.T @ x; the slides' z = W·y gives δ·yᵀ."""
    from ..frontend import tensor as T
    from .hint_case import _transposed_of
    w = case.w
    prods = [n for n in sp.preorder_traversal(case.f) if isinstance(n, T.TensorMatMul)]
    right = any(n.args[1] == w for n in prods)
    right_t = any(_transposed_of(n.args[1]) == w for n in prods)
    left = any(n.args[0] == w or _transposed_of(n.args[0]) == w for n in prods)
    if right and not (left or right_t):
        return (f"write it transposed: for z = x @ {w.name}, d{w.name} = x.T @ dz, not dz.T @ x — "
                f"the gradient has {w.name}'s shape")
    if right_t and not (left or right):
        return (f"write it transposed: for z = x @ {w.name}.T (torch's layout, rows of x), d{w.name} = "
                f"dz.T @ x, not x.T @ dz — the gradient has {w.name}'s shape")
    return "write it transposed: for z = W·y, ∂f/∂W = δ·yᵀ, not y·δᵀ"
