"""Name the slips of a hand-written layer backward that come from its structure rather than from
one derivative rule (cs231n's norm layers, dropout, reshapes), as `symgrad.checking.hints` does:

    factor left out   the claim is ∂f/∂w with an input set to 1 (batch norm's dxhat = dout for
                      dout * gamma, a dropout backward without its mask)
    norm axes         a norm layer's statistics over the complementary axes (layer norm with batch
                      norm's sums over the batch, or the reverse)
    ε left out        the gradient of f with its small constant set to 0 (sqrt(var) for sqrt(var + eps))
    permuted          the gradient's numbers in other places (a reshape where a transpose is needed)
    other gradient    the claim is another wrt variable's gradient (batch norm's dgamma = dout.sum(0),
                      dbeta's, copied; or the gradients returned in another order)

Each derives f again with the slip built in, or compares the values directly, and answers a
sentence or None; `hints.find_hint` tries them in its order.
"""
from __future__ import annotations

import re

import numpy as np
import sympy as sp

from ..frontend.masks import masks_in
from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, _variances, all_same, same, differs, short_text


def factor_left_out_hint(case: Case):
    """A factor of the chain left out of the backward: batch norm's dxhat = dout where dout ⊙ γ
    belongs, a dropout backward without its mask — the claim is ∂f/∂w with that input (γ, the mask)
    set to 1 everywhere. Tried for every real tensor or matrix input but w itself and dout
    (dout_hint's)."""
    from ..frontend import tensor as T
    D = case.derivation
    g = D.gradient_vars[case.k]
    if g is None:
        return None
    masks = {m.name for m in masks_in(case.f)}
    cands = sorted((a for a in case.f.atoms(T.Tensor, sp.MatrixSymbol)
                    if a.name != case.w.name and not re.fullmatch(r"dout\d*", a.name)
                    and not getattr(a, "is_integer_tensor", False)), key=lambda a: a.name)
    Cs, Ts = _fitted(case)
    if all_same(Cs, Ts):
        return None
    for a in cands:
        vals = case.eval_vars(D.ir, [g], lambda vals, n=a.name: {n: np.ones(np.shape(vals[n]))})
        if not all_same(Cs, [np.broadcast_to(v[0], t.shape) for v, t in zip(vals, Ts)]):
            continue
        if a.name in masks:
            return Hint("dropout mask left out",
                        "the claim is the gradient with the mask = 1 everywhere; "
                        "out = y ⊙ mask, so the backward multiplies by the same mask: dy = dout * mask "
                        "(the mask as given, its kept entries already 1/(1 − p)).")
        where = next((n for n in sp.preorder_traversal(case.f) if isinstance(n, T.Where) and n.args[0].has(a)), None)
        if where is not None:            # a condition, not a factor: attention's where(mask > 0, scores, -1e9)
            return Hint("mask left out",
                        f"the claim is the gradient with {a.name} = 1 everywhere, nothing masked — "
                        f"the forward selects with where({short_text(where.args[0], 40)}, …), and the backward must mask "
                        f"the same entries (recompute the masked scores as the forward does, or zero their "
                        f"gradient): a masked entry's softmax probability is 0, and so is its gradient.")
        eg = f" (in a norm layer, dxhat = dout * {a.name}, not dout)" if _variances(case.f) else ""
        return Hint("factor left out",
                    f"the claim is the gradient with {a.name} = 1 everywhere — {a.name} "
                    f"multiplies on the way from {case.w.name} to the output, so the backward multiplies "
                    f"by it too{eg}.")
    return None


