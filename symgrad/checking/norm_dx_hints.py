"""Name two slips of a norm layer's one-line dx (cs231n's batchnorm_backward_alt, layernorm_backward):

    var for std     dx = (...) / (N * (var + eps)) where (N * np.sqrt(var + eps)) belongs: the claim
                    is the gradient divided by std once more
    N left out      dx = (dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0)) / (N * std), dxhat's
                    own term without its N: the claim is T − (1 − 1/N)·D, D = dxhat / std the
                    gradient with the mean and the variance held constant (f derived again with
                    them as constant tensors)

Both compare values at the check's points; `hints.find_hint` tries them before fan-out, which reads
the second, when the statistics keep their dims, as one path's term times 1/N (true, but not in the
student's terms).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_case import Case, _fitted, _variances, all_same


def _norm_of_w(case: Case):
    """(variance node, n, the variance's std base) when w is the input the norm layer normalises
    (its variance's x) and f divides by sqrt(var + eps); None otherwise."""
    from ..frontend import tensor as T
    vs = [(v, n) for v, n, _ in _variances(case.f) if v.x == case.w]
    if len(vs) != 1:
        return None
    v, n = vs[0]
    bases = {p.base for p in sp.preorder_traversal(case.f)
             if isinstance(p, sp.Pow) and p.exp in (sp.Rational(1, 2), sp.Rational(-1, 2)) and p.base.has(v)}
    if len(bases) != 1 or not isinstance(case.w, T.Tensor):
        return None
    return v, n, bases.pop()


def _words(v):
    """The size and the sums' keywords a student writes for this norm layer's axes."""
    axes = v.axes
    size = "N" if axes == (0,) else ("D" if axes == (1,) and len(v.x.shape) == 2 else "n")
    ax = "axis=0" if axes == (0,) else f"axis={axes[0] if len(axes) == 1 else axes}, keepdims=True"
    return size, ax


def var_for_std_hint(case: Case):
    from ..core.evaluate import numeric
    from ..frontend import tensor as T
    found = _norm_of_w(case)
    Cs, Ts = _fitted(case)
    if found is None or any(c is None for c in Cs) or all_same(Cs, Ts):
        return None
    v, n, base = found
    stds = [np.sqrt(p.mean(lambda vals: [np.asarray(numeric(T.as_tensor(base), vals), float)])[0])
            for p in case.points]
    if not all_same(Cs, [t / s for t, s in zip(Ts, stds)]):
        return None
    size, _ = _words(v)
    return (f"var + eps where the std belongs: dx is divided by var + eps where std = np.sqrt(var + eps) "
            f"belongs; write dx = (...) / ({size} * std).")


def n_left_out_hint(case: Case):
    from ..core.differentiate import differentiate
    from ..core.evaluate import numeric
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    found = _norm_of_w(case)
    Cs, Ts = _fitted(case)
    if found is None or any(c is None for c in Cs) or all_same(Cs, Ts):
        return None
    v, n, _ = found
    if n < 2:
        return None
    stats = [s for s in dict.fromkeys(sp.preorder_traversal(case.f))
             if s == v or (isinstance(s, T.Reduce) and s.op == "mean" and s.x == v.x and s.axes == v.axes)]
    sub = {s: T.tensor(f"_stat{i}", tuple(T.shape_of(s))) for i, s in enumerate(stats)}
    Dv = differentiate(_rebuilt(case.f, sub), case.params, policy=case.derivation.ir.policy)
    g = Dv.gradient_vars[case.k]
    if g is None:
        return None

    def extra(vals):
        return {k.name: np.asarray(numeric(T.as_tensor(s), vals), float) for s, k in sub.items()}
    Ds = [np.broadcast_to(d[0], t.shape) for d, t in zip(case.eval_vars(Dv.ir, [g], extra), Ts)]
    if not all_same(Cs, [t - (1 - 1 / n) * d for t, d in zip(Ts, Ds)]):
        return None
    size, ax = _words(v)
    return (f"{size} left out of dx's first term: write {size} * dxhat, dx = ({size} * dxhat - "
            f"dxhat.sum({ax}) - xhat * (dxhat * xhat).sum({ax})) / ({size} * std).")
