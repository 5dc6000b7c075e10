"""Name a backward that sums dout over an axis and then uses that sum at every index of the axis:
a word embedding's ``np.add.at(dW, x, dout.sum(axis=1, keepdims=True))`` (each word of a sentence
gets the whole sentence's gradient, summed over time) where ``np.add.at(dW, x, dout)`` adds each
step's own. The claim is the true gradient evaluated with dout replaced by its sum over that axis,
broadcast back (f is linear in dout), for an axis of dout other than the batch's and the last."""
from __future__ import annotations

import re

import numpy as np

from .hint_case import Case, _fitted, all_same, differs


def dout_spread_hint(case: Case):
    D = case.derivation
    g = D.gradient_vars[case.k]
    Cs, Ts = _fitted(case)
    if g is None or not differs(Cs, Ts):
        return None
    example = case.points[0].example()
    for d in (n for n in example if re.fullmatch(r"dout\d*", str(n))):
        shape = np.shape(example[d])
        for a in range(1, len(shape) - 1):
            if shape[a] < 2:
                continue

            def extra(vals, a=a):
                v = np.asarray(vals[d], float)
                return {d: np.broadcast_to(v.sum(axis=a, keepdims=True), v.shape).copy()}
            vals = case.eval_vars(D.ir, [g], extra)
            if all_same(Cs, [np.broadcast_to(v[0], t.shape) for v, t in zip(vals, Ts)]):
                return (f"summed over axis {a} first: the claim for {case.w.name} is the gradient with "
                        f"{d} summed over axis {a} (time, for a sequence) and that sum used at every "
                        f"index of the axis — each step gets the whole sequence's gradient; a word "
                        f"embedding's backward adds each step's own row, np.add.at(d{case.w.name}, x, "
                        f"{d}), not {d}.sum(axis={a}, keepdims=True).")
    return None
