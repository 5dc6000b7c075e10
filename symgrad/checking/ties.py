"""Max at a tie: a layer with a max (``x.max(axis)``, ``x.min(axis)``, max pooling) checked at a point
where the maximum is attained by several entries.

Random points never tie, so a backward that routes δ to every tied maximum — the classic
``mask = (x == x.max(...))``, which cs231n's own reshape-based ``max_pool_backward`` uses — agrees
with the gradient there and passed. Here a point with ties is made on purpose from a random point
(each image row made constant, so that a convolution's outputs repeat along the row and a
pooling window ties in pairs; or its values rounded to integers; or each image plane constant; or
values rounded to halves — in that order, ties of two entries first, where any choice of one of
them is the first or the last arg-max), kept only when it is a usable test point (f finite,
every relu-type kink away from 0) and when the ties change the gradient, and the claim is compared
there with four ways of routing δ at a tie:

    first   the policy (`symgrad.core.policy`): all of δ to the first arg-max (NumPy's argmax, the
            entry torch's max_pool2d picks)                                  → the claim is right
    last    all of δ to the last arg-max                                     → another subgradient
    even    δ split evenly among the tied entries                            → another subgradient
    all     δ to every tied entry (a tie of k entries passes k·δ)           → wrong

A tie is a kink of max: f has no derivative there, and every convex combination of the tied
entries' one-hot rows is a subgradient, so "last" and "even" are valid choices and get the verdict
"equal except at points where f is not differentiable" (as relu'(0) = 0 does), with the choice named.
So does any other such combination, the choice free to change from window to window: decided
slice by slice for a max taken directly of a wrt tensor (`other_subgradient`), and by least squares
over the tied entries, carried through the rest of f, inside a composed layer (`mixed_subgradient`).
"all" is not one (its weights sum to k, not 1: along the direction that raises the tied entries
together f grows like δ, the claim says k·δ), and is "not equal" with a hint.

The other routings are derived as symgrad derives the policy's, with the front end's max nodes
replaced by subclasses lowered to a variant of ``rmax`` with another VJP (as `conv_hints` does for
its slips); the rule table itself is not changed.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from ..core import array_rules as A
from ..core import conv_rules as CR
from ..core import lower as L
from ..core import rules as R
from ..frontend import conv as C
from ..frontend import tensor as T
from .hint_kind import Hint
from .claims import _compare, problem_scale
from .conv_hints import _variant, pool_windows

ROUTINGS = ("all", "last", "even")      # the policy's, "first", is symgrad's gradient itself
BUDGET = 48                             # candidate points tried in all


def _tie_vjp(mode):
    def vjp(g, eqn, ct, want):
        x, axis = eqn.inputs[0], eqn.params[0]
        if mode == "last":              # the first arg-max of x flipped along the axis, flipped back
            fx = CR.flip(g, x, (axis,))
            mask = CR.flip(g, A.one_hot(g, A.argmax(g, fx, axis), x.shape[axis], axis), (axis,))
        else:                           # 1 where x equals its max (x − max ≤ 0: H(0) = 1, else 0)
            m = A.expand(g, eqn.out, x.shape)
            mask = R.ewise(g, sp.Heaviside(R.ph(0) - R.ph(1), 1), x, m, shape=x.shape)
            if mode == "even":
                count = A.expand(g, A.rsum(g, mask, (axis,)), x.shape)
                mask = R.ewise(g, R.ph(0) / R.ph(1), mask, count, shape=x.shape)
        return [R.ewise(g, R.ph(0) * R.ph(1), A.expand(g, ct, x.shape), mask, shape=x.shape)]
    return vjp


_RMAX = {mode: _variant(A.rmax_p, f"rmax_ties_{mode}", _tie_vjp(mode), 1) for mode in ROUTINGS}


def _rmax(g, x, axis, mode):
    return g.bind(_RMAX[mode], (x,), (int(axis),))


class _TieMaxPool(C.MaxPool):
    """A MaxPool whose backward routes δ at ties another way: args + (routing,)."""


class _TieReduce(T.Reduce):
    """x.max / x.min whose backward routes δ at ties another way: args + (routing,)."""


def _lower_pool(low, e, args):
    g, flat, lead = pool_windows(low, e, args)
    return A.reshape(g, _rmax(g, flat, len(lead), str(e.args[-1])), e.shape)


def _lower_reduce(low, e, args):
    """`lower_tensor`'s max over several axes (moved last, merged, one rmax), with the variant."""
    g, (x,), mode = low.graph, args, str(e.args[-1])
    if e.op == "min":
        x = R.ewise(g, -R.ph(0), x, shape=x.shape)
    axes, nd = e.axes, len(x.shape)
    rest = [i for i in range(nd) if i not in axes]
    if len(axes) == 1:
        m = _rmax(g, x, axes[0], mode)
    else:
        moved = A.permute(g, x, tuple(rest) + tuple(axes))
        merged = A.reshape(g, moved, tuple(x.shape[i] for i in rest) + (sp.Mul(*[x.shape[a] for a in axes]),))
        m = A.reshape(g, _rmax(g, merged, len(rest), mode), T.reduced_shape(x.shape, axes, keepdims=True))
    if not e.keepdims:
        m = A.reshape(g, m, T.reduced_shape(x.shape, axes))
    return R.ewise(g, -R.ph(0), m, shape=m.shape) if e.op == "min" else m


