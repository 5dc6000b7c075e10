"""A bias gradient summed over the wrong axis: an affine backward's `db = dZ.sum(axis=1)` — one
number per example, shape (N,) — where b's gradient is `dZ.sum(axis=0)` (11-785's Linear keeps b as
(C1, 1): `dLdb = dLdZ.T @ ones`). The shape alone says only that (N,) cannot be (C1, 1); this names
the axis: the claim is the upstream gradient summed over some axes, and the gradient is it summed
over others, reshaped to the parameter's shape.
"""
from __future__ import annotations

import re
from itertools import combinations

import numpy as np

from .hint_case import Case, all_same


def _sums(vals, targets, fits) -> tuple | None:
    """The axes whose sum of each of ``vals`` is ``targets`` (``fits`` reshapes, or None)."""
    r = vals[0].ndim
    for n_ax in range(1, r):
        for axes in combinations(range(r), n_ax):
            red = [fits(v.sum(axis=axes)) for v in vals]
            if all(x is not None for x in red) and all_same(targets, red):
                return axes
    return None


def wrong_sum_axis_hint(case: Case, want: str) -> str | None:
    """``want`` is the shape sentence ("∂f/∂b must have b's shape (4, 1)")."""
    Cs, Ts = case.C(), case.T()
    shape, cs = Ts[0].shape, Cs[0].shape
    if any(c.shape != cs for c in Cs):
        return None
    ex = case.points[0].example()
    douts = [n for n in ex if re.fullmatch(r"dout\d*", str(n))] or [   # a text claim's upstream D
        n for n in ex if n not in {p.name for p in case.params} and np.ndim(ex[n]) >= 2]
    for d in douts:
        vals = [np.asarray(p.example()[d], float) for p in case.points]
        claim_axes = _sums(vals, Cs, lambda v: v if v.shape == cs else None)
        true_axes = _sums(vals, Ts, lambda v: v.reshape(shape) if v.size == int(np.prod(shape)) else None)
        if claim_axes is None or true_axes is None or claim_axes == true_axes:
            continue
        ax = lambda a: f"axis {a[0]}" if len(a) == 1 else f"axes {a}"   # noqa: E731
        kept = tuple(a for a in range(vals[0].ndim) if a not in claim_axes)
        w = case.w.name
        axis = true_axes[0] if len(true_axes) == 1 else true_axes
        return (f"summed over the wrong axes: the claim for {w} is {d} summed over {ax(claim_axes)}, "
                f"keeping {ax(kept)} (shape {tuple(cs)}), but {want}: its gradient is {d} summed over "
                f"{ax(true_axes)}, {'the axis' if len(true_axes) == 1 else 'the axes'} along which {w} is "
                f"broadcast in the forward — "
                f"d{w} = {d}.sum(axis={axis}){'' if len(shape) == vals[0].ndim - len(true_axes) else f'.reshape({w}.shape)'}.")
    return None
