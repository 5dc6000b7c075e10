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
    if any(c.shape != Cs[0].shape for c in Cs):
        return None
    if not convs:
        return _pool_stride_missing(case, want, Cs)
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


def _pool_stride_missing(case: Case, want: str, Cs) -> str | None:
    """The same slip in a strided max or average pool of the variable (11-785's MaxPool2d and
    MeanPool2d: the stride-1 pool's backward called on dLdZ itself, not on Downsample2d's backward of
    it): the stride-1 loop redone in NumPy at each point, its first entries the claim's, the rest 0."""
    import re
    from ..frontend import conv as C
    from .pool_route_hint import _stepped_dx
    pools = [n for n in dict.fromkeys(sp.preorder_traversal(case.f)) if type(n) in (C.MaxPool, C.AvgPool)]
    if len(pools) != 1 or pools[0].args[0] != case.w or set(pools[0].padding) != {0} or set(pools[0].stride) == {1}:
        return None
    pool = pools[0]
    kernel = tuple(int(k) for k in pool.kernel)
    cs = Cs[0].shape
    for c, p in zip(Cs, case.points):
        ex = p.example()
        d = next((v for k, v in ex.items() if re.fullmatch(r"dout\d*", str(k))), None)
        x = np.asarray(ex[case.w.name], float)
        if d is None or len(cs) != x.ndim or cs == x.shape or any(a > b for a, b in zip(cs, x.shape)):
            return None
        d = np.asarray(d, float)
        if tuple(s + k - 1 for s, k in zip(d.shape[2:], kernel)) != cs[2:]:
            return None
        v = _stepped_dx(x, d, kernel, 1, 1, type(pool) is C.AvgPool)
        head = tuple(slice(0, a) for a in cs)
        rest = np.array(v, float)
        rest[head] = 0
        if not same(c, v[head]) or np.any(rest != 0):
            return None
    s = sorted(set(int(a) for a in pool.stride))[0]
    kind = "MaxPool" if type(pool) is C.MaxPool else "MeanPool"
    nd = len(kernel)
    return Hint("stride missing in the backward",
                f"the claim has shape {tuple(cs)}, but {want}; it is the stride-1 pool's backward of dout "
                f"itself — the forward's stride {s} is missing in the backward. Upsample the gradient first "
                f"(zeros between the entries, at the stride-1 output's size: 11-785's Downsample{nd}d "
                f"backward, up[:, :, {', '.join(['::' + str(s)] * nd)}] = dLdZ), then take "
                f"{kind}{nd}d_stride1's backward of it.")


__all__ = ["stride_missing_hint"]
