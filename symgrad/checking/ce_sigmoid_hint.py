"""Name the sigmoid's derivative used for softmax + cross-entropy: 11-785's CrossEntropyLoss
backward written `s * (1 - s) - Y` for `s - Y` (σ′ = σ(1 − σ) carried over from the sigmoid, where
the softmax and the log cancel to leave s itself).

The slipped function is built as in softmax_axis_hint.py: each logsumexp_a(z) of f (log_softmax and
cross_entropy go through one) is replaced by C + Σ_a z ⊙ S with S = s ⊙ (1 − s), s = softmax_a(z),
and C held so that the value is unchanged; its gradient with respect to z is then S where s belongs.
`hints.find_hint` tries it among the recognisers.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_case import Case, _claim_is_gradient_of, _fitted, all_same
from .softmax_axis_hint import _lse, _softmax


def ce_sigmoid_derivative_hint(case: Case):
    """The claim is the gradient with each logsumexp's softmax s replaced by s ⊙ (1 − s)."""
    from ..core.evaluate import numeric
    from ..frontend import tensor as T
    from ..frontend.tensor_softmax import LogSoftmaxT, LogSumExpT
    nodes = list(dict.fromkeys(n for n in sp.preorder_traversal(case.f)
                               if isinstance(n, (LogSumExpT, LogSoftmaxT)) and len(n.x.shape) >= 1))
    Cs, Ts = _fitted(case)
    if not nodes or all_same(Cs, Ts):
        return None
    sub, consts = {}, []
    for j, n in enumerate(nodes):
        a = n.axis % len(n.x.shape)
        keep = n.keepdims if isinstance(n, LogSumExpT) else True
        S = T.tensor(f"_S{j}", n.x.shape)
        C = T.tensor(f"_C{j}", T.reduced_shape(n.x.shape, (a,), keep))
        lse = C + T.sum(n.x * S, axis=a, keepdims=keep)
        sub[n] = lse if isinstance(n, LogSumExpT) else n.x - lse
        consts.append((S, C, n, a, keep))

    def extra(vals):
        out = {}
        for S, C, n, a, keep in consts:
            z = np.asarray(numeric(n.x, vals), float)
            s = _softmax(z, a, a)
            out[S.name] = s * (1 - s)
            out[C.name] = _lse(z, a, keep) - (z * out[S.name]).sum(axis=a, keepdims=keep)
        return out
    if not _claim_is_gradient_of(case, case.f.xreplace(sub), extra):
        return None
    n = nodes[0]
    z = n.x.name if isinstance(n.x, T.Tensor) else "the logits"
    return (f"sigmoid's derivative for softmax + cross-entropy: the claim is the gradient with "
            f"softmax({z}) ⊙ (1 − softmax({z})) where softmax({z}) belongs — s * (1 - s) - Y for "
            f"s - Y: σ′ = σ(1 − σ) is the sigmoid's; through log(softmax) the softmax's Jacobian "
            f"cancels, and the gradient with respect to the logits is s − Y (divided by N for a mean).")


__all__ = ["ce_sigmoid_derivative_hint"]