def factor_left_out_on_a_path_hint(case: Case):
    """A factor of the chain left out on one path only: temporal softmax loss's mask applied to the
    probabilities but not to the label's −1 (``dx = probs * mask[:, None]; dx[range, y] -= 1``).
    For each fan-out term and each input ``factor_left_out_hint`` would try, the claim is the
    gradient with that one term evaluated at the input = 1."""
    from ..frontend import tensor as T
    from .fanout_paths import _path, fanout_terms
    D = case.derivation
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    cands = sorted((a.name for a in case.f.atoms(T.Tensor, sp.MatrixSymbol)
                    if a.name != case.w.name and not re.fullmatch(r"dout\d*", a.name)
                    and not getattr(a, "is_integer_tensor", False)), key=str)
    terms = fanout_terms(D, D.wrt_vars[case.k])
    if not cands or not terms or len(terms) > 8:
        return None
    vals = case.eval_vars(D.ir, [t for _, _, t in terms])
    for a in cands:
        ones = case.eval_vars(D.ir, [t for _, _, t in terms], lambda v, n=a: {n: np.ones(np.shape(v[n]))})
        for j, (v, eqn, _) in enumerate(terms):
            cand = [t - np.broadcast_to(x[j], t.shape) + np.broadcast_to(o[j], t.shape)
                    for t, x, o in zip(Ts, vals, ones)]
            if all_same(Cs, cand):
                path = _path(D, case.w.name, v, eqn)
                eg = (" — in a masked softmax loss, dx = probs; dx[np.arange(N * T), y] -= 1; and then "
                      f"dx *= {a}, the mask after the label's −1" if "one_hot" in path or "take_along" in path
                      else "")
                return Hint("factor left out on one path",
                            f"the claim has the term of the path {path} with "
                            f"{a} = 1; {a} multiplies every path from {case.w.name} to the output, so every "
                            f"term of the backward is multiplied by it, not only some{eg}.")
    return None


def norm_axes_hint(case: Case):
    """A norm layer's backward that reduces over the other axes: layer norm (mean and variance over
    each example's features, axis 1) with batch norm's backward (sums over the batch, axis 0), or the
    reverse. Derive f again with every mean and variance over the complementary axes (keepdims, so it
    still broadcasts) and compare."""
    from ..frontend import tensor as T
    nodes = [n for n in sp.preorder_traversal(case.f)
             if isinstance(n, T.Variance) or (isinstance(n, T.Reduce) and n.op == "mean")]
    if not any(isinstance(n, T.Variance) for n in nodes):
        return None
    Cs, Ts = _fitted(case)
    if all_same(Cs, Ts):
        return None
    for every in (False, True):     # the complementary axes; then every axis (x.mean() with no axis=)
        sub, axes = {}, set()
        for n in dict.fromkeys(nodes):
            r = len(n.x.shape)
            other = tuple(range(r)) if every else tuple(a for a in range(r) if a not in n.axes)
            if not other or len(n.axes) == r:
                return None
            axes.add((n.axes, other))
            sub[n] = (T.var(n.x, axis=other, keepdims=True, correction=n.correction)
                      if isinstance(n, T.Variance) else T.mean(n.x, axis=other, keepdims=True))
        if len(axes) != 1:
            return None
        (has, used), = axes
        if _claim_is_gradient_of(case, _rebuilt(case.f, sub)):
            break
    else:
        return None
    ax = lambda a: f"axis {a[0]}" if len(a) == 1 else f"axes {a}"   # noqa: E731
    if every:
        return Hint("statistics over every entry",
                    f"the claim is the gradient of f with its mean and variance "
                    f"taken over all of x's entries (x.mean() and x.var() with no axis=) where f takes them over "
                    f"{ax(has)}; the backward's statistics and sums (x̂, dxhat.sum(...), (dxhat * x̂).sum(...)) "
                    f"run over the forward's axes, {ax(has)}.")
    kind = ("batch norm's, over the batch" if 0 in used else "layer norm's, over each example")
    return Hint("normalisation axes swapped",
                f"the claim is the gradient of f with its mean and variance "
                f"taken over {ax(used)} ({kind}) where f takes them over {ax(has)}; the backward's "
                f"statistics and sums (x̂, dxhat.sum(...), (dxhat * x̂).sum(...)) run over the forward's "
                f"axes, {ax(has)} — while dgamma and dbeta still sum over the batch.")


