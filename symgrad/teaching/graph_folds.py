"""Operations of a slide that the lowering spells as several equations, each to be drawn as one
node of the picture (`symgrad.teaching.graph_picture`): a pooling layer ("max pool 2×2", not
windows → reshape → max over the window), the batch's statistics ("mean (axis 0)", not Σ then ÷N;
"variance (axis 0)", not a square, Σ and ÷N) and a subtraction x − μ ("① − ②", not ×(−1) then +,
as NumPy's broadcasting keeps them apart). Each finder returns {the id of the equation that ends
the operation: (its label, the ids of the equations folded into it[, the slot of each input])}; a folded equation must be
used by the operation alone, so no value the picture needs disappears, and the gradients on the
edges stay reverse mode's own.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x = sg.tensor("x", (N, 3))
>>> d = sg.derive(sg.sum(x.var(axis=0)), [x])
>>> eqns = d.ir.ancestors([d.output])
>>> sorted(op[0] for op in statistics(d.ir, _users(eqns), eqns).values())
['mean (axis 0)', 'variance (axis 0)', '① − ②']
"""
from __future__ import annotations

import math
from collections import defaultdict

import sympy as sp

from ..core import array_rules as A
from ..core import conv_rules as CR
from ..core import rules as R

PASS_THROUGH = (A.reshape_p, A.expand_p, R.broadcast_p)   # NumPy's implicit broadcasting, lowered


def _users(eqns) -> dict:
    """{value id: [the equations that read it]} (a doctest helper; the picture has its own)."""
    out = defaultdict(list)
    for e in eqns:
        for v in e.inputs:
            out[v.id].append(e)
    return out


def _window_text(kernel, stride, pads, dilation, default_stride) -> str:
    """kernel 2×2 (and the stride, padding, dilation where they are not the defaults), as the user
    wrote them: "2×2", "3×3, stride 2, padding 1"."""
    out = "×".join(str(k) for k in kernel)
    if tuple(stride) != tuple(default_stride):
        out += ", stride " + _one(stride)
    if any(lo or hi for lo, hi in pads):
        out += ", padding " + (_one([lo for lo, _ in pads]) if all(lo == hi for lo, hi in pads) else str(tuple(pads)))
    if any(d != 1 for d in dilation):
        out += ", dilation " + _one(dilation)
    return out


def _one(xs) -> str:
    """(2, 2) as 2, as conv2d(stride=2) takes it; (2, 1) as (2, 1)."""
    xs = tuple(int(x) for x in xs)
    return str(xs[0]) if len(set(xs)) == 1 else str(xs)


def pooling(graph, consumers, eqns) -> dict:
    """The pooling layers of the lowering, each to be drawn as one operation: {the id of the
    equation that ends it: (its label, the ids of the equations folded into it)}. A max pool
    lowers to windows (padded with −∞) → the window flattened → max over it, an average pool to
    windows → Σ over the window → /k; the slide draws "max pool 2×2"."""
    out = {}
    once = lambda v: len(consumers.get(v.id, ())) == 1      # noqa: E731 - used by this chain only
    for e in eqns:
        if e.prim is A.rmax_p:                               # max pool: windows → reshape → rmax
            r = graph.producer[e.inputs[0].id]
            w = graph.producer[r.inputs[0].id] if r.prim is A.reshape_p else None
            if w is not None and w.prim is CR.windows_p and w.params[4] == -sp.oo and once(r.out) and once(w.out):
                kernel, stride, pads, dil, _ = w.params
                out[e.out.id] = ("max pool " + _window_text(kernel, stride, pads, dil, kernel), {r.out.id, w.out.id})
        elif e.prim is R.ewise_p and len(e.inputs) == 1:      # avg pool: windows → Σ (window) → reshape → /k
            chain, v = [], e.inputs[0]
            while graph.producer[v.id].prim is A.reshape_p and once(v):
                chain.append(v.id)
                v = graph.producer[v.id].inputs[0]
            s = graph.producer[v.id]
            w = graph.producer[s.inputs[0].id] if s.prim is A.rsum_p and once(v) else None
            if w is None or w.prim is not CR.windows_p or not once(w.out) or w.params[4] != 0:
                continue
            kernel, stride, pads, dil, _ = w.params
            k = sp.simplify(e.params[0] / R.ph(0))      # only here: it took 30 s on 250 sin nodes
            nd = len(kernel)
            window_axes = tuple(range(len(w.out.shape) - nd, len(w.out.shape)))
            if tuple(s.params[0]) == window_axes and k.is_number and k * math.prod(kernel) == 1:
                out[e.out.id] = ("avg pool " + _window_text(kernel, stride, pads, dil, kernel),
                                 {*chain, s.out.id, w.out.id})
    return out



def _once(consumers, v) -> bool:
    return len(consumers.get(v.id, ())) == 1


def _behind_views(graph, consumers, v):
    """(the equation that makes ``v`` once the reshapes and broadcasts above it are passed, the ids
    passed); each passed value must be used once."""
    passed = []
    e = graph.producer[v.id]
    while e.prim in PASS_THROUGH and _once(consumers, v):
        passed.append(v.id)
        v = e.inputs[0]
        e = graph.producer[v.id]
    return e, passed


