"""Name a softmax + cross-entropy backward with something else where the softmax s belongs, as
11-785's CrossEntropyLoss backward is written by hand (`s - Y`, divided by N):

    sigmoid's derivative   `s * (1 - s) - Y`: σ′ = σ(1 − σ) carried over from the sigmoid, where the
                           softmax's Jacobian and the log cancel to leave s itself
    softmax left out       `A - Y`: the logits themselves
    log of the softmax     `np.log(s) - Y`: the forward's log_softmax reused

The slipped function is built as in softmax_axis_hint.py: each logsumexp_a(z) of f (log_softmax and
cross_entropy go through one) is replaced by C + Σ_a z ⊙ S with S the slip's stand-in for
s = softmax_a(z), and C held so that the value is unchanged; its gradient with respect to z is then
S where s belongs. `hints.find_hint` tries it among the recognisers.
"""
from __future__ import annotations

import numpy as np

from .hint_kind import Hint
from .hint_case import Case, _fitted, all_same
from .softmax_axis_hint import _lse, _softmax, logsumexp_nodes


def _log(s, z):
    """log s, quietly −inf where a masked logit's probability is 0 (SimCLR's diagonal)."""
    with np.errstate(divide="ignore"):
        return np.log(s)


_SLIPS = (("sigmoid's derivative for softmax + cross-entropy", lambda s, z: s * (1 - s),
           "softmax({z}) ⊙ (1 − softmax({z}))", "s * (1 - s) - Y for s - Y: σ′ = σ(1 − σ) is the sigmoid's"),
          ("softmax left out of the cross-entropy's backward", lambda s, z: z, "{z} itself",
           "{z} - Y for s - Y, the logits where their softmax s belongs"),
          ("log of the softmax in the cross-entropy's backward", _log, "log_softmax({z})",
           "np.log(s) - Y for s - Y, the forward's log-probabilities where the probabilities belong"))


def ce_softmax_slip_hint(case: Case):
    """The claim is the gradient with each logsumexp's softmax s replaced by a slip's stand-in."""
    from ..core.evaluate import numeric
    from ..frontend import tensor as T
    from ..frontend.tensor_softmax import LogSumExpT
    from .hint_case import gradient_graph
    nodes = logsumexp_nodes(case, 1)
    if not nodes:
        return None
    Cs, Ts = _fitted(case)
    sub, consts = {}, []
    for j, n in enumerate(nodes):
        a = n.axis % len(n.x.shape)
        keep = n.keepdims if isinstance(n, LogSumExpT) else True
        S = T.tensor(f"_S{j}", n.x.shape)
        C = T.tensor(f"_C{j}", T.reduced_shape(n.x.shape, (a,), keep))
        lse = C + T.sum(n.x * S, axis=a, keepdims=keep)
        sub[n] = lse if isinstance(n, LogSumExpT) else n.x - lse
        consts.append((S, C, n, a, keep))
    graph, g = gradient_graph(case.f.xreplace(sub), case.params, case.k, case.derivation.ir.policy)
    if g is None:
        return None
    z = nodes[0].x.name if isinstance(nodes[0].x, T.Tensor) else "the logits"
    for title, stand_in, what, how in _SLIPS:
        def extra(vals, stand_in=stand_in):
            out = {}
            for S, C, n, a, keep in consts:
                zv = np.asarray(numeric(n.x, vals), float)
                out[S.name] = stand_in(_softmax(zv, a, a), zv)
                out[C.name] = _lse(zv, a, keep) - (zv * out[S.name]).sum(axis=a, keepdims=keep)
            return out
        vals = case.eval_vars(graph, [g], extra)
        if all_same(Cs, [np.broadcast_to(v[0], t.shape) for v, t in zip(vals, Ts)]):
            return Hint(f"{title}",
                        f"the claim is the gradient with {what.format(z=z)} where softmax({z}) "
                        f"belongs — {how.format(z=z)}; through log(softmax) the softmax's Jacobian "
                        f"cancels, and the gradient with respect to the logits is s − Y (divided by N for a "
                        f"mean).")
    return None


__all__ = ["ce_softmax_slip_hint"]
