"""Name a loss backward that writes at the labels with ``dx[:, y]`` where ``dx[np.arange(N), y]``
belongs — cs231n's softmax_loss with ``dx[:, y] -= 1``, or svm_loss with
``dx[:, y] -= (margins > 0).sum(axis=1)[:, None]``.

``dx[:, y]`` is every row at the columns y (an N × N block): each example's change lands at every
column that is some example's label, where one entry per example, (i, y[i]), belongs. So the claim
minus the gradient is, row by row, a multiple r_i of M = (columns that are some label) − one_hot(y):
0 at each row's own label, the same number at the other labels' columns, 0 elsewhere. That is what
is compared, per point, for an integer tensor y of shape (N,) labelling the rows of an (N, C) w.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, TOL, _fitted, differs, same, short_text


def _labels(case: Case):
    """The names of f's integer tensors that can label w's rows: shape (N,) for an (N, C) w."""
    from ..frontend import tensor as T
    shape = tuple(int(d) for d in case.w.shape) if isinstance(case.w, T.Tensor) else ()
    if len(shape) != 2:
        return []
    return [t.name for t in case.f.atoms(T.Tensor)
            if t.is_integer_tensor and tuple(int(d) for d in t.shape) == shape[:1]]


def _fits(diff, y) -> bool:
    n, c = diff.shape
    M = np.zeros((n, c))
    M[:, np.unique(y)] = 1
    M[np.arange(n), y] = 0
    if not M.any():
        return False
    scale = max(float(np.abs(diff).max()), 1e-300)
    for i in range(n):
        on = M[i] == 1
        r = diff[i][on].mean() if on.any() else 0.0
        if np.abs(diff[i] - r * M[i]).max() > TOL * scale:
            return False
    return bool(np.abs(diff).max() > 0)


def label_index_hint(case: Case):
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts) or any(len(p.examples) != 1 for p in case.points):
        return None
    for name in _labels(case):
        ys = [np.asarray(p.example(0)[name]).astype(int) for p in case.points]
        if all(len(np.unique(y)) > 1 and _fits(c - t, y) for c, t, y in zip(Cs, Ts, ys)):
            w = case.w.name
            return Hint(f"labels indexed with [:, {name}]",
                        f"the claim changes d{w} at every row's entries in the "
                        f"columns {name} (d{w}[:, {name}] is an N × N block: each example's change lands at every "
                        f"column that is some example's label) where one entry per example belongs — row i's "
                        f"label column {name}[i]: d{w}[np.arange(N), {name}] (N = {w}.shape[0]).")
    return _through_scores(case, Cs, Ts)


def _through_scores(case: Case, Cs, Ts):
    """The same slip made on the scores z of a loss (cs231n's softmax_loss_vectorized: dscores[:, y]
    -= 1, then dW = X.T @ dscores) and seen in a parameter's gradient: the claim minus the gradient
    is the change Σᵢ rᵢ·(row i of M) at z carried back to w — linear in the unknown rᵢ, fitted by
    least squares at each point and accepted when it leaves nothing over."""
    from ..core.evaluate import evaluate, numeric
    from ..frontend import tensor as T
    from .overwrite_hints import _chain
    nodes = [n for n in dict.fromkeys(sp.preorder_traversal(case.f))
             if isinstance(n, T.TakeAlong) and n.args[0] != case.w and n.args[0].has(case.w)]
    for node in nodes[:2]:
        z = node.args[0]
        zshape = tuple(int(d) for d in T.shape_of(z))
        labels = [t.name for t in node.args[1].atoms(T.Tensor)
                  if t.is_integer_tensor and len(zshape) == 2 and tuple(int(d) for d in t.shape) == zshape[:1]]
        if len(labels) != 1:
            continue
        name = labels[0]
        G, Dg = _chain(z, case.params, case.k)
        for c, t, p in zip(Cs, Ts, case.points):
            vals = p.example(0)
            y = np.asarray(vals[name]).astype(int)
            M = np.zeros(zshape)
            M[:, np.unique(y)] = 1
            M[np.arange(zshape[0]), y] = 0
            rows = [i for i in range(zshape[0]) if M[i].any()]
            if len(np.unique(y)) < 2 or not rows:
                break
            basis = []
            for i in rows:
                E = np.zeros(zshape)
                E[i] = M[i]
                basis.append(np.asarray(evaluate(Dg.ir, [Dg.gradient_vars[0]], {**vals, G.name: E})[0], float).ravel())
            B, diff = np.stack(basis, axis=1), (c - t).ravel()
            if np.linalg.matrix_rank(B) >= diff.size:      # any change of w fits (db of 3 entries, 5 rows)
                break
            r = np.linalg.lstsq(B, diff, rcond=None)[0]
            if not (same(c, t + (B @ r).reshape(t.shape)) and np.abs(r).max() > 1e-9):
                break
        else:
            w = case.w.name
            return Hint(f"labels indexed with [:, {name}]",
                        f"the claim for {w} is the gradient with the scores' gradient changed at every row's "
                        f"entries in the columns {name} (dscores[:, {name}] is an N × N block: each example's "
                        f"change lands at every column that is some example's label) where one entry per "
                        f"example belongs — dscores[np.arange(N), {name}], then d{w} from dscores "
                        f"(scores = {short_text(z, 40)}).")
    return None
