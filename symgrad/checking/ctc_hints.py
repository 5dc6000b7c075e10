"""Name a CTC loss's backward (11-785's CTCLoss) whose forward-backward ran on another graph of the
extended target [blank, s1, blank, s2, ..., blank] than the loss's:

    repeat skip   a skip connection allowed between repeated symbols (ext[r] == ext[r − 2]): the
                  blank between two equal symbols is then optional, and "1 1" collapses to one 1
    no skip       no skip connection at all: every blank between two symbols required

Decided with numbers alone, for a scalar loss f of a 2-d tensor y (rows the time steps) that is
−log P, P a sum over alignments of the product of one y[t, ·] per row: P is linear in each row, so
P with row t set to the unit vector e_c is ∂P/∂y[t, c], and one alignment is read by setting the
rows one after the other to the first unit vector that keeps P > 0. Collapsing it
(repeats merged, the blank dropped) gives the target for each choice of blank; the one whose CTC
forward recursion gives symgrad's gradient at the points is the loss's. The claim is then compared
with the gradient of −log P on each slipped graph, ∂(−log P)/∂y[t, c] = −P(row t := e_c) / P.
`hints.find_hint` asks it after the likelihood hints.
"""
from __future__ import annotations

import numpy as np

from .hint_kind import Hint
from .hint_case import Case, _fitted, differs, same
from .likelihood_hints import _loss_with_log, _values

MAX_ENTRIES = 400                 # y's entries: the alignment is read with one evaluation of f per entry


def _extended(target, blank, skip_rule):
    ext = [blank]
    for s in target:
        ext += [s, blank]
    skip = [r >= 2 and ext[r] != blank and skip_rule(ext[r], ext[r - 2]) for r in range(len(ext))]
    return ext, skip


RULES = {"ctc": lambda a, b: a != b, "repeat skip": lambda a, b: True, "no skip": lambda a, b: False}


def _probability(y, ext, skip) -> float:
    """P by the forward recursion: α(0, r) = y[0, ext[r]] for r < 2, then
    α(t, r) = (α(t−1, r) + α(t−1, r−1) + skip[r]·α(t−1, r−2)) · y[t, ext[r]];
    P = α(T−1, S−1) + α(T−1, S−2)."""
    S = len(ext)
    a = np.zeros(S)
    a[:2] = y[0, ext[:2]]
    for t in range(1, y.shape[0]):
        prev = a.copy()
        for r in range(S):
            a[r] = (prev[r] + (prev[r - 1] if r else 0.0) + (prev[r - 2] if skip[r] else 0.0)) * y[t, ext[r]]
    return float(a[-1] + (a[-2] if S > 1 else 0.0))


def _gradient(y, ext, skip) -> np.ndarray:
    """∂(−log P)/∂y: P is linear in each row of y, so ∂P/∂y[t, c] is P with row t set to e_c."""
    P = _probability(y, ext, skip)
    g = np.zeros(y.shape)
    for t in range(y.shape[0]):
        for c in range(y.shape[1]):
            u = y.copy()
            u[t] = 0.0
            u[t, c] = 1.0
            g[t, c] = -_probability(u, ext, skip) / P
    return g


def _probability_of_f(case: Case, example, y) -> float:
    """exp(−f) with the wrt tensor set to ``y``, f evaluated as symgrad lowered it."""
    from ..core.evaluate import evaluate
    D = case.derivation
    with np.errstate(all="ignore"):
        v = np.asarray(evaluate(D.ir, [D.output], {**example, case.w.name: y})[0], float)
    return float(np.exp(-v)) if v.shape == () else np.nan


def _alignment(case: Case, example) -> list | None:
    """One alignment of P: a column per row with P > 0 once the rows before are set."""
    y = np.ones(np.shape(example[case.w.name]))

    def P(u):
        return _probability_of_f(case, example, u)

    for t in (0, -1):                # linear in each row: 0 where a row is 0 (a softmax's loss is not)
        u = y.copy()
        u[t] = 0.0
        if not P(u) == 0.0:
            return None
    path = []
    for t in range(y.shape[0]):
        for c in range(y.shape[1]):
            u = y.copy()
            u[t] = 0.0
            u[t, c] = 1.0
            if P(u) > 0:
                y = u
                path.append(c)
                break
        else:
            return None
    return path


def _collapse(path, blank) -> list:
    merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
    return [c for c in merged if c != blank]


def _target(case: Case, ys, Ts):
    """(target, blank) of the CTC loss f is, or None when f is no CTC loss (to symgrad's gradient)."""
    example = case.points[0].example()
    path = _alignment(case, example)
    if path is None:
        return None
    P = _probability_of_f(case, example, ys[0])
    for blank in range(ys[0].shape[1]):
        target = _collapse(path, blank)
        if not target:
            continue
        ext, skip = _extended(target, blank, RULES["ctc"])
        if not np.isclose(_probability(ys[0], ext, skip), P, rtol=1e-9, atol=0.0):
            continue                 # P itself first: one recursion, not one per entry of y
        if all(same(_gradient(y, ext, skip), t) for y, t in zip(ys, Ts)):
            return target, blank
    return None


def ctc_graph_hint(case: Case):
    Cs, Ts = _fitted(case)
    if (not differs(Cs, Ts) or not _loss_with_log(case) or len(case.w.shape) != 2
            or any(len(p.examples) != 1 for p in case.points)):
        return None
    ys = _values(case)
    if ys[0].size > MAX_ENTRIES:
        return None
    found = _target(case, ys, Ts)
    if found is None:
        return None
    target, blank = found
    repeats = any(a == b for a, b in zip(target, target[1:]))
    ext = _extended(target, blank, RULES["ctc"])[0]
    name = case.w.name
    for slip in ("repeat skip", "no skip"):
        e, skip = _extended(target, blank, RULES[slip])
        if slip == "repeat skip" and not repeats:
            continue
        if all(same(c, _gradient(y, e, skip)) for c, y in zip(Cs, ys)):
            rule = (f"in the extended target {ext} (blank {blank}) state r may skip the blank before it "
                    f"only when ext[r] != ext[r - 2] (11-785's extend_target_with_blank: skip_connect)")
            if slip == "repeat skip":
                return Hint("CTC skip connection between repeated symbols",
                            f"the claim is the gradient of −log P "
                            f"with the blank between two equal symbols of the target {target} made optional — "
                            f"{rule}; between repeats the blank is required, else the two collapse to one.")
            return Hint("CTC without skip connections",
                        f"the claim is the gradient of −log P with every blank "
                        f"between two symbols of the target {target} required — {rule}, so between different "
                        f"symbols it may be skipped.")
    return None


__all__ = ["ctc_graph_hint"]
