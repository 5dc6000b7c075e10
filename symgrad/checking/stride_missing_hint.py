"""Name a strided convolution's backward that leaves the stride out and so comes back narrower than
the input: 11-785's Conv1d with downsampling calling Conv1d_stride1's backward on dLdZ itself, not
on Downsample1d's backward of it (dLdZ upsampled: zeros between the entries, at the input's width).
Its dLdA is then the full convolution of dLdZ (W_out entries) with the flipped kernel, W_out + K − 1
wide where A is W_in wide; the same slip at the right width is conv_hints' "stride ignored".

The claim is compared with the gradient of f derived with that slip (conv_hints' "stride" variant of
each strided convolution of f): its first entries must be the claim's, and the rest 0 (no window at
stride 1 reaches them). `shape_hints.shape_hint` asks it when the claim's shape cannot be the gradient's.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, same


def stride_missing_hint(case: Case, want: str) -> str | None:
    from ..frontend import conv as C
    from .conv_hints import _slip_conv
    from .hint_case import gradient_graph
    convs = [n for n in dict.fromkeys(sp.preorder_traversal(case.f)) if type(n) is C.Conv
             and set(n.stride) != {1}]
    Cs = case.C()
    if not convs or any(c.shape != Cs[0].shape for c in Cs):
        return None
    cs = Cs[0].shape
    graph, g = gradient_graph(case.f.xreplace({n: _slip_conv(n, "stride") for n in convs}), case.params,
                              case.k, case.derivation.ir.policy)
    if g is None:
        return None
    vals = [np.broadcast_to(v[0], t.shape) for v, t in zip(case.eval_vars(graph, [g]), case.T())]
    ts = vals[0].shape
    if len(cs) != len(ts) or cs == ts or any(a > b for a, b in zip(cs, ts)):
        return None
    head = tuple(slice(0, a) for a in cs)
    for c, v in zip(Cs, vals):
        rest = np.array(v, float)
        rest[head] = 0
        if not same(c, v[head]) or np.any(np.abs(rest) > 1e-12 * (np.abs(v).max() + 1e-300)):
            return None
    strides = sorted({s for n in convs for s in n.stride if s != 1})
    k = ", ".join(map(str, strides))
    name = case.w.name
    return Hint("stride missing in the backward",
                f"the claim has shape {tuple(cs)}, but {want}; it is the "
                f"stride-1 backward of dout itself — the forward's stride {k} is missing in the backward. "
                f"Upsample the gradient first (zeros between the entries, at the input's own width: "
                f"11-785's Downsample1d backward, np.zeros of {name}'s width, then up[:, :, ::{strides[0]}] "
                f"= dLdZ), then take Conv1d_stride1's backward of it.")


__all__ = ["stride_missing_hint"]
