"""Name a parameter gradient that is the upstream gradient summed over the wrong axes and then cut
down to the parameter's shape by an index: a conv bias's ``db = dout.sum(axis=(0, 2))[:, 0]`` where
``dout.sum(axis=(0, 2, 3))`` belongs. The claim has b's shape, so `hints.shape_hint` (which names
the axes of a claim of the wrong shape) never sees it.

The recogniser compares values only: the claim is dout summed over some axes S with every other
axis but the kept ones taken at index 0 (or the last), and the gradient is dout summed over other
axes. Both are read off the point's dout, so a claim is named only when it is that reduction exactly.
"""
from __future__ import annotations

import re
from itertools import combinations

import numpy as np

from .hint_kind import Hint
from .hint_case import Case, _fitted, all_same, differs, middle_dout_axes, truth_with


def _ax(a) -> str:
    return f"axis {a[0]}" if len(a) == 1 else f"axes {a}"


def _reduced(v, summed, picked, at):
    """v summed over ``summed`` (keepdims), then taken at index ``at`` along ``picked``, squeezed."""
    s = v.sum(axis=summed, keepdims=True) if summed else v
    index = tuple(at if a in picked else (0 if a in summed else slice(None)) for a in range(v.ndim))
    return s[index]


def _summed_to(vals, Ts):
    """The axes dout is summed over to give the gradient (T = dout.sum(axes)); None when it is not."""
    r = vals[0].ndim
    for n_ax in range(1, r):
        for axes in combinations(range(r), n_ax):
            red = [v.sum(axis=axes) for v in vals]
            if red[0].shape == Ts[0].shape and all_same(red, Ts):
                return axes
    return None


def dout_wrong_axes_hint(case: Case):
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts) or not Ts[0].ndim:
        return None
    example = case.points[0].example()
    for d in (n for n in example if re.fullmatch(r"dout\d*", str(n))):
        vals = [np.asarray(p.example()[d], float) for p in case.points]
        r = vals[0].ndim
        true_axes = _summed_to(vals, Ts)
        if true_axes is None or r < 3:
            continue
        kept_n = r - len(true_axes)
        for n_sum in range(0, r - kept_n + 1):
            for summed in combinations(range(r), n_sum):
                rest = [a for a in range(r) if a not in summed]
                for kept in combinations(rest, kept_n):
                    picked = tuple(a for a in rest if a not in kept)
                    if not picked or summed == true_axes:
                        continue
                    for at in (0, -1):
                        cand = [_reduced(v, summed, picked, at) for v in vals]
                        if cand[0].shape != Ts[0].shape or not all_same(Cs, cand):
                            continue
                        return _sentence(case.w.name, d, r, summed, picked, kept, at, true_axes)
    return None


def _sentence(w, d, r, summed, picked, kept, at, true_axes) -> str:
    index = [str(at) if a in picked else ":" for a in range(r) if a not in summed]
    while index and index[-1] == ":":
        index.pop()
    entry = "entry 0" if at == 0 else "the last entry"
    wrote = f"{d}.sum(axis={summed if len(summed) > 1 else summed[0]})" if summed else d
    wrote += f"[{', '.join(index)}]"
    took = (f"summed over {_ax(summed)}, and then only {entry} of {_ax(picked)} kept"
            if summed else f"only {entry} of {_ax(picked)} taken, nothing summed")
    right = f"{d}.sum(axis={true_axes if len(true_axes) > 1 else true_axes[0]})"
    return Hint(f"{d} summed over the wrong axes",
                f"the claim for {w} is {wrote} — {took}; {w} is broadcast "
                f"over {_ax(true_axes)} of {d} (every position of every example adds to its gradient), so "
                f"d{w} = {right}, keeping {_ax(kept)}.")


def one_step_hint(case: Case):
    """A temporal layer's weight gradient from one time step only: ``dw = x[:, t].T @ dout[:, t]``
    where w (shared by every step of x @ w on (N, T, D)) takes the sum over t. The claim is the
    true gradient evaluated with dout zero at every index of an axis but one (the first or the
    last), so it is named only when it is exactly that step's share."""
    for d, a, shape in middle_dout_axes(case):     # not the batch (one_example_hint's), not the features
        for at in (0, -1):
            def extra(vals, a=a, at=at, d=d):
                v = np.asarray(vals[d], float)
                keep = np.zeros(v.shape[a])
                keep[at] = 1
                return {d: v * keep.reshape([-1 if i == a else 1 for i in range(v.ndim)])}
            if truth_with(case, extra):
                which = "the first" if at == 0 else "the last"
                idx = ", ".join(":" if i != a else str(at) for i in range(a + 1))
                return Hint("one step only",
                            f"the claim for {case.w.name} is the gradient from {d}[{idx}] "
                            f"alone ({which} index of axis {a} of {d}, {shape[a]} long); {case.w.name} "
                            f"is shared by every index of that axis (every time step of a temporal layer, "
                            f"every position of a convolution), so its gradient sums them — for a temporal "
                            f"layer flatten the steps into the batch, x.reshape(N * T, -1).T @ "
                            f"{d}.reshape(N * T, -1), or add every step's term in the loop.")
    return None
