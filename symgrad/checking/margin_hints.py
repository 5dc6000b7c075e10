"""Name the multiclass SVM loss backward that subtracts 1 at each example's label
(`dx[np.arange(N), y] -= 1`) where the correct class's score, being in every margin of its row, takes
minus the number of positive margins (`-= (margins > 0).sum(axis=1)`). Compared entry by entry:
right off the labels, and at each label one margin's share with its sign flipped."""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _fitted, all_same, same, value_at


def _label_mask(case: Case, node, shape, p):
    """1 at each example's label (the entries take_along_axis picks), per point."""
    idx = p.mean(lambda vals: [value_at(node.args[1], vals)])[0]
    mask = np.zeros(shape)
    np.put_along_axis(mask, np.rint(idx).astype(int), 1.0, axis=int(node.args[2]))
    return mask > 0


def _words(classes: int, counts: set):
    if 1 not in counts:
        return Hint("correct class counted for every class",
                    f"at each example's label the claim subtracts one margin's share for each of the "
                    f"{classes - 1} other classes — dW[:, y[i]] -= X[i] outside the `if margin > 0:` of the "
                    f"loop, or dx[np.arange(N), y] -= {classes - 1}; the correct class's score takes a share "
                    f"only from the margins that are positive: dx[np.arange(N), y] -= "
                    f"(margins > 0).sum(axis=1), before the division by N.")
    return Hint("correct class counted once",
                "at each example's label the claim subtracts one margin's "
                "share (dx[np.arange(N), y] -= 1); the correct class's score is in every margin of its row, "
                "so it takes minus the number of positive margins: dx[np.arange(N), y] -= "
                "(margins > 0).sum(axis=1), before the division by N.")


def _through_weights_hint(case: Case):
    """The same slips in svm_loss_naive's dW, for scores X @ W: the scores' gradient G is derived
    (S held as a fresh tensor), its label entries made −k·(one share) — once, or once per other
    class — and X.T @ G compared with the claim."""
    from ..frontend import tensor as T
    from .hint_case import gradient_at_fresh
    nodes = list(dict.fromkeys(n for n in sp.preorder_traversal(case.f) if isinstance(n, T.TakeAlong)
                               and isinstance(n.args[0], T.TensorMatMul) and n.args[0].args[1] == case.w))
    Cs, Ts = _fitted(case)
    if len(nodes) != 1 or not case.f.has(sp.Max) or all_same(Cs, Ts) or any(c is None for c in Cs):
        return None
    S = nodes[0].args[0]
    X = S.args[0]
    if len(T.shape_of(S)) != 2 or int(nodes[0].args[2]) != 1:
        return None
    U = T.tensor("_scores", tuple(int(d) for d in T.shape_of(S)))
    Gs = gradient_at_fresh(case, case.f.xreplace({S: U}), U, lambda vals: value_at(S, vals))
    if Gs is None:
        return None
    classes = int(T.shape_of(S)[1])
    counts = {1, classes - 1}
    for c, t, g, p in zip(Cs, Ts, Gs, case.points):
        lab = _label_mask(case, nodes[0], g.shape, p)
        off = g[~lab][np.abs(g[~lab]) > 1e-12]
        if off.size == 0 or not same(off, np.full(off.shape, off[0])):
            return None
        x = p.mean(lambda vals: [value_at(X, vals)])[0]
        keep = set()
        for k in counts:
            slipped = g.copy()
            slipped[lab] = -k * off[0]
            if same(c, t + x.T @ (slipped - g)):     # the other paths (a regularizer's) kept
                keep.add(k)
        counts = keep
        if not counts:
            return None
    return _words(classes, counts)


def svm_correct_class_hint(case: Case):
    from ..frontend import tensor as T
    nodes = [n for n in sp.preorder_traversal(case.f) if isinstance(n, T.TakeAlong) and n.args[0] == case.w]
    Cs, Ts = _fitted(case)
    if not nodes:
        return _through_weights_hint(case)
    if len(set(nodes)) != 1 or not case.f.has(sp.Max) or all_same(Cs, Ts) or any(c is None for c in Cs):
        return None
    classes = int(Ts[0].shape[int(nodes[0].args[2])])
    counts = {1, classes - 1}                 # the label's −share subtracted once, or for every other class
    for c, t, p in zip(Cs, Ts, case.points):
        lab = _label_mask(case, nodes[0], t.shape, p)
        if not same(c[~lab], t[~lab]):
            return None
        off = t[~lab][np.abs(t[~lab]) > 1e-12]
        if off.size == 0 or not same(off, np.full(off.shape, off[0])):
            return None                       # one margin's share: the same at every positive margin
        counts = {k for k in counts if same(c[lab], np.full(c[lab].shape, -k * off[0]))}
        if not counts:
            return None
    return _words(classes, counts)


