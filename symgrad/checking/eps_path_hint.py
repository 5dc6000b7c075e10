"""Name a norm layer's ε left out on some paths only: cs231n's staged batchnorm_backward computes
sqrtvar = np.sqrt(var + eps) for x̂ and then writes ``dvar = -0.5 * divar * var ** -1.5`` (or
``dxmu1 = dxhat / np.sqrt(var)``) in one step. `layer_hints.epsilon_hint` names ε left out
everywhere (the gradient of f with ε = 0); this is the mixture.

ε enters f once, in std = sqrt(var + ε), so writing a factor 1/std of one path without it multiplies
that path's term by r^(1/2) per factor, r = (var + ε)/var (entry by entry, as var broadcasts). The
paths are a fan-out's consumers (`fanout_paths.fanout_terms`) — x − μ feeding x̂ and the variance — whose
terms sum to the gradient; the claim must be Σ r^(kₚ/2)·termₚ for small whole kₚ (k = 1 for
1/sqrt(var), 2 for 1/var, 3 for var ** -1.5), exactly, at every point.
"""
from __future__ import annotations

from itertools import product

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _fitted, all_same, differs, value_at

_POWER = {1: "1/std written 1/np.sqrt(var)", 2: "1/std² written 1/var",
          3: "std**-3 written var ** -1.5"}


def _groups(D, wv):
    """The fan-out consumer terms of each value, grouped by the value, in fanout_terms' order."""
    from .fanout_paths import fanout_terms
    groups: dict[int, list] = {}
    for v, eqn, t in fanout_terms(D, wv):
        groups.setdefault(v.id, []).append((v, eqn, t))
    return [g for g in groups.values() if 2 <= len(g) <= 4]


def _ratio(case, v, base, ndim):
    """Per point, r = (var + ε)/var with var's reduced axes restored, so that it broadcasts."""

    def at(vals):
        var = value_at(v, vals)
        r = value_at(base, vals) / var
        return [np.expand_dims(r, tuple(v.axes)) if r.ndim < ndim else r]
    return [p.mean(at)[0] for p in case.points]


def _words(D, wv, v, eqn) -> str:
    """A path in the staged backward's words (cs231n's batchnorm_backward names its steps)."""
    from .fanout_paths import first_steps_square
    if eqn.prim.name == "rsum":
        return "the mean's path (dmu)"
    if first_steps_square(D, eqn, 4):
        return "the variance's path (dsqrtvar, dvar, dxmu2)"
    if v.id == wv.id:
        return "the direct path (x itself, not through μ)"
    return "the path through x̂ (dxmu1 = dxhat / std)"


def _eps_of(base, v):
    """ε of std's base var + ε (a tensor's Ewise wraps the sum): a small number, or None."""
    from ..frontend import tensor as T
    e = base.args[0] if isinstance(base, T.Ewise) else base
    if not isinstance(e, sp.Add):
        return None
    nums = [a for a in e.args if a.is_Number]
    rest = [a for a in e.args if not a.is_Number]
    if len(nums) != 1 or len(rest) != 1 or rest[0] != v or not 0 < abs(float(nums[0])) < 1e-2:
        return None
    return nums[0]


def eps_path_hint(case: Case):
    from .norm_dx_hints import _norm_of_w
    found = _norm_of_w(case)
    if found is None:
        return None
    v, _, base = found
    eps = _eps_of(base, v)
    if eps is None:
        return None
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    D = case.derivation
    wv = D.wrt_vars[case.k]
    rs = _ratio(case, v, base, Ts[0].ndim)
    for group in _groups(D, wv):
        vals = case.eval_vars(D.ir, [t for _, _, t in group])
        terms = [[np.broadcast_to(x, t.shape) for x in vs] for vs, t in zip(vals, Ts)]
        if not all_same([sum(ts) for ts in terms], Ts):
            continue                           # not a partition of the gradient
        for ks in sorted(product(range(4), repeat=len(group)), key=sum):
            if not any(ks):
                continue
            cand = [sum(r ** (k / 2) * x for k, x in zip(ks, ts)) for r, ts in zip(rs, terms)]
            if all_same(Cs, cand):
                return _sentence(case, D, group, ks, float(eps))
    return None


def _sentence(case, D, group, ks, eps) -> str:
    wv = D.wrt_vars[case.k]
    slipped = [(k, _words(D, wv, v, eqn)) for k, (v, eqn, _) in zip(ks, group) if k]
    kept = [_words(D, wv, v, eqn) for k, (v, eqn, _) in zip(ks, group) if not k]
    where = "; ".join(f"{w}, {_POWER[k]}" for k, w in slipped)
    also = (f", while {' and '.join(kept)} {'keeps' if len(kept) == 1 else 'keep'} it" if kept else " (every path's, x̂ itself kept right)")
    return Hint("ε left out on some paths",
                f"the claim is the gradient with eps = {eps:g} left out of "
                f"{where}{also}. The error is small, about eps/var, but it is another function's "
                f"gradient: compute std = np.sqrt(var + eps) once (as the forward does) and use it in "
                f"every step of the backward.")