L._on(_TieMaxPool)(L._Handler(lambda low, e: (e.args[0],), _lower_pool))
L._on(_TieReduce)(L._Handler(lambda low, e: (e.args[0],), _lower_reduce))


def max_nodes(f) -> list:
    """f's max pools and tensor max/min reductions: where a tie routes δ."""
    return list(dict.fromkeys(n for n in sp.preorder_traversal(f)
                              if type(n) is C.MaxPool or (type(n) is T.Reduce and n.op in ("max", "min"))))


def _routed(f, mode):
    sub = {}
    for n in max_nodes(f):
        cls = _TieMaxPool if type(n) is C.MaxPool else _TieReduce
        sub[n] = cls(*n.args, sp.Symbol(mode))
    return f.xreplace(sub)


# -- points with ties --------------------------------------------------------------------------------


def _moved(sampler, pt, how):
    """``pt`` with its free values (not given with at=, not labels, masks or targets) changed by
    ``how``: each image row constant ("rows": a convolution's outputs then repeat along the row, and
    a 2×2 window ties in pairs), each plane constant ("planes"), or rounded to a grid; None when
    nothing changes (no image among the free values)."""
    free = {s.name for s in sampler.pfree + sampler.ifree}
    changed = []

    def change(name, v):
        if name not in free:
            return v
        a = np.asarray(v, float)
        if how in ("rows", "planes"):
            if a.ndim < 3:
                return v
            changed.append(name)
            return np.broadcast_to(a[(Ellipsis,) + (slice(0, 1),) * (1 if how == "rows" else 2)], a.shape).copy()
        changed.append(name)
        step = {"integers": 1.0, "halves": 0.5}[how]
        r = np.round(a / step) * step
        return float(r) if np.ndim(v) == 0 else r
    params = {k: change(k, v) for k, v in pt.params.items()}
    examples = [{k: change(k, v) for k, v in ex.items()} for ex in pt.examples]
    batched = None if pt.batched is None else {k: change(k, v) for k, v in pt.batched.items()}
    return type(pt)(params, examples, batched) if changed else None


def _gradients(D, pt) -> list:
    from .claims import _truth
    return _truth(D, pt)


@lru_cache(maxsize=32)
def routed_derivation(f, params: tuple, policy, mode):
    """symgrad's derivative of f with every max routing δ at ties by ``mode``."""
    from ..core.differentiate import differentiate
    return differentiate(_routed(f, mode), list(params), policy=policy)


def tie_point(sampler, pts, params, derivations, truth_of):
    """A usable point where some maximum of f is tied and the routings' gradients differ from the
    policy's: (point, truth, {routing: gradients}), or None when none is found within `BUDGET`."""
    tried = 0
    # ties of two entries first: there any choice of one entry is the first or the last arg-max
    for how in ("rows", "integers", "planes", "halves"):
        for p in pts:
            if tried >= BUDGET:
                return None
            c = _moved(sampler, p, how)
            if c is None:
                break
            tried += 1
            with np.errstate(all="ignore"):
                try:
                    if not sampler.inside(c) or not sampler.usable(c):
                        continue
                    truth = truth_of(c)
                    alt = {m: _gradients(Dm, c) for m, Dm in derivations.items()}
                except (ArithmeticError, ValueError):
                    continue
            if not all(np.all(np.isfinite(a)) for grads in alt.values() for a in grads):
                continue
            if any(_compare(a, t, w)[0] > 1e-6 for a, t, w in zip(alt["all"], truth, params)):
                return c, truth, alt
    return None