def _scale(eqn):
    """(k, c) when ``eqn`` is ewise[a0·k + c] of one input, with k and c constants (1/N, and an ε
    that a number N lets the lowering fuse in: var/3 + ε), else None."""
    if eqn.prim is not R.ewise_p or len(eqn.inputs) != 1:
        return None
    a = R.ph(0)
    body = sp.expand(eqn.params[0])
    k = body.coeff(a)
    if k.has(a) or k == 0:            # sin(a0): no scale, and nothing to simplify (once per node)
        return None
    c = sp.simplify(body - k * a)
    return None if c.has(a) else (k, c)


def _mean(graph, consumers, e):
    """(axes, the Σ's input, the ids folded, ddof, a constant added) when ``e`` is Σ over axes then
    × 1/K (+ c), with K the count of the entries summed (or that minus 1: ddof=1)."""
    kc = _scale(e)
    if kc is None:
        return None
    k, shift = kc
    s, passed = _behind_views(graph, consumers, e.inputs[0])
    if s.prim not in (A.rsum_p, R.sum_p) or not _once(consumers, s.out):
        return None
    shape = s.inputs[0].shape
    axes = s.params[0]
    if s.prim is R.sum_p or axes is None:        # Σ of every entry: the mean of them all
        axes = tuple(range(len(shape)))
    axes = tuple(axes) if isinstance(axes, (tuple, list)) else (axes,)
    count = sp.Mul(*[shape[a] for a in axes])
    if s.prim is R.sum_p and count.is_number:
        return None     # ½‖ŷ − y‖² of a 2-vector is Σ then ×½, a mean only by coincidence; a batch's has N
    for ddof in (0, 1):
        if sp.simplify(1 / k - (count - ddof)) == 0:
            return axes, s.inputs[0], {s.out.id, *passed}, ddof, shift
    return None


def _negated(graph, consumers, v):
    """(the value negated, the ids folded) when ``v`` is −u (behind reshapes and broadcasts) and
    used once, else None."""
    e, passed = _behind_views(graph, consumers, v)
    if e.prim is R.ewise_p and len(e.inputs) == 1 and e.params[0] == -R.ph(0) and _once(consumers, e.out):
        return e.inputs[0], {e.out.id}
    return None


def subtraction(graph, consumers, eqn):
    """(label, the ids folded, the value subtracted, the slot of each input) when ``eqn`` is
    a + (−b): ① − ②, a in slot ①, else None."""
    if eqn.prim is not R.ewise_p or len(eqn.inputs) != 2 or eqn.params[0] != R.ph(0) + R.ph(1):
        return None
    for i, v in enumerate(eqn.inputs):
        neg = _negated(graph, consumers, v)
        if neg is not None:
            return "① − ②", neg[1], neg[0], ["①", "②"] if i == 1 else ["②", "①"]
    return None


def statistics(graph, consumers, eqns) -> dict:
    """The means and variances over axes (a batch norm's μ and σ², a layer norm's), and the
    subtractions, among ``eqns``: {id: (label, folded ids)} (see the module)."""
    out = {}
    for e in eqns:
        m = _mean(graph, consumers, e)
        if m is not None:
            axes, z, folded, ddof, shift = m
            full = len(axes) == len(z.shape)             # of every entry: the loss's mean over the batch
            where = "" if full else f"axis {', '.join(str(a) for a in axes)}"
            sq = graph.producer[z.id]
            dev = sq.inputs[0] if (sq.prim is R.ewise_p and len(sq.inputs) == 1
                                   and sq.params[0] == R.ph(0) ** 2 and _once(consumers, z)) else None
            sub = subtraction(graph, consumers, graph.producer[dev.id]) if dev is not None else None
            dev_eqn = graph.producer[dev.id] if dev is not None else None
            if sub is not None and _is_mean_of(graph, consumers, sub[2], axes, _other(dev_eqn, sub[2], graph, consumers)):
                label = "variance" + (f" ({where}" + (", ddof=1)" if ddof else ")") if where else
                                      (" (ddof=1)" if ddof else ""))
                out[e.out.id] = (label + (f" + {_number(shift)}" if shift else ""), folded | {z.id})
            elif not ddof and not shift:
                out[e.out.id] = (f"mean ({where})" if where else "mean", folded)
            continue
        sub = subtraction(graph, consumers, e)
        if sub is not None:
            out[e.out.id] = (sub[0], sub[1], sub[3])
    return out


def _other(eqn, mu, graph, consumers):
    """The operand of the subtraction ``eqn`` that is not −μ."""
    for v in eqn.inputs:
        neg = _negated(graph, consumers, v)
        if neg is None or neg[0].id != mu.id:
            return v
    return None


def _is_mean_of(graph, consumers, mu, axes, z) -> bool:
    """Whether ``mu`` is the mean of ``z`` over ``axes`` (then the mean of (z − μ)² is z's variance)."""
    m = _mean(graph, consumers, graph.producer[mu.id])
    return m is not None and z is not None and m[0] == axes and not m[3] and not m[4] and m[1].id == z.id


def _number(c) -> str:
    from .render import show
    return show(c, "unicode")          # ε as the user wrote it: 1e−5 (render.tiny), not 1/100000
