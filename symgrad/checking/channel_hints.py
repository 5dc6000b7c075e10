"""Name spatial batch norm's channels mixed up by a reshape: cs231n's spatial_batchnorm_backward
flattens x (N, C, H, W) to rows of C channels, and ``x.reshape(-1, C)`` without moving the channels
last first (``x.transpose(0, 2, 3, 1).reshape(-1, C)``) gives rows that mix channels and positions.
A dgamma (or dbeta, or dx) computed from such rows is not a permutation of the gradient's numbers
(`layer_hints.permuted_hint` names the dx reshaped back without the transpose), so it is recognised
by building those rows on purpose: ``mixed(a) = a.reshape(N, H, W, C).transpose(0, 3, 1, 2)`` is
the array whose right flattening is ``a.reshape(-1, C)``; the claim is the true gradient evaluated
with x, dout or both replaced by their ``mixed`` form (and for dx, flattened back by the same plain
reshape). Tried only when f has spatial batch norm's statistics (`spatial_norm.spatial_input`: over
axes (0, 2, 3) of a 4-d tensor, or over the rows x.transpose(0, 2, 3, 1).reshape(-1, C), the forward as
cs231n writes it).
"""
from __future__ import annotations

import re
from itertools import combinations

import numpy as np

from .hint_kind import Hint
from .hint_case import Case, _fitted, _variances, all_same, differs
from .spatial_norm import spatial_input


def _mixed(a):
    n, c, h, w = a.shape
    return a.reshape(n, h, w, c).transpose(0, 3, 1, 2)


def _unmixed(a):
    """The plain reshape back: a channels-last flattening of ``a`` read as (N, C, H, W)."""
    return a.transpose(0, 2, 3, 1).reshape(a.shape)


def channels_reshape_hint(case: Case):
    spatial = [x for x in (spatial_input(v) for v, _, _ in _variances(case.f)) if x is not None]
    if not spatial:
        return None
    C = int(spatial[0].shape[1])
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    ex = case.points[0].example()
    names = [n for n in ex if np.ndim(ex[n]) == 4 and np.shape(ex[n])[1] == C
             and np.prod(np.shape(ex[n])[2:]) > 1 and (n == spatial[0].name or re.fullmatch(r"dout\d*", n))]
    D = case.derivation
    g = D.gradient_vars[case.k]
    if g is None or not names:
        return None
    four_d = Ts[0].ndim == 4
    for n_mix in range(1, len(names) + 1):
        for mix in combinations(names, n_mix):
            vals = case.eval_vars(D.ir, [g], lambda v, m=mix: {k: _mixed(np.asarray(v[k], float)) for k in m})
            got = [np.broadcast_to(v[0], t.shape) for v, t in zip(vals, Ts)]
            for back in ((False, True) if four_d else (False,)):
                cand = [_unmixed(c) if back else c for c in got]
                if all_same(Cs, cand):
                    return _sentence(case.w.name, mix, back, spatial[0].name)
    return None


def _sentence(w, mix, back, x) -> str:
    arrays = " and ".join(mix)
    flat = " and ".join(f"{a}.reshape(-1, C)" for a in mix)
    also = (f", and d{w} back with a plain reshape" if back else "")
    return Hint("channels mixed by a reshape",
                f"the claim for {w} is computed from {flat}{also} — without "
                f"moving the channels last first, each row of {arrays} flattened so mixes channels and "
                f"positions. Spatial batch norm's rows are one position's C channels: "
                f"{x}.transpose(0, 2, 3, 1).reshape(-1, C) (dout alike), and back with "
                f"dx.reshape(N, H, W, C).transpose(0, 3, 1, 2).")
