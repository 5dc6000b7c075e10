"""A softmax cross-entropy as one operation of the picture, as the slides draw it.

``sg.cross_entropy(z, y)`` over a batch of integer labels lowers to
logsumexp(z, axis=1) − (z ⊙ one_hot(y)).sum(axis=1), then Σ and ×1/N; with a target distribution
t (or the slides' −Σ t ⊙ log softmax(z)) to −(t ⊙ log_softmax(z, axis=1)).sum(axis=1), Σ, ×1/N.
The slide draws one node, "cross-entropy (mean)", with z and the labels flowing in and the loss
out, and on z's edge the whole of

    δ = ∂L/∂z = (softmax(z) − one_hot(y))/N        (softmax(z) − t)/N when t's rows sum to 1

(the sum of reverse mode's contributions through the logsumexp and through the picked logit: the
numbers stay reverse mode's own). Where the user wrote the softmax out, −Σ t ⊙ log(softmax(z)),
the softmax stays a node of its own and the cross-entropy of the probabilities is the next one
(softmax → cross-entropy), p's edge carrying −t/(N·p).

A group is recognised from its core — the labels' logsumexp minus the picked logit, or a target
times a log_softmax (a log of a softmax) — then up a chain of reshapes, sums and constant factors,
to the furthest point that is the cross-entropy summed ("sum"), averaged over the batch
("mean") or per example ("none"); every value inside is used once, inside the group.

>>> import symgrad as sg
>>> z, y = sg.tensor("z", (4, 3)), sg.tensor("y", (4,), integer=True)
>>> d = sg.derive(sg.cross_entropy(z, y), [z])
>>> from symgrad.teaching.graph_folds import _users
>>> eqns = d.ir.ancestors([d.output])
>>> [(g.label, len(g.inputs)) for g in cross_entropy_groups(d.ir, _users(eqns), eqns, {}).values()]
[('cross-entropy (mean)', 2)]
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..core import array_rules as A
from ..core import rules as R
from .cross_entropy_column import _number, column_core, column_delta, label_core
from .graph_folds import _behind_views, _once, _scale

LABELS = {"mean": "cross-entropy (mean)", "sum": "cross-entropy (sum)", "none": "cross-entropy",
          "example": "cross-entropy"}      # "example": a MatrixSymbol network's column (cross_entropy_column)


@dataclass
class CrossEntropyGroup:
    """One cross-entropy of the lowering: ``z`` the id of the value it takes (the logits, or the
    probabilities of a softmax the user wrote out), ``target`` the labels' or the target's id,
    ``axis`` the class axis, ``reduction`` "mean", "sum" or "none", ``inner`` the ids folded into
    it and ``end`` the id of the equation that ends it (its value is the loss)."""
    z: int
    target: int
    axis: int
    reduction: str
    inner: set
    end: int
    labels: bool           # integer labels (one_hot inside), else a target distribution
    of_logits: bool        # z are logits (the softmax is inside), else probabilities
    called: bool = True    # as sg.cross_entropy lowers it (not a user's −Σ(log p ⊙ t)/N)
    scale: sp.Expr = sp.S.One   # a MatrixSymbol column's c·cross_entropy(z, t): c, lowered into its end

    @property
    def label(self) -> str:
        if self.scale != 1:        # the slide's 2·CE: the scale before the cross-entropy's name
            c = "−" if self.scale == -1 else f"{_number(self.scale)}·"
            return f"{c}{LABELS[self.reduction]}"
        return LABELS[self.reduction]

    @property
    def inputs(self) -> list:
        return [self.z, self.target]


def _labels_core(graph, consumers, e):
    """logsumexp(z, axis) − (z ⊙ one_hot(y)).sum(axis) of one example each (reshaped to the batch):
    (z, y, axis, the ids inside), else None."""
    if e.prim is not R.ewise_p or len(e.inputs) != 2:
        return None
    for i, j in ((0, 1), (1, 0)):
        if e.params[0] != R.ph(i) - R.ph(j) or not all(_once(consumers, v) for v in e.inputs):
            continue
        lse, passed_lse = _behind_views(graph, consumers, e.inputs[i])
        picked, passed_picked = _behind_views(graph, consumers, e.inputs[j])
        inner = set(passed_lse) | set(passed_picked)
        if lse.prim is not A.lse_p or picked.prim is not A.rsum_p or not _once(consumers, picked.out):
            continue
        if not _once(consumers, lse.out):
            continue
        axis = int(lse.params[0])
        prod = graph.producer[picked.inputs[0].id]
        if tuple(picked.params[0]) != (axis,) or not _once(consumers, prod.out) or prod.prim is not R.ewise_p \
                or len(prod.inputs) != 2 or prod.params[0] != R.ph(0) * R.ph(1):
            continue
        z = lse.inputs[0]
        others = [v for v in prod.inputs if v.id != z.id]
        if len(others) != 1 or len(prod.inputs) - len(others) != 1:
            continue
        oh = graph.producer[others[0].id]
        if oh.prim.name != "one_hot" or not _once(consumers, oh.out):
            continue
        inner |= {lse.out.id, picked.out.id, prod.out.id, oh.out.id}
        return z, oh.inputs[0], axis, inner
    return None


def _log_probabilities(graph, consumers, v, softmaxes):
    """(z, axis, the ids inside, of logits) when ``v`` is log_softmax(z, axis) (its group's end) or
    log(p) of a softmax's p (then z is p: the softmax stays a node of its own), used once."""
    if not _once(consumers, v):
        return None
    e = graph.producer[v.id]
    sm = softmaxes.get(v.id)
    if sm is not None and sm.label.startswith("log_softmax"):
        return graph.producer[sm.z].out, sm.axis, set(sm.inner) | {v.id}, True
    if e.prim is R.ewise_p and len(e.inputs) == 1 and e.params[0] == sp.log(R.ph(0)):
        p = e.inputs[0]
        sm = softmaxes.get(p.id)
        if sm is not None and not sm.label.startswith("log_softmax"):
            return p, sm.axis, {v.id}, False
    return None


def _target_core(graph, consumers, e, softmaxes):
    """c·t ⊙ log_softmax(z) (c = ±1): (z, t, axis, the ids inside, c, of logits), else None."""
    if e.prim is not R.ewise_p or len(e.inputs) != 2:
        return None
    for i, j in ((0, 1), (1, 0)):
        lp = _log_probabilities(graph, consumers, e.inputs[i], softmaxes)
        if lp is None:
            continue
        c = sp.simplify(e.params[0] / (R.ph(0) * R.ph(1)))
        if c not in (1, -1):
            continue
        z, axis, inner, logits = lp
        t = e.inputs[j]
        if t.id == z.id or t.shape != e.out.shape:
            continue
        return z, t, axis, inner, int(c), logits
    return None


def _reduced(graph, consumers, v, k, axis, class_summed, zshape, scaled=False):
    """Up from the core value ``v`` (k times the cross-entropy; its class axis summed or not): the
    furthest (end var, reduction, the ids passed, the scale) that is the loss summed, averaged over
    the batch or per example (of the batch shape: ``zshape`` without the class axis), else None.
    ``scaled``: a sum times any constant c counts too (a MatrixSymbol column's 2·cross_entropy(z,
    t), whose 2 and −1 lower into one ×(−2)), its scale c returned; else the scale is 1."""
    batch_shape = tuple(s for a, s in enumerate(zshape) if a != axis)
    batch = sp.Mul(*batch_shape)
    passed, best = [], None

    def note(v, k):
        if not class_summed:
            return None
        if v.shape == () and sp.simplify(k - 1) == 0:
            return v, "sum", list(passed), sp.S.One
        if v.shape == () and scaled and k.is_number and k != 0:
            return v, "sum", list(passed), k
        if v.shape == () and sp.simplify(k * batch - 1) == 0:
            return v, "mean", list(passed), sp.S.One
        if v.shape != () and tuple(v.shape) == batch_shape and sp.simplify(k - 1) == 0:
            return v, "none", list(passed), sp.S.One
        return None

    best = note(v, k)
    while _once(consumers, v):
        e = consumers[v.id][0]
        if e.prim is A.reshape_p:
            pass
        elif e.prim is A.rsum_p and not class_summed and tuple(e.params[0]) == (axis,) \
                and len(v.shape) == len(zshape):
            class_summed = True
        elif e.prim is A.rsum_p and class_summed and set(e.params[0]) == set(range(len(v.shape))):
            pass                                  # Σ over the batch's axes
        elif e.prim is R.sum_p and e.params[0] is None:
            class_summed = True                   # Σ of every entry: the classes' too
        else:
            kc = _scale(e) or _by_size(graph, consumers, e, v, zshape, passed)
            if kc is None or kc[1] != 0:
                break
            k = k * kc[0]
        passed.append(v.id)
        v = e.out
        best = note(v, k) or best
    return best


def _by_size(graph, consumers, e, v, zshape, passed):
    """(k, 0) when ``e`` is c·v·s with s a size of the logits' shape or a function of it (the user's
    −Σ t ⊙ log p / N: N is an input of the graph, 1/N an equation), each used once; the ids of s
    are added to ``passed``, else None."""
    if e.prim is not R.ewise_p or len(e.inputs) != 2 or v.id not in [w.id for w in e.inputs]:
        return None
    i = [w.id for w in e.inputs].index(v.id)
    w = e.inputs[1 - i]
    sizes = set().union(*[sp.sympify(n).free_symbols for n in zshape])
    ids, f = [], R.ph(0)
    p = graph.producer[w.id]
    while p.prim is R.ewise_p and len(p.inputs) == 1 and _once(consumers, w):
        ids.append(w.id)
        f = f.xreplace({R.ph(0): p.params[0]})
        w = p.inputs[0]
        p = graph.producer[w.id]
    if p.prim is not R.input_p or p.params[0] not in sizes or not _once(consumers, w) or w.shape != ():
        return None
    k = sp.simplify(e.params[0].xreplace({R.ph(i): 1, R.ph(1 - i): f.xreplace({R.ph(0): p.params[0]})}))
    if k.has(*R.placeholders(2)):
        return None
    passed.extend(ids + [w.id])
    return k, 0


def cross_entropy_groups(graph, consumers, fwd, softmaxes) -> dict:
    """{the id of the equation that ends each cross-entropy: CrossEntropyGroup} among ``fwd``
    (``softmaxes``: the softmax and log_softmax groups, `symgrad.teaching.softmax_steps`)."""
    out = {}
    taken: set = set()
    for e in fwd:
        if e.out.id in taken:
            continue
        ce = _group_from(graph, consumers, e, softmaxes)
        if ce is not None and _closed(consumers, ce.inner, ce.end):
            out[ce.end] = ce
            taken |= ce.inner | {ce.end}
    return out


def _group_from(graph, consumers, e, softmaxes):
    """The cross-entropy whose core is ``e``, up to its furthest end (its values' uses unchecked),
    else None."""
    core = _labels_core(graph, consumers, e)
    column = column_core(graph, consumers, e) if core is None else None
    label = label_core(graph, consumers, e) if core is None and column is None else None
    if column is not None or label is not None:
        # a MatrixSymbol column: −Σ t ⊙ (z − logsumexp(z)), or logsumexp(z) − z[k]
        if column is not None:
            z, t, inner, c = column
            found = _reduced(graph, consumers, e.out, sp.S(-c), 0, False, tuple(z.shape), scaled=True)
        else:
            z, t, inner, c = label
            found = _reduced(graph, consumers, e.out, sp.S(c), 0, True, tuple(z.shape), scaled=True)
        if found is None or found[1] != "sum" or found[0].shape != ():
            return None
        end, _, passed, scale = found
        inner = (set(inner) | {e.out.id} | set(passed)) - {end.id}
        return CrossEntropyGroup(z.id, t.id, 0, "example", inner, end.id, label is not None, True, True, scale)
    if core is not None:
        z, t, axis, inner = core
        k, class_summed, labels, logits = sp.S.One, True, True, True
    else:
        tc = _target_core(graph, consumers, e, softmaxes)
        if tc is None:
            return None
        z, t, axis, inner, c, logits = tc
        k, class_summed, labels = sp.S(-c), False, False
    found = _reduced(graph, consumers, e.out, k, axis, class_summed, tuple(z.shape))
    if found is None:
        return None
    end, reduction, passed, _ = found
    # sg.cross_entropy(z, t) lowers to (−t ⊙ log_softmax(z)).sum(axis), then the batch's mean
    first = consumers[e.out.id][0] if _once(consumers, e.out) else None
    called = labels or (k == 1 and first is not None and first.prim is A.rsum_p)
    inner = (set(inner) | {e.out.id} | set(passed)) - {end.id}
    return CrossEntropyGroup(z.id, t.id, axis, reduction, inner, end.id, labels, logits, called)


def _closed(consumers, inner, end) -> bool:
    """Every value inside is used once, by an equation of the group (nothing the picture draws
    elsewhere is lost); z may be read twice inside (the logsumexp and the picked logit)."""
    group = inner | {end}
    for vid in inner:
        users = consumers.get(vid, ())
        if len(users) != 1 or users[0].out.id not in group:
            return False
    return True


def drawn_uses(users, groups, softmaxes) -> int:
    """How many drawn edges leave a value read by the equations ``users``: the reads inside one
    folded operation (a cross-entropy's logits, read by its logsumexp and its picked logit; a
    softmax's input, by its logsumexp and its exp) are one edge."""
    n = len(users)
    folded = [g.inner | {g.end} for g in groups.values()]
    inside_ce = set().union(*folded) if folded else set()
    folded += [sm.inner | {sm.end} for sm in softmaxes.values() if sm.end not in inside_ce]
    for ids in folded:
        k = sum(1 for e in users if e.out.id in ids)
        n -= max(k - 1, 0)
    return n


def delta(ce, graph, disp, given, logits=None):
    """The slides' δ on the logits' edge of a cross-entropy that ends the loss, in the names of
    ``disp``: (softmax(z) − one_hot(y))/N for a mean, softmax(z) − t for a sum over a target whose
    rows sum to 1 (a ``given``), else (t.sum(axis, keepdims=True) ⊙ softmax(z) − t)/N; for a
    per-example loss ("none") softmax(z) − one_hot(y), each row's δ before its own upstream
    gradient. ``logits``: the id of the logits when the group takes the probabilities of
    a softmax the user wrote out (δ is then the softmax's input's gradient)."""
    from ..core.to_sympy import eqn_to_sympy
    from ..frontend.tensor_softmax import softmax
    from .row_sums import gather, known_row_sums
    if (logits is None) != ce.of_logits:
        return None
    z = disp[ce.z if logits is None else logits]
    if ce.reduction == "example":               # a MatrixSymbol column: Σt·softmax(z) − t
        return column_delta(z, disp[ce.target], given, ce.labels, ce.scale)
    hot = next((graph.producer[i] for i in ce.inner if graph.producer[i].prim.name == "one_hot"), None)
    t = eqn_to_sympy(graph, hot, [disp[v.id] for v in hot.inputs]) if hot is not None else disp[ce.target]
    zshape = graph.producer[ce.z].out.shape
    count = sp.Mul(*[s for a, s in enumerate(zshape) if a != ce.axis]) if ce.reduction == "mean" else 1
    # "none": each example's δ before its upstream gradient (`cross_entropy_steps.backward` puts it on)
    from ..frontend import tensor as T
    e = (softmax(z, axis=ce.axis) * T.sum(t, axis=ce.axis, keepdims=True) - t) / count
    return gather(known_row_sums(e, given))
