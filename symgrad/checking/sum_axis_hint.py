"""A bias gradient summed over the wrong axis: an affine backward's `db = dZ.sum(axis=1)` — one
number per example, shape (N,) — where b's gradient is `dZ.sum(axis=0)` (11-785's Linear keeps b as
(C1, 1): `dLdb = dLdZ.T @ ones`). The shape alone says only that (N,) cannot be (C1, 1); this names
the axis: the claim is the upstream gradient summed over some axes, and the gradient is it summed
over others, reshaped to the parameter's shape.

Behind an activation the upstream gradient is not dout: cs231n's affine_relu_backward sums
``da = relu_backward(dout, a)``, the gradient at ``x @ w + b``, the node b is added into. So the sums
are also taken of that node's gradient (f with the node replaced by a fresh tensor U at its value,
differentiated with respect to U, as upsample_hints.py does for an upsampled input): a db summed
over the wrong axis of da is named so, and one summed from dout itself (relu's mask left out) as
well, with both slips said.
"""
from __future__ import annotations

import re
from itertools import combinations

import numpy as np

import sympy as sp

from .hint_case import Case, all_same, gradient_graph


def _sums(vals, targets, fits) -> tuple | None:
    """The axes whose sum of each of ``vals`` is ``targets`` (``fits`` reshapes, or None)."""
    r = vals[0].ndim
    for n_ax in range(1, r):
        for axes in combinations(range(r), n_ax):
            red = [fits(v.sum(axis=axes)) for v in vals]
            if all(x is not None for x in red) and all_same(targets, red):
                return axes
    return None


def _added_into(f, w):
    """[(node, its text)]: each elementwise sum of f that ``w`` is a term of, broadcast to a larger
    shape (b in ``x @ w + b``; 11-785's ``A @ W.T + b.T``), written with w's term last."""
    from ..frontend import tensor as T
    out = []
    for n in dict.fromkeys(sp.preorder_traversal(f)):
        if not (isinstance(n, T.Ewise) and isinstance(n.args[0], sp.Add)) or tuple(n.shape) == tuple(w.shape):
            continue
        mine = [t for t in n.args[0].args if t == w or t.atoms(T.Tensor) == {w}]
        if len(mine) == 1:
            rest = sp.Add(*[t for t in n.args[0].args if t is not mine[0]])
            out.append((n, f"{rest} + {mine[0]}"))
    return out


def _gradient_at(case: Case, node) -> list:
    """Per point, ∂f/∂node: f with ``node`` replaced by a fresh tensor at its value."""
    from ..core.evaluate import numeric
    from ..frontend import tensor as T
    U = T.tensor("_U_site", tuple(node.shape))
    graph, g = gradient_graph(case.f.xreplace({node: U}), [U], 0, case.derivation.ir.policy)
    return [np.asarray(v[0], float) for v in
            case.eval_vars(graph, [g], lambda vals: {U.name: np.asarray(numeric(node, vals), float)})]


def _upstreams(case: Case) -> list:
    """[(name, per point its values, the text naming it)]: each dout, then the gradient at each
    node the parameter is added into (when it is not dout itself)."""
    ex = case.points[0].example()
    douts = [n for n in ex if re.fullmatch(r"dout\d*", str(n))] or [   # a text claim's upstream D
        n for n in ex if n not in {p.name for p in case.params} and np.ndim(ex[n]) >= 2]
    out = [(d, [np.asarray(p.example()[d], float) for p in case.points], d) for d in douts]
    for node, text in _added_into(case.f, case.w):
        try:
            vals = _gradient_at(case, node)
        except Exception:                 # a declaration this recogniser does not follow: no site
            continue
        if any(all_same(vals, v) for _, v, _ in out):
            continue                      # the node is the output: its gradient is dout
        from ..frontend.functions import relu
        through = " (through relu's mask: cs231n's da = relu_backward(dout, cache))" if case.f.has(relu) else ""
        out.append(("da", vals, f"da = ∂f/∂({text}), dout carried back to the sum {case.w.name} is "
                                f"added into{through}"))
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
    for d, vals, _ in ups:                      # the claim: a sum of which upstream gradient
        claim_axes = _sums(vals, Cs, lambda v: v if v.shape == cs else None)
        if claim_axes is None:
            continue
        for t, tvals, tsaid in ups:                # the truth: a sum of which
            true_axes = _sums(tvals, Ts, lambda v: v.reshape(shape) if v.size == int(np.prod(shape)) else None)
            if true_axes is None or (claim_axes == true_axes and t == d):
                continue
            kept = tuple(a for a in range(vals[0].ndim) if a not in claim_axes)
            axis = true_axes[0] if len(true_axes) == 1 else true_axes
            reshape = '' if len(shape) == tvals[0].ndim - len(true_axes) else f'.reshape({w}.shape)'
            if t == d:
                return (f"summed over the wrong axes: the claim for {w} is {d} summed over "
                        f"{ax(claim_axes)}, keeping {ax(kept)} (shape {tuple(cs)}), but {want}: its gradient "
                        f"is {d} summed over {ax(true_axes)}, {'the axis' if len(true_axes) == 1 else 'the axes'} "
                        f"along which {w} is broadcast in the forward — d{w} = {d}.sum(axis={axis}){reshape}"
                        + (f", with {tsaid}." if t == "da" else "."))
            if d == "da":               # the claim from the node's gradient, the truth from dout:
                continue                          # not a slip this names
            wrong_axes = claim_axes != true_axes
            return ((f"summed over the wrong axes, and from {d}: " if wrong_axes else f"summed from {d}: ")
                    + f"the claim for {w} is {d} summed over {ax(claim_axes)}, keeping {ax(kept)} (shape "
                    f"{tuple(cs)}), but {want}: its gradient is {t} summed over {ax(true_axes)}, "
                    f"{'the axis' if len(true_axes) == 1 else 'the axes'} along which {w} is broadcast in "
                    f"the forward — d{w} = {t}.sum(axis={axis}){reshape}, with {tsaid}; not dout itself.")
    return None
