"""Name a softmax normalised over the wrong axis in a hand-written backward: cs231n's softmax_loss
with `probs /= probs.sum(axis=0, keepdims=True)` where the classes are on axis 1, or with no axis at
all, `probs /= probs.sum()`. The claim is then
the gradient with softmax over the other axis in place of the right one, wherever the derivative of
a logsumexp (or log_softmax, cross_entropy) of f uses it.

The slipped function is built so that its gradient is exactly that: logsumexp_a(z) is replaced by
C + Σ_a z ⊙ S, with S = softmax_b(z) and C = logsumexp_a(z) − Σ_a z ⊙ S held as constants at the
point (so the value is unchanged and the derivative with respect to z is S). `hints.find_hint` tries
it among the recognisers.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, all_same


def _softmax(z, axis, shift):
    """exp(z) normalised over ``axis``, after subtracting the max over ``shift`` (a backward that
    shifts by the row's max, right, and then sums over the wrong axis is not softmax over either)."""
    e = np.exp(z - z.max(axis=shift, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _lse(z, axis, keepdims):
    m = z.max(axis=axis, keepdims=True)
    out = m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def logsumexp_nodes(case: Case, min_ndim: int) -> list:
    """f's logsumexp and log_softmax nodes over tensors of at least ``min_ndim`` axes, in the order
    f holds them — none when the claim already equals the truth (no slip to name)."""
    from ..frontend.tensor_softmax import LogSoftmaxT, LogSumExpT
    nodes = list(dict.fromkeys(n for n in sp.preorder_traversal(case.f)
                               if isinstance(n, (LogSumExpT, LogSoftmaxT)) and len(n.x.shape) >= min_ndim))
    if not nodes or all_same(*_fitted(case)):
        return []
    return nodes


def softmax_axis_hint(case: Case):
    """The claim is the gradient with each logsumexp's softmax taken over another axis b."""
    from ..core.evaluate import numeric
    from ..frontend import tensor as T
    from ..frontend.tensor_softmax import LogSumExpT
    nodes = logsumexp_nodes(case, 2)
    if not nodes:
        return None
    Cs, Ts = _fitted(case)
    ndims = {len(n.x.shape) for n in nodes}
    # b None: normalised over every entry at once, probs /= probs.sum() with no axis
    for b, shifted in ((b, s) for b in [*range(max(ndims)), None] for s in (False, True)):
        if all(n.axis % len(n.x.shape) == b for n in nodes):
            continue
        sub, consts = {}, []
        for j, n in enumerate(nodes):
            r, a = len(n.x.shape), n.axis % len(n.x.shape)
            if b is not None and (b >= r or a == b):
                continue
            keep = n.keepdims if isinstance(n, LogSumExpT) else True
            S = T.tensor(f"_S{j}", n.x.shape)
            C = T.tensor(f"_C{j}", T.reduced_shape(n.x.shape, (a,), keep))
            lse = C + T.sum(n.x * S, axis=a, keepdims=keep)
            sub[n] = lse if isinstance(n, LogSumExpT) else n.x - lse
            consts.append((S, C, n, a, keep))
        if not sub:
            continue

        def extra(vals, consts=consts, b=b, shifted=shifted):
            out = {}
            for S, C, n, a, keep in consts:
                z = np.asarray(numeric(n.x, vals), float)
                s = _softmax(z, b, a if shifted else b)
                out[S.name] = s
                out[C.name] = _lse(z, a, keep) - (z * s).sum(axis=a, keepdims=keep)
            return out
        if _claim_is_gradient_of(case, case.f.xreplace(sub), extra):
            n = nodes[0]
            a = n.axis % len(n.x.shape)
            z = n.x.name if isinstance(n.x, T.Tensor) else "scores"
            over = ("over every entry at once (a sum with no axis=, probs.sum())" if b is None else
                    f"over axis {b}")
            return Hint("softmax over the wrong axis",
                        f"the claim is the gradient with the softmax normalised "
                        f"{over} where f normalises over axis {a} (the classes) — in the backward, "
                        f"probs = np.exp({z} - {z}.max(axis={a}, keepdims=True)), then "
                        f"probs /= probs.sum(axis={a}, keepdims=True): each example's probabilities "
                        f"sum to 1.")
    return None
