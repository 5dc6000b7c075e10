"""relu's mask read off its argument with one term left out: ``dz = dout * (x @ w > 0)`` where relu
takes x @ w + b — the bias forgotten where the mask is recomputed instead of cached. For each relu of
f (up to 3) whose argument z is a sum, relu(z) is replaced by C + z ⊙ K with K = (z − term > 0) and
C = relu(z) − z ⊙ K, both held at the point (the value kept, the mask slipped), and the claim
compared with that gradient — `operand_hints.relu_masked_by`, the test of relu_mask_hint's masks too."""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_case import Case, _fitted, differs, short_text, value_at
from .hint_kind import Hint
from .operand_hints import relu_masked_by


def _relus(f, w):
    from ..frontend import tensor as T
    from ..frontend.functions import relu
    for n in dict.fromkeys(sp.preorder_traversal(f)):
        if isinstance(n, T.Ewise) and isinstance(n.args[0], relu) and n.has(w):
            yield n, n.args[0].args[0]


def _terms(z) -> list:
    """The additive terms of relu's argument (an Ewise around a SymPy Add, or an Add itself)."""
    from ..frontend import tensor as T
    inner = z.args[0] if isinstance(z, T.Ewise) else z
    return list(inner.args) if isinstance(inner, sp.Add) and len(inner.args) >= 2 else []


def relu_mask_term_hint(case: Case):
    from ..frontend import tensor as T
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    for node, z in list(_relus(case.f, case.w))[:3]:
        terms = _terms(z)
        if not terms:
            continue
        shape = tuple(int(d) for d in T.shape_of(node))
        inner = z.args[0] if isinstance(z, T.Ewise) else z
        for term in terms[:4]:
            rest = sp.Add(*[t for t in inner.args if t is not term])
            if relu_masked_by(case, node, z, shape, lambda vals, rest=rest: np.broadcast_to(
                    value_at(rest, vals, shape), shape) > 0, read_shape=shape):
                return Hint("relu's mask without a term of its argument",
                            f"the claim masks relu's gradient with ({short_text(rest, 40)} > 0), its argument "
                            f"without {short_text(term, 30)}; relu′ is read off the whole argument, "
                            f"({short_text(inner, 50)} > 0) — cache the forward's pre-activation and mask "
                            f"with it.")
    return None


__all__ = ["relu_mask_term_hint"]