def _rebuilt(e, sub: dict, done: dict | None = None):
    """``e`` with the nodes of ``sub`` replaced, every elementwise node's broadcast shape computed
    again (xreplace would keep the old shapes: a statistic over other axes broadcasts otherwise).
    ``done`` holds each node's result once: a recurrence's f shares its earlier steps many times
    over (a 3-step LSTM: 98 distinct nodes, 6750 as a tree)."""
    from ..frontend import tensor as T
    if e in sub:
        return sub[e]
    if not e.args or isinstance(e, T.Tensor):
        return e
    done = {} if done is None else done          # by identity: == of two nodes can hold across kinds
    if id(e) in done:
        return done[id(e)]
    args = [_rebuilt(a, sub, done) if isinstance(a, sp.Basic) else a for a in e.args]
    if all(a is b for a, b in zip(args, e.args)):
        out = e
    elif isinstance(e, T.Ewise):
        out = T.Ewise(args[0], T.shape_of(args[0]))
    else:
        out = e.func(*args)
    done[id(e)] = out
    return out


def epsilon_hint(case: Case):
    """A norm layer's backward without the forward's ε (sqrt(var) for sqrt(var + eps)), or with
    another one: the claim is the gradient of f with its small constant ε set to 0. Close — the
    relative error is about ε/var — and still another function's gradient."""
    eps = sorted({n for n in sp.preorder_traversal(case.f)
                  if isinstance(n, sp.Float) and 0 < abs(float(n)) < 1e-2}, key=lambda n: abs(float(n)))
    Cs, Ts = _fitted(case)
    if not eps or all_same(Cs, Ts):
        return None
    for e in eps:
        if _claim_is_gradient_of(case, case.f.xreplace({e: sp.S.Zero})):
            where = (" — the backward computes sqrt(var) where the forward has sqrt(var + eps): use "
                     "the forward's eps in the backward too (cache the std the forward computed). The "
                     "error is small, about eps/var, but it is another function's gradient"
                     if _variances(case.f) else ": the backward leaves that small constant out (the "
                     "error is small, but it is another function's gradient)")
            return Hint("ε left out", f"the claim is the gradient of f with its constant {float(e):g} taken as 0{where}.")
    return None


def permuted_hint(case: Case):
    """The right numbers in the wrong places: a reshape where a transpose was needed (spatial batch
    norm's (N, C, H, W) → (N·H·W, C) and back), or indices mixed up — the claim's entries are the
    gradient's entries in another order."""
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    if any(t.size < 4 or np.ptp(t) == 0 for t in Ts):
        return None
    if not all(same(np.sort(c.ravel()), np.sort(t.ravel())) for c, t in zip(Cs, Ts)):
        return None
    flipped = _flipped_axes(Cs, Ts)
    if flipped:
        return _flipped_sentence(case, flipped)
    perm = _same_shape_permutation(Cs, Ts)
    if perm:
        w = case.w.name
        swapped = [a for a, p in enumerate(perm) if a != p]
        which = (f"axes {swapped[0]} and {swapped[1]} swapped" if len(swapped) == 2
                 else f"axes {', '.join(map(str, swapped))} in another order")
        return Hint("axes in another order",
                    f"the claim is the gradient with {which}, the gradient.transpose{tuple(perm)} — "
                    f"both have {w}'s shape {Ts[0].shape}, since those axes have the same length; each "
                    f"axis of d{w} is the same axis of {w} (an index order mixed up in a loop, or a "
                    f"transpose that the forward does not have).")
    spatial = any(len(v.x.shape) == 4 and v.axes == (0, 2, 3) for v, _, _ in _variances(case.f))
    eg = (": for spatial batch norm, move the channels last before flattening, "
          "x.transpose(0, 2, 3, 1).reshape(-1, C), and back with dx.reshape(N, H, W, C)"
          ".transpose(0, 3, 1, 2)" if spatial else "")
    return Hint("entries in the wrong places",
                f"the claim holds the gradient's numbers, each in another "
                f"place — a reshape where a transpose is needed (reshape keeps the memory order, it does "
                f"not move axes){eg}.")