def tied_here(pt, params, derivations, truth):
    """(pt, truth, {routing: gradients}) when some maximum of f is tied at ``pt`` (a point given
    with at=) so that the routings' gradients differ from the policy's; else None."""
    with np.errstate(all="ignore"):
        try:
            alt = {m: _gradients(Dm, pt) for m, Dm in derivations.items()}
        except (ArithmeticError, ValueError):
            return None
    if not all(np.all(np.isfinite(a)) for grads in alt.values() for a in grads):
        return None
    if any(_compare(a, t, w)[0] > 1e-6 for a, t, w in zip(alt["all"], truth, params)):
        return pt, truth, alt
    return None


def matches(claim, grads, params, rtol) -> bool:
    problem = problem_scale(grads)
    return all(_compare(c, g, w, problem)[0] <= rtol for c, g, w in zip(claim, grads, params))


ALL_HINT = Hint("max ties", "the claim routes the gradient to every tied maximum — a mask such as (x == "
                "x.max(...)) gives each of the k tied entries all of δ, k·δ in all; at a tie it must go to "
                "one entry (symgrad's policy: the first arg-max, as np.argmax and torch's max_pool2d pick "
                "it; sending it to another tied entry, or splitting it evenly, are subgradients too). Random "
                "points never tie, so this shows only at a point with tied maxima, such as this one: pick "
                "one arg-max per window (np.argmax, np.unravel_index), or divide the mask by its sum.")

KINK = {"last": "sends all of δ to the last arg-max", "even": "splits δ evenly among the tied entries",
        "other": "sends δ to other tied entries than the first (another order inside the window, or a "
                 "split among them)"}


