"""Name a shared parameter's gradient that keeps only some of its uses: cs231n's rnn_backward (or a
temporal affine layer) uses Wx, Wh and b at every time step, and ``dWx = x[:, t].T @ dtanh`` written
with ``=`` where ``+=`` belongs keeps one step's term; a loop that stops one step early drops one.

The parameter's own fan-out (`fanout_paths.fanout_terms`, the consumers of w itself) splits ∂f/∂w into one
term per use; the claim is fitted as Σ cⱼ·termⱼ by least squares over every point, and named only
when each cⱼ is 0 or 1 (some but not all) and that sum is the claim to 1e-6 at every point. One
term left out is `hints.fanout_hint`'s (tried first); this names the rest.
"""
from __future__ import annotations

import numpy as np

from .hint_kind import Hint
from .hint_case import Case, _fitted, all_same, differs

MAX_USES = 16


def _uses(D, wv):
    from .fanout_paths import fanout_terms
    return [(eqn, t) for v, eqn, t in fanout_terms(D, wv) if v.id == wv.id]


def some_uses_hint(case: Case):
    from .fanout_paths import _label
    D = case.derivation
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    uses = _uses(D, D.wrt_vars[case.k])
    if not 2 <= len(uses) <= MAX_USES:
        return None
    vals = case.eval_vars(D.ir, [t for _, t in uses])
    terms = [[np.broadcast_to(v, t.shape) for v in vs] for vs, t in zip(vals, Ts)]
    A = np.stack([np.concatenate([ts[j].ravel() for ts in terms]) for j in range(len(uses))], axis=1)
    b = np.concatenate([c.ravel() for c in Cs])
    coef = np.linalg.lstsq(A, b, rcond=None)[0]
    kept = np.rint(coef)
    if not np.all((kept == 0) | (kept == 1)) or kept.all() or not kept.any():
        return None
    if not all_same(Cs, [sum(k * x for k, x in zip(kept, ts)) for ts in terms]):
        return None
    w, n = case.w.name, len(uses)
    names = [_label(D, eqn.out, limit=48) for eqn, _ in uses]
    have = [nm for k, nm in zip(kept, names) if k]
    which = (f"the term of one use alone, {have[0]}" if len(have) == 1
             else f"the terms of {len(have)} of them only ({'; '.join(have)})")
    kind = f"{'one use' if len(have) == 1 else 'some uses'} only"
    if len({(eqn.prim, _params_key(eqn)) for eqn, _ in uses}) > 1:     # different operations: no recurrence
        return Hint(kind, f"{w} is used {n} times in f ({'; '.join(names)}), and the claim is {which}; its "
                          f"gradient sums the terms of every use (the sum over all paths of the influence "
                          f"diagram): add the others' terms.")
    return Hint(kind,
                f"{w} is used {n} times (a recurrence "
                f"or a temporal layer shares it across the time steps), and the claim is {which}; its "
                f"gradient sums the terms of every use — accumulate over the steps, d{w} += … in the loop "
                f"(from np.zeros_like({w})), not d{w} = …, and let the loop visit every step.")


def _params_key(eqn):
    """An equation's parameters as a comparable key (an elementwise body, a matmul's none): the uses
    of a recurrence are the same operation at each step; a loss and its penalty are not."""
    try:
        return hash(tuple(eqn.params))
    except TypeError:
        return repr(eqn.params)
