"""Name an upsampling layer's backward that reads the wrong entries: 11-785's ConvTranspose1d is
Upsample1d (k − 1 zeros between the entries) then Conv1d_stride1, and Upsample1d's backward is
dLdA = dLdZ[:, :, ::k] — the entries the forward wrote A into. Two slips of it:

    odd entries    dLdZ[:, :, 1::k] (another offset): the zeros' gradients, one entry short
    pairs summed   each entry given the sum of its k neighbours: the backward of a nearest-neighbour
                   upsampling (np.repeat), where the forward inserted zeros

Each convolution of f whose input is the wrt tensor upsampled — sg.conv_transpose1d (an input
dilation k) or the course's declaration (a stack with zeros, reshaped and cut to k·(W − 1) + 1) — is
replaced by the same convolution of a fresh tensor U at the upsampled value; the gradient G with
respect to U is what Conv1d_stride1's backward gives, and the claim is compared with the slips' reads
of G (after checking that G[..., ::k] is the gradient, so that U is the upsampled input).
`hints.find_hint` and `hints.shape_hint` ask it.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_case import Case, same


def _upsampled_convs(case):
    """[(conv node, k, dilated)]: each 1-D convolution of f whose input is the wrt tensor upsampled
    by k (dilated: through the convolution's input dilation, else an expression of the tensor)."""
    from ..frontend import conv as C
    w = case.w
    shape = tuple(getattr(w, "shape", ()))
    if len(shape) != 3 or not isinstance(shape[2], (int, sp.Integer)) or int(shape[2]) < 2:
        return []
    W = int(shape[2])
    out = []
    for n in dict.fromkeys(sp.preorder_traversal(case.f)):
        if type(n) is not C.Conv or n.nd != 1:
            continue
        x, ld = n.args[0], n.input_dilation[0]
        if x == w and ld > 1:
            out.append((n, ld, True))
        elif ld == 1 and x != w and x.has(w) and tuple(x.shape[:2]) == shape[:2]:
            width = x.shape[2]
            if isinstance(width, (int, sp.Integer)) and (int(width) - 1) % (W - 1) == 0:
                k = (int(width) - 1) // (W - 1)
                if k > 1:
                    out.append((n, k, False))
    return out


def _zeros_between(a, k):
    up = np.zeros(a.shape[:-1] + (k * (a.shape[-1] - 1) + 1,))
    up[..., ::k] = a
    return up


def _gradient_of_upsampled(case, n, k, dilated):
    """Per point, ∂f/∂U with U the convolution's (upsampled) input, or None."""
    from ..core.evaluate import numeric
    from ..frontend import conv as C
    from ..frontend import tensor as T
    from .hint_case import gradient_graph
    x = n.args[0]
    width = k * (int(case.w.shape[2]) - 1) + 1
    U = T.tensor("_U_up", tuple(x.shape[:2]) + (width,))
    fresh = C.Conv(U, n.args[1], n.args[2], n.args[3], sp.Tuple(*[1] * n.nd), n.args[5])
    graph, g = gradient_graph(case.f.xreplace({n: fresh}), [U], 0, case.derivation.ir.policy)
    if g is None:
        return None

    def extra(vals):
        v = np.asarray(numeric(x, vals), float)
        return {U.name: _zeros_between(v, k) if dilated else v}
    return [np.asarray(v[0], float) for v in case.eval_vars(graph, [g], extra)]


def _pair_sums(G, k, W):
    pad = np.zeros(G.shape[:-1] + (k * W - G.shape[-1],))
    return np.concatenate([G, pad], axis=-1).reshape(G.shape[:-1] + (W, k)).sum(axis=-1)


def upsample_backward_hint(case: Case, want: str | None = None) -> str | None:
    convs = _upsampled_convs(case)
    if len(convs) != 1:
        return None
    n, k, dilated = convs[0]
    Cs, Ts = case.C(), case.T()
    try:
        Gs = _gradient_of_upsampled(case, n, k, dilated)
    except Exception:                     # a declaration this recogniser does not follow: no hint
        return None
    if Gs is None or not all(same(G[..., ::k], t) for G, t in zip(Gs, Ts)):
        return None
    W, name = Ts[0].shape[-1], case.w.name
    right = (f"dLd{name} = dLdZ[:, :, ::{k}], the entries the forward wrote {name} into (dLdZ: the "
             f"upsampled input's gradient, Conv1d_stride1's dLdA)")
    zeros = "1 zero" if k == 2 else f"{k - 1} zeros"
    for off in range(1, k):
        if all(same(c, G[..., off::k]) for c, G in zip(Cs, Gs)):
            shape = f"the claim has shape {Cs[0].shape}, but {want}; " if want else ""
            return (f"upsample backward reads the wrong entries: {shape}the claim is dLdZ[:, :, {off}::{k}] "
                    f"(the inserted zeros' gradients) where {right} — the upsampling's backward "
                    f"(11-785's Upsample1d) downsamples from offset 0.")
    if all(same(c, _pair_sums(G, k, W)) for c, G in zip(Cs, Gs)):
        return (f"upsample backward sums neighbours: the claim gives each entry of d{name} the sum of "
                f"{k} neighbouring entries of dLdZ — the backward of repeating each entry "
                f"(np.repeat, nearest-neighbour upsampling); this forward put {zeros} between the "
                f"entries, and the zeros take no gradient back: {right}.")
    return None


__all__ = ["upsample_backward_hint"]
