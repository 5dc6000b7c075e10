"""Name a backward that sums dout over an axis and then uses that sum at every index of the axis:
a word embedding's ``np.add.at(dW, x, dout.sum(axis=1, keepdims=True))`` (each word of a sentence
gets the whole sentence's gradient, summed over time) where ``np.add.at(dW, x, dout)`` adds each
step's own. The claim is the true gradient evaluated with dout replaced by its sum over that axis,
broadcast back (f is linear in dout), for an axis of dout other than the batch's and the last."""
from __future__ import annotations

import numpy as np

from .hint_kind import Hint
from .hint_case import Case, middle_dout_axes, truth_with


def dout_spread_hint(case: Case):
    for d, a, _ in middle_dout_axes(case):
        def extra(vals, a=a, d=d):
            v = np.asarray(vals[d], float)
            return {d: np.broadcast_to(v.sum(axis=a, keepdims=True), v.shape).copy()}
        if truth_with(case, extra):
            return Hint(f"summed over axis {a} first",
                        f"the claim for {case.w.name} is the gradient with "
                        f"{d} summed over axis {a} (time, for a sequence) and that sum used at every "
                        f"index of the axis — each step gets the whole sequence's gradient; a word "
                        f"embedding's backward adds each step's own row, np.add.at(d{case.w.name}, x, "
                        f"{d}), not {d}.sum(axis={a}, keepdims=True).")
    return None
