"""Name a norm layer's backward with the power of (var + ε) off by one on one path: 11-785's
BatchNorm1d backward writes dLdV = −½ Σ dLdNZ ⊙ (Z − M) ⊙ (V + ε)^(−3/2), and a student writes
(V + ε)^(−1/2) (the power of NZ itself), or dLdZ's first term with (V + ε)^(−3/2). The paths are the
fan-out consumers of `fanout_paths.fanout_terms` (as `eps_path_hint` takes them); the claim must be
the gradient with one path's term multiplied by (var + ε)^j, j = ±1, exactly, at every point."""
from __future__ import annotations

import numpy as np

from .hint_kind import Hint
from .hint_case import Case, _fitted, all_same, differs, value_at

_SAID = {1: "(var + eps) ** -0.5 where (var + eps) ** -1.5 belongs (one power of var + eps short)",
         -1: "(var + eps) ** -1.5 where (var + eps) ** -0.5 belongs (one power of var + eps too many)"}


def norm_power_hint(case: Case):
    from .eps_path_hint import _groups, _words
    from .norm_dx_hints import _norm_of_w
    found = _norm_of_w(case)
    if found is None:
        return None
    v, _, base = found
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    D = case.derivation
    wv = D.wrt_vars[case.k]
    ndim = Ts[0].ndim

    def at(vals):
        b = value_at(base, vals)
        return [np.expand_dims(b, tuple(v.axes)) if b.ndim < ndim else b]
    bs = [p.mean(at)[0] for p in case.points]
    for group in _groups(D, wv):
        vals = case.eval_vars(D.ir, [t for _, _, t in group])
        terms = [[np.broadcast_to(x, t.shape) for x in vs] for vs, t in zip(vals, Ts)]
        if not all_same([sum(ts) for ts in terms], Ts):
            continue                           # not a partition of the gradient
        for i, (pv, eqn, _) in enumerate(group):
            for j in (1, -1):
                cand = [t + (b ** j - 1) * ts[i] for t, b, ts in zip(Ts, bs, terms)]
                if all_same(Cs, cand):
                    return Hint("power of var + eps off by one",
                                f"the claim is the gradient with "
                                f"{_words(D, wv, pv, eqn)} multiplied by (var + eps){'' if j == 1 else ' ** -1'} "
                                f"— {_SAID[j]}; d/dvar (var + eps) ** -0.5 = -0.5 * (var + eps) ** -1.5.")
    return None