def _slices(node, a):
    """``a`` (of the max's input shape) as rows, one per slice the max reduces (a window of a pool
    whose windows tile the input; the reduced axes of x.max); None when the windows overlap or leave
    entries out (then a row is not one window's alone)."""
    if type(node) is C.MaxPool:
        k, st, pad = node.kernel, node.stride, node.padding
        n, c, *sp_ = a.shape
        if tuple(k) != tuple(st) or any(pad) or any(d % kk for d, kk in zip(sp_, k)):
            return None
        shape = (n, c) + tuple(v for d, kk in zip(sp_, k) for v in (d // kk, kk))
        nd = len(k)
        order = (0, 1) + tuple(2 + 2 * i for i in range(nd)) + tuple(3 + 2 * i for i in range(nd))
        return a.reshape(shape).transpose(order).reshape(-1, int(np.prod(k)))
    axes = node.axes
    rest = [i for i in range(a.ndim) if i not in axes]
    return a.transpose(rest + list(axes)).reshape(-1, int(np.prod([a.shape[i] for i in axes])))


def other_subgradient(f, params, claim, truth, tp, rtol) -> bool:
    """Is the claim, at the tie point, another valid subgradient? Decided for a max taken directly of
    a wrt tensor, where f reads that tensor through the max alone and the slices are separate (pool
    windows that tile the input, the rows of x.max(axis)): in every slice δ must go only to entries
    that attain the max, with weights ≥ 0 summing to 1. Every other parameter's claim must equal
    the policy's gradient. False when it cannot be decided."""
    from ..core.evaluate import evaluate as ev
    from .overwrite_hints import _upstream
    vals, decided = tp.example(0), False
    for k, w in enumerate(params):
        if _compare(claim[k], truth[k], w, problem_scale(truth))[0] <= rtol:
            continue
        nodes = [n for n in max_nodes(f) if n.args[0] == w]
        if len(nodes) != 1:
            return False
        node = nodes[0]
        u, Du = _upstream(f, node)
        if f.xreplace({node: u}).has(w):
            return False                       # f reads w also around the max
        x = np.asarray(vals[w.name], float)
        ct = np.asarray(ev(Du.ir, [Du.gradient_vars[0]], {**vals, u.name: _node_value(node, vals)})[0], float)
        rows_x = _slices(node, x)
        if rows_x is None or np.size(claim[k]) != x.size:
            return False
        rows_c = _slices(node, np.asarray(claim[k], float).reshape(x.shape))
        d = ct.reshape(-1)
        lowest = getattr(node, "op", "max") == "min"
        best = rows_x.min(axis=1, keepdims=True) if lowest else rows_x.max(axis=1, keepdims=True)
        tied = rows_x == best
        floor = 1e-9 * (1.0 + float(np.abs(d).max(initial=0.0)))
        weights = rows_c / np.where(d == 0, 1.0, d)[:, None]
        if not (np.all(np.abs(rows_c[~tied]) <= floor) and np.all(weights[tied] >= -1e-9)
                and np.allclose(weights.sum(axis=1)[d != 0], 1.0, rtol=1e-7, atol=1e-9)):
            return False
        decided = True
    return decided


MAX_COLUMNS = 400       # tied entries other than the first, for the least-squares test


def mixed_subgradient(f, params, claim, truth, tp) -> bool:
    """Is the claim, at the tie point, the policy's gradient plus some convex re-routing at the
    ties of f's one max — δ of each tied slice moved from the first arg-max to the other tied
    entries with weights s ≥ 0, Σ s ≤ 1 per slice — carried through the rest of f (a relu and a
    convolution before the pool)? A choice that differs from window to window (a random tied entry)
    is such a re-routing. The weights are found by least squares over one column per tied entry
    other than the first; False when f has several maxes, overlapping windows, too many ties, or no
    weights within bounds reproduce the claim."""
    from ..core.differentiate import differentiate
    from ..core.evaluate import evaluate as ev
    from .overwrite_hints import _upstream
    nodes = max_nodes(f)
    if len(nodes) != 1:
        return False
    node, vals = nodes[0], tp.example(0)
    inp = node.args[0]
    xv = _node_value(inp, vals)
    rows_x = _slices(node, xv)
    if rows_x is None:
        return False
    rows_i = _slices(node, np.arange(xv.size).reshape(xv.shape))
    u, Du = _upstream(f, node)
    d = np.asarray(ev(Du.ir, [Du.gradient_vars[0]], {**vals, u.name: _node_value(node, vals)})[0], float).reshape(-1)
    lowest = getattr(node, "op", "max") == "min"
    best = rows_x.min(axis=1, keepdims=True) if lowest else rows_x.max(axis=1, keepdims=True)
    columns, groups = [], []
    for r in np.flatnonzero((np.sum(rows_x == best, axis=1) > 1) & (d != 0)):
        tied = np.flatnonzero(rows_x[r] == best[r])
        for j in tied[1:]:
            columns.append((rows_i[r, tied[0]], rows_i[r, j], d[r]))
            groups.append(r)
    if not columns or len(columns) > MAX_COLUMNS:
        return False
    names = {s.name for s in f.free_symbols if hasattr(s, "name")}
    G = T.tensor(next(n for n in (f"rerouted{i}" for i in range(10 ** 6)) if n not in names),
                 tuple(int(n) for n in xv.shape))
    Dg = differentiate(T.sum(inp * G), list(params))
    outs = [g for g in Dg.gradient_vars if g is not None]

    def carried(delta):
        got = iter(ev(Dg.ir, outs, {**vals, G.name: delta}))
        return np.concatenate([np.ravel(next(got)) if g is not None else np.zeros(np.size(t))
                               for g, t in zip(Dg.gradient_vars, truth)])
    A = np.empty((sum(np.size(t) for t in truth), len(columns)))
    for i, (first, other, dr) in enumerate(columns):
        delta = np.zeros(xv.size)
        delta[first], delta[other] = -dr, dr
        A[:, i] = carried(delta.reshape(xv.shape))
    target = np.concatenate([np.ravel(np.asarray(c, float)) - np.ravel(t) for c, t in zip(claim, truth)])
    s, *_ = np.linalg.lstsq(A, target, rcond=None)
    scale = 1e-7 * (1.0 + np.abs(np.concatenate([np.ravel(t) for t in truth])).max())
    if np.abs(A @ s - target).max() > scale or s.min() < -1e-6:
        return False
    sums = np.zeros(len(d))
    np.add.at(sums, groups, s)
    return bool(sums.max() <= 1 + 1e-6)


def _node_value(node, vals):
    from ..core.evaluate import numeric
    return np.asarray(numeric(node, vals), float)


def kink_sentence(mode: str, given: bool = False) -> str:
    """Why a claim that routes δ at a tie by ``mode`` is right; ``given``: the tie is at the point
    given with at= (not one made on purpose)."""
    where = ("the point given with at=" if given else
             "such a point is made on purpose, random points never tie")
    return (f"At a point where a maximum is tied (several entries equal the max; {where}) f is not "
            f"differentiable: there the claim "
            f"{KINK[mode]}, and symgrad's subgradient convention sends all of it to the first "
            f"arg-max; both are valid choices there (subgradients)"
            + ("." if given else ", and everywhere else the claim is equal."))


__all__ = ["max_nodes", "tie_point", "tied_here", "matches", "ALL_HINT", "kink_sentence", "ROUTINGS"]
