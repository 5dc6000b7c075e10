"""A bias gradient summed over the wrong axis: an affine backward's `db = dZ.sum(axis=1)` — one
number per example, shape (N,) — where b's gradient is `dZ.sum(axis=0)` (11-785's Linear keeps b as
(C1, 1): `dLdb = dLdZ.T @ ones`). The shape alone says only that (N,) cannot be (C1, 1); this names
the axis: the claim is the upstream gradient summed over some axes, and the gradient is it summed
over others, reshaped to the parameter's shape.

Behind an activation the upstream gradient is not dout: cs231n's affine_relu_backward sums
``da = relu_backward(dout, a)``, the gradient at ``x @ w + b``, the node b is added into; a layer
norm's dgamma sums ``dout * xhat``. So the sums are also taken of the parameter's gradient per
entry of its broadcast: in each elementwise node that uses it, the parameter is replaced by a fresh
tensor of the node's shape at the broadcast value, and f is differentiated with respect to that
(as upsample_hints.py does for an upsampled input). A db summed over the wrong axis of da is named
so, and one summed from dout itself (relu's mask left out) as well, with both slips said.
"""
from __future__ import annotations

import re
from itertools import combinations

import numpy as np

import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, all_same, gradient_at_fresh


def _sums(vals, targets, fits) -> tuple | None:
    """The axes whose sum of each of ``vals`` is ``targets`` (``fits`` reshapes, or None)."""
    r = vals[0].ndim
    for n_ax in range(1, r):
        for axes in combinations(range(r), n_ax):
            red = [fits(v.sum(axis=axes)) for v in vals]
            if all(x is not None for x in red) and all_same(targets, red):
                return axes
    return None


def _swapped(body, w, wb, found: list):
    """``body`` (an elementwise node's scalar body) with each use of w replaced by ``wb``: w itself,
    or a tensor expression of w alone (b.T); other tensor nodes are left whole (a mean over w is
    not elementwise in it). ``found`` collects what was replaced."""
    from ..frontend import tensor as T
    if body == w or (isinstance(body, T.TensorExpr) and body.atoms(T.Tensor) == {w}):
        found.append(body)
        return wb
    if isinstance(body, T.TensorExpr) or not body.args:
        return body
    return body.func(*[_swapped(a, w, wb, found) for a in body.args])


def _broadcast_sites(f, w):
    """[(node, node with w broadcast, the fresh tensor, w's use, its text, added)]: each elementwise
    node of f of a larger shape than w that uses w elementwise (b in ``x @ w + b``, 11-785's
    ``A @ W.T + b.T``, gamma in ``gamma * xhat + beta``); ``added``: w is a term of its sum, and the
    text is the sum written with w's term last."""
    from ..frontend import tensor as T
    out = []
    for k, n in enumerate(dict.fromkeys(sp.preorder_traversal(f))):
        if not isinstance(n, T.Ewise) or tuple(n.shape) == tuple(w.shape) or not n.args[0].has(w):
            continue
        wb, found = T.tensor(f"_W_site{k}", tuple(n.shape)), []
        body = _swapped(n.args[0], w, wb, found)
        if not found or len(set(found)) != 1 or body.has(w):
            continue
        terms = n.args[0].args if isinstance(n.args[0], sp.Add) else ()
        added = found[0] in terms
        text = f"{sp.Add(*[t for t in terms if t is not found[0]])} + {found[0]}" if added else ""
        out.append((n, n.func(body, *n.args[1:]), wb, found[0], text, added))
    return out


def _gradient_at(case: Case, node, swapped, wb, use) -> list:
    """Per point, ∂f/∂wb: f with w broadcast to the node's shape as a fresh tensor, at its value."""
    from ..core.evaluate import numeric

    def value(vals):
        shape = np.shape(numeric(node, vals))
        return np.broadcast_to(np.asarray(numeric(use, vals), float), shape).copy()
    return gradient_at_fresh(case, case.f.xreplace({node: swapped}), wb, value)


