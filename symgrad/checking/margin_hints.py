"""Name the multiclass SVM loss backward that subtracts 1 at each example's label
(`dx[np.arange(N), y] -= 1`) where the correct class's score, being in every margin of its row, takes
minus the number of positive margins (`-= (margins > 0).sum(axis=1)`). Compared entry by entry:
right off the labels, and at each label one margin's share with its sign flipped."""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_case import Case, _fitted, all_same, same


def _label_mask(case: Case, node, shape, p):
    """1 at each example's label (the entries take_along_axis picks), per point."""
    from ..core.evaluate import numeric
    from ..frontend import tensor as T
    idx = p.mean(lambda vals: [np.asarray(numeric(T.as_tensor(node.args[1]), vals), float)])[0]
    mask = np.zeros(shape)
    np.put_along_axis(mask, np.rint(idx).astype(int), 1.0, axis=int(node.args[2]))
    return mask > 0


def svm_correct_class_hint(case: Case):
    from ..frontend import tensor as T
    nodes = [n for n in sp.preorder_traversal(case.f) if isinstance(n, T.TakeAlong) and n.args[0] == case.w]
    Cs, Ts = _fitted(case)
    if len(set(nodes)) != 1 or not case.f.has(sp.Max) or all_same(Cs, Ts) or any(c is None for c in Cs):
        return None
    shares = set()
    for c, t, p in zip(Cs, Ts, case.points):
        lab = _label_mask(case, nodes[0], t.shape, p)
        if not same(c[~lab], t[~lab]):
            return None
        off = t[~lab][np.abs(t[~lab]) > 1e-12]
        if off.size == 0 or not same(off, np.full(off.shape, off[0])):
            return None                       # one margin's share: the same at every positive margin
        if not same(c[lab], np.full(c[lab].shape, -off[0])):
            return None
        shares.add(round(float(off[0]), 12))
    return ("correct class counted once: at each example's label the claim subtracts one margin's "
            "share (dx[np.arange(N), y] -= 1); the correct class's score is in every margin of its row, "
            "so it takes minus the number of positive margins: dx[np.arange(N), y] -= "
            "(margins > 0).sum(axis=1), before the division by N.")