def svm_margins_hint(case: Case):
    """The margins themselves where their 0/1 indicator belongs (dx = margins / N): the claim is,
    off the labels, the gradient of f with relu′ taken as relu itself (max(0, m)′ = max(0, m)); at the
    labels that gradient too (binary = margins, then binary[np.arange(N), y] = -row_sum), the right
    entries (-(margins > 0).sum(axis=1) kept), or 0 (dx = margins / N with the labels' margins zeroed)."""
    from ..frontend import tensor as T
    from .derivative_rule_hints import _relu_by_its_value
    from .hint_case import gradient_graph
    nodes = [n for n in sp.preorder_traversal(case.f) if isinstance(n, T.TakeAlong) and n.args[0] == case.w]
    Cs, Ts = _fitted(case)
    through = not nodes and any(isinstance(n, T.TakeAlong) and isinstance(n.args[0], T.TensorMatMul)
                                and n.args[0].args[1] == case.w for n in sp.preorder_traversal(case.f))
    if through:                               # svm_loss_naive's dW: the slipped f's gradient, compared whole
        nodes = [None]
    if len(set(nodes)) != 1 or not case.f.has(sp.Max) or all_same(Cs, Ts) or any(c is None for c in Cs):
        return None
    slipped = case.f.replace(lambda e: isinstance(e, sp.Max) and len(e.args) == 2 and sp.S.Zero in e.args,
                             lambda e: _relu_by_its_value(next(a for a in e.args if a != 0)))
    graph, g = gradient_graph(slipped, case.params, case.k, case.derivation.ir.policy)
    if g is None:
        return None
    Ss = [np.broadcast_to(v[0], t.shape) for v, t in zip(case.eval_vars(graph, [g]), Ts)]
    if through:
        if not all_same(Cs, Ss):
            return None
        return Hint("margins where their 0/1 indicator belongs",
                    "the claim adds each positive margin's value where its indicator belongs — dW[:, j] += "
                    "margin * X[i] (and dW[:, y[i]] -= margin * X[i]) for dW[:, j] += X[i]: a margin's "
                    "derivative with respect to its score is 1 where the margin is positive and 0 elsewhere, "
                    "(margins > 0), not the margin's value.")
    kinds = {"all", "kept", "zero"}
    for c, t, s, p in zip(Cs, Ts, Ss, case.points):
        lab = _label_mask(case, nodes[0], t.shape, p)
        if not same(c[~lab], s[~lab]) or same(s[~lab], t[~lab]):
            return None
        kinds &= {k for k, want in (("all", s[lab]), ("kept", t[lab]), ("zero", 0 * t[lab])) if same(c[lab], want)}
        if not kinds:
            return None
    kind = next(k for k in ("zero", "kept", "all") if k in kinds)
    right = ("dx = (margins > 0).astype(float); dx[np.arange(N), y] -= (margins > 0).sum(axis=1); dx /= N")
    said = {"zero": "dx = margins / N, the margins themselves (and 0 at each label)",
            "kept": "dx = margins where (margins > 0) belongs, then dx[np.arange(N), y] -= (margins > 0).sum(axis=1)",
            "all": "dx = margins, dx[np.arange(N), y] = -margins.sum(axis=1) (binary = margins without "
                   "binary[margins > 0] = 1)"}[kind]
    more = (" — and the correct class's column, which is in every margin of its row, takes minus the "
            "number of positive margins" if kind == "zero" else "")
    return Hint("margins where their 0/1 indicator belongs",
                f"the claim is {said}; a margin's derivative with "
                f"respect to its score is 1 where the margin is positive and 0 elsewhere — (margins > 0), not "
                f"the margin's value{more}: {right}.")