def _upstreams(case: Case) -> list:
    """[(name, per point its values, the text naming it, whether it is a dout)]: each dout, then the gradient at each
    broadcast use of the parameter (when it is not dout itself)."""
    from ..frontend.functions import relu
    ex = case.points[0].example()
    douts = [n for n in ex if re.fullmatch(r"dout\d*", str(n))] or [   # a text claim's upstream D
        n for n in ex if n not in {p.name for p in case.params} and np.ndim(ex[n]) >= 2]
    out = [(d, [np.asarray(p.example()[d], float) for p in case.points], d, True) for d in douts]
    w = case.w.name
    for node, swapped, wb, use, text, added in _broadcast_sites(case.f, case.w):
        try:
            vals = _gradient_at(case, node, swapped, wb, use)
        except Exception:                 # a declaration this recogniser does not follow: no site
            continue
        if vals is None:                  # f does not depend on the broadcast parameter
            continue
        if any(all_same(vals, v) for _, v, _, _ in out):
            continue                      # the node is the output and w a term: its gradient is dout
        formula = case.claim_expr is not None        # sg.check's formula, not a backward function
        if added:
            through = ("" if not case.f.has(relu) else " (relu's mask included: relu′ = 1 where the sum is > 0)"
                       if formula else " (through relu's mask: cs231n's da = relu_backward(dout, cache))")
            carried = ("the gradient of f with respect to the sum" if formula
                       else "dout carried back to the sum")
            out.append(("da", vals, f"da = ∂f/∂({text}), {carried} {w} is added into{through}", False))
        else:
            shape = "(" + ", ".join(map(str, node.shape)) + ("," if len(node.shape) == 1 else "") + ")"
            example = "γ ⊙ x̂: ∂f/∂y ⊙ x̂" if formula else "gamma * xhat: dout * xhat"
            out.append(("g", vals, f"g = ∂f/∂{w} per entry of {w} broadcast to {shape}, before the sum over "
                                   f"the broadcast axes (for {example})", False))
    return out


def wrong_sum_axis_hint(case: Case, want: str) -> str | None:
    """``want`` is the shape sentence ("∂f/∂b must have b's shape (4, 1)")."""
    Cs, Ts = case.C(), case.T()
    shape, cs = Ts[0].shape, Cs[0].shape
    if any(c.shape != cs for c in Cs):
        return None
    ups = _upstreams(case)
    ax = lambda a: f"axis {a[0]}" if len(a) == 1 else f"axes {a}"   # noqa: E731
    w = case.w.name
    for d, vals, _, d_is_dout in ups:                      # the claim: a sum of which upstream gradient
        claim_axes = _sums(vals, Cs, lambda v: v if v.shape == cs else None)
        if claim_axes is None:
            continue
        for t, tvals, tsaid, t_is_dout in ups:                # the truth: a sum of which
            true_axes = _sums(tvals, Ts, lambda v: v.reshape(shape) if v.size == int(np.prod(shape)) else None)
            if true_axes is None or (claim_axes == true_axes and t == d):
                continue
            kept = tuple(a for a in range(vals[0].ndim) if a not in claim_axes)
            axis = true_axes[0] if len(true_axes) == 1 else true_axes
            reshape = '' if len(shape) == tvals[0].ndim - len(true_axes) else f'.reshape({w}.shape)'
            if t == d:
                return Hint("summed over the wrong axes", f"the claim for {w} is {d} summed over "
                            f"{ax(claim_axes)}, keeping {ax(kept)} (shape {tuple(cs)}), but {want}: its gradient "
                            f"is {d} summed over {ax(true_axes)}, {'the axis' if len(true_axes) == 1 else 'the axes'} "
                            f"along which {w} is broadcast in the forward — d{w} = {d}.sum(axis={axis}){reshape}"
                            + ("." if t_is_dout else f", with {tsaid}."))
            if not d_is_dout or t_is_dout:        # a site's sum for dout's, or two sites: no slip named
                continue
            wrong_axes = claim_axes != true_axes
            return Hint(f"summed over the wrong axes, and from {d}" if wrong_axes else f"summed from {d}",
                        f"the claim for {w} is {d} summed over {ax(claim_axes)}, keeping {ax(kept)} (shape "
                        f"{tuple(cs)}), but {want}: its gradient is {t} summed over {ax(true_axes)}, "
                        f"{'the axis' if len(true_axes) == 1 else 'the axes'} along which {w} is broadcast in "
                        f"the forward — d{w} = {t}.sum(axis={axis}){reshape}, with {tsaid}; not {d} itself.")
    return None