def _same_shape_permutation(Cs, Ts):
    """A permutation of the axes (not the identity) that keeps the gradient's shape and turns it
    into the claim at every point (an (N, C, H, W) dx with H and W swapped); None. Arrays of 3 to 5
    axes (a 2-d square one is transpose_hint's)."""
    from itertools import permutations
    shape = Ts[0].shape
    if not 3 <= len(shape) <= 5:
        return None
    for perm in permutations(range(len(shape))):
        if perm == tuple(range(len(shape))) or tuple(shape[a] for a in perm) != shape:
            continue
        if all(same(c, np.transpose(t, perm)) for c, t in zip(Cs, Ts)):
            return perm
    return None


def _flipped_axes(Cs, Ts):
    """The fewest axes along which reversing the gradient gives the claim at every point; None."""
    from itertools import combinations
    rank = Ts[0].ndim
    for r in range(1, rank + 1):
        for axes in combinations(range(rank), r):
            if all(Ts[0].shape[a] > 1 for a in axes) and all(same(c, np.flip(t, axes)) for c, t in zip(Cs, Ts)):
                return axes
    return None


def _flipped_sentence(case: Case, axes) -> str:
    """Entries reversed along ``axes``: for a convolution's kernel, dw computed from the window
    flipped (the forward is a cross-correlation: no flip anywhere in dw)."""
    from ..frontend import conv as C
    w = case.w.name
    index = ", ".join("::-1" if a in axes else ":" for a in range(max(axes) + 1))
    ax = f"axis {axes[0]}" if len(axes) == 1 else f"axes {axes}"
    kernel = any(type(n) is C.Conv and n.args[1] == case.w for n in sp.preorder_traversal(case.f))
    why = (f" — the forward (conv_forward_naive, torch's conv2d) multiplies each window by {w} as it is "
           f"(a cross-correlation), so d{w}[f] += window * dout[n, f, i, j] with the window as it is: the "
           f"flipped kernel belongs to dx's full convolution, not to d{w}" if kernel else
           f" — an index read backwards (a [::-1], or i where n - 1 - i belongs)")
    return Hint("entries reversed",
                f"the claim is the gradient reversed along {ax}, ∂f/∂{w}[{index}]{why}.")


def other_gradient_hint(case: Case):
    """The claim for w is the true gradient of another wrt variable of the same shape: batch norm's
    dgamma written as dbeta's dout.sum(axis=0) (a line copied and not changed), or two gradients of
    one shape returned swapped. (`hints.shape_hint` names it when the shapes differ.)"""
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    for j, p in enumerate(case.params):
        if j == case.k or tuple(getattr(p, "shape", ())) != tuple(getattr(case.w, "shape", ())):
            continue
        if all(not np.any(np.asarray(t[j], float)) for t in case.truths):   # a zero claim is its own slip
            continue
        if all(same(c, np.reshape(t[j], c.shape)) for c, t in zip(Cs, case.truths)):
            names = ", ".join(q.name for q in case.params)
            if all(same(np.reshape(c[j], np.shape(t[case.k])), t[case.k]) for c, t in zip(case.claims, case.truths)):
                return Hint("gradients swapped",
                            f"the claim for {case.w.name} is ∂f/∂{p.name} and the claim for "
                            f"{p.name} is ∂f/∂{case.w.name}; return them in wrt's order ({names}), or as a "
                            f"dict by name")
            return Hint("another variable's gradient",
                        f"the claim for {case.w.name} is ∂f/∂{p.name} — a line "
                        f"copied from {p.name}'s and not changed, or the gradients returned in another order "
                        f"than wrt's ({names})")
    return None
