"""Name a softmax layer's Jacobian-vector backward written wrong (11-785's Softmax activation,
HW1P1: for each row, J = diag(a) − a aᵀ, dLdZ[i] = dLdA[i] @ J):

- the off-diagonal entries' sign flipped (J[m, k] = +a_m a_k for m ≠ k);
- the sum without its s: dz = s ⊙ (ds − Σ ds) for s ⊙ (ds − Σ s ⊙ ds);
- the softmax recomputed over the other axis (the normalisation np.exp(Z) / np.exp(Z).sum(axis=0)).

For f with a softmax of the wrt tensor itself: δ, the gradient at the softmax's output, is derived
(dout for the layer alone), each slipped backward is computed from s and δ in NumPy at every point,
and the claim is compared with it. The Jacobian cut to its diagonal is `hints.tensor_softmax_hint`'s.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _fitted, differs, same


def _softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _slips(z, d, axis):
    """(words, slipped dz) from the softmax's input z and the gradient d at its output."""
    s = _softmax(z, axis)
    dot = (s * d).sum(axis=axis, keepdims=True)
    yield ("the off-diagonal entries' sign flipped: J[m, k] = +s_m·s_k for m ≠ k, where the Jacobian "
           "of the softmax has −s_m·s_k", s * d - 2 * s * s * d + s * dot)
    yield ("the sum without its s: dz = s ⊙ (ds − Σ ds), where Σ s ⊙ ds belongs",
           s * (d - d.sum(axis=axis, keepdims=True)))
    for other in range(z.ndim):
        if other != axis and z.shape[other] > 1:   # s right, its Jacobian's sum over another axis
            yield (f"the Jacobian's sum over axis {other} where the softmax normalises over axis {axis}: "
                   f"dz = s ⊙ (ds − (s ⊙ ds).sum(axis={other}))", s * (d - (s * d).sum(axis=other, keepdims=True)))
    for other in range(z.ndim):
        if other != axis and z.shape[other] > 1:
            t = _softmax(z, other)
            for k in (axis, other):
                yield (f"the softmax recomputed over axis {other} where the layer normalises over axis "
                       f"{axis} (its Jacobian's sum over axis {k})",
                       t * (d - (t * d).sum(axis=k, keepdims=True)))


def softmax_jacobian_hint(case: Case):
    from ..core.evaluate import evaluate, numeric
    from ..frontend.tensor_softmax import SoftmaxT
    from .overwrite_hints import _chain, _upstream
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts) or any(len(p.examples) != 1 for p in case.points):
        return None
    nodes = [n for n in dict.fromkeys(sp.preorder_traversal(case.f)) if isinstance(n, SoftmaxT)]
    if len(nodes) != 1 or not nodes[0].x.has(case.w):
        return None
    node = nodes[0]
    axis = node.axis % len(node.shape)
    u, Du = _upstream(case.f, node)
    # a softmax inside the layer (attention's): the slip's change at its input, z's, carried back to w
    G, Dg = (None, None) if node.x == case.w else _chain(node.x, case.params, case.k)
    rows = None
    for c, t, p in zip(Cs, Ts, case.points):
        vals = p.example(0)
        z = np.asarray(numeric(node.x, vals), float)
        d = np.asarray(evaluate(Du.ir, [Du.gradient_vars[0]], {**vals, u.name: numeric(node, vals)})[0], float)
        s = _softmax(z, axis)
        right = s * (d - (s * d).sum(axis=axis, keepdims=True))
        got = []
        for words, dz in _slips(z, d, axis):
            if G is None:
                ok = same(c, dz)
            else:
                change = evaluate(Dg.ir, [Dg.gradient_vars[0]], {**vals, G.name: dz - right})[0]
                ok = same(c, t + np.reshape(np.asarray(change, float), t.shape))
            if ok:
                got.append(words)
        rows = got if rows is None else [w for w in rows if w in got]
        if not rows:
            return None
    inside = "" if G is None else f" (the softmax's backward, carried back to {case.w.name})"
    return Hint("softmax Jacobian written wrong",
                f"the claim is the backward with {rows[0]}{inside} — J = diag(s) − s sᵀ "
                f"along the softmax's axis, so dz = s ⊙ (ds − (s ⊙ ds).sum(axis, keepdims=True)).")
