"""A strided layer's input gradient cut short: 11-785's Downsample1d backward upsamples dLdZ to
k·(W_out − 1) + 1 entries instead of the input's own width W_in (stored in the forward), so the
Conv1d's dLdA comes out narrower than A. Its entries are the gradient's first ones; the gradient's
last entries, which no window of the strided forward reaches, are 0 and missing from the claim."""
from __future__ import annotations

import numpy as np

from .hint_kind import Hint
from .hint_case import Case, same


def cut_short_hint(case: Case, want: str) -> str | None:
    Cs, Ts = case.C(), case.T()
    cs, ts = Cs[0].shape, Ts[0].shape
    if len(cs) != len(ts) or cs == ts or any(c.shape != cs for c in Cs) or any(
            a > b for a, b in zip(cs, ts)):
        return None
    head = tuple(slice(0, a) for a in cs)
    for c, t in zip(Cs, Ts):
        rest = t.copy()
        rest[head] = 0
        if not same(c, t[head]) or np.any(np.abs(rest) > 1e-12 * (np.abs(t).max() + 1e-300)):
            return None
    axes = [i for i, (a, b) in enumerate(zip(cs, ts)) if a != b]
    which = ", ".join(f"axis {i}: {cs[i]} of {ts[i]}" for i in axes)
    return Hint("cut short",
                f"the claim has shape {tuple(cs)}, but {want}; its entries are the gradient's "
                f"first ones ({which}), and the gradient's last entries, which no window of the strided "
                f"forward reaches, are 0 — a downsampling layer's backward gives back the input's own "
                f"size, stored in the forward (11-785's Downsample1d: np.zeros of A's width, then "
                f"dLdA[:, :, ::k] = dLdZ), not k·(W_out − 1) + 1.")
