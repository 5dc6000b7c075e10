"""Name two slips of a norm layer's one-line dx (cs231n's batchnorm_backward_alt, layernorm_backward):

    var for std     dx = (...) / (N * (var + eps)) where (N * np.sqrt(var + eps)) belongs: the claim
                    is the gradient divided by std once more (and std left out, dx = (...) / N: the
                    gradient times std)
    N left out      dx = (dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0)) / (N * std), dxhat's
                    own term without its N: the claim is T − (1 − 1/N)·D, D = dxhat / std the
                    gradient with the mean and the variance held constant (f derived again with
                    them as constant tensors)

    wrong count     dx = (m * dxhat - dxhat.sum(…) - xhat * (dxhat * xhat).sum(…)) / (m * std) with m
                    another count than the n entries the statistics average over (a group norm's C
                    or N where C/G·H·W belongs; a spatial batch norm's N where N·H·W belongs, also
                    declared through its rows x.transpose(0, 2, 3, 1).reshape(-1, C)): the claim is
                    D + (n/m)·(T − D), D as above

All compare values at the check's points; `hints.find_hint` tries them before fan-out, which reads
the second, when the statistics keep their dims, as one path's term times 1/N (true, but not in the
student's terms).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _fitted, _variances, all_same, differs, value_at
from .spatial_norm import rows_of, spatial_input


def _norm_of_w(case: Case, rows=False):
    """(variance node, n, the variance's std base) when w is the input the norm layer normalises
    (its variance's x) and f divides by sqrt(var + eps); None otherwise. ``rows``: a spatial batch
    norm declared through its rows, x.transpose(0, 2, 3, 1).reshape(-1, C), is one too."""
    from ..frontend import tensor as T
    vs = [(v, n) for v, n, _ in _variances(case.f)
          if v.x == case.w or (isinstance(v.x, T.Reshape) and v.x.args[0] == case.w)   # group norm
          or (rows and rows_of(v.x) == case.w)]
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
    found = _norm_of_w(case)
    Cs, Ts = _fitted(case)
    if found is None or not differs(Cs, Ts):
        return None
    v, n, base = found
    stds = [np.sqrt(p.mean(lambda vals: [value_at(base, vals)])[0])
            for p in case.points]
    size, _ = _words(v)
    if all_same(Cs, [t * s for t, s in zip(Ts, stds)]):
        return Hint("std left out of dx",
                    f"the claim is the gradient times std = np.sqrt(var + eps) — dx is "
                    f"not divided by std (x̂ = (x - mu) / std puts 1/std on every path from x); write "
                    f"dx = (...) / ({size} * std), or multiply by istd = 1 / np.sqrt(var + eps).")
    if not all_same(Cs, [t / s for t, s in zip(Ts, stds)]):
        return None
    return Hint("var + eps where the std belongs",
                f"dx is divided by var + eps where std = np.sqrt(var + eps) "
                f"belongs; write dx = (...) / ({size} * std).")


def n_left_out_hint(case: Case):
    found = _norm_of_w(case)
    Cs, Ts = _fitted(case)
    if found is None or not differs(Cs, Ts):
        return None
    v, n, _ = found
    if n < 2:
        return None
    Ds = _held_constant(case, v, Ts)
    if Ds is None or not all_same(Cs, [t - (1 - 1 / n) * d for t, d in zip(Ts, Ds)]):
        return None
    size, ax = _words(v)
    return Hint(f"{size} left out of dx's first term",
                f"write {size} * dxhat, dx = ({size} * dxhat - "
                f"dxhat.sum({ax}) - xhat * (dxhat * xhat).sum({ax})) / ({size} * std).")


def _count(case: Case):
    """(m, n, v): dx's count m where the norm's statistics v average over n entries, when the claim
    is D + (n/m)·(T − D) for a whole m ≠ n that is a size of x; None otherwise."""
    found = _norm_of_w(case, rows=True)
    Cs, Ts = _fitted(case)
    if found is None or not differs(Cs, Ts):
        return None
    v, n, _ = found
    Ds = _held_constant(case, v, Ts)
    if Ds is None:
        return None
    den = sum(float(np.sum((t - d) ** 2)) for t, d in zip(Ts, Ds))
    if den == 0:
        return None
    k = sum(float(np.sum((c - d) * (t - d))) for c, t, d in zip(Cs, Ts, Ds)) / den
    m = round(n / k) if k > 0 else 0
    if m < 1 or m == n or not _readings(case.w, m):   # a count that is a size of x, or no hint
        return None                                    # (dx = dxhat / std alone reads as m → ∞)
    if not all_same(Cs, [d + (n / m) * (t - d) for t, d in zip(Ts, Ds)]):
        return None
    return m, n, v


def _told_apart(case: Case, m: int, readings: list) -> list:
    """The readings of the count m (axes of x whose sizes multiply to m) that still hold where the
    check's symbolic sizes are others: at N = 4, with H = W = 2, a count of 4 is N or H * W; at N = 5
    it is 5 or 4. The claim is asked again there (``case.at_sizes``), at one point."""
    if len(readings) < 2 or not case.at_sizes or not case.sizes:
        return readings
    from .tensors import fixed_dims
    taken = fixed_dims(case.f) | {int(n) for n in case.sizes.values()}
    other, k = {}, max(int(n) for n in case.sizes.values()) + 1
    for name in case.sizes:
        while k in taken:
            k += 1
        other[name] = k
        k += 1
    try:
        again = case.at_sizes(other)
        found = _count(again) if again is not None and again.w.name == case.w.name else None
    except Exception:   # noqa: BLE001 - the claim raising at other sizes tells nothing apart
        found = None
    if found is None:
        return readings
    shape = tuple(int(d) for d in again.w.shape)
    kept = [r for r in readings if int(np.prod([shape[a] for a in r])) == found[0]]
    return kept or readings


def wrong_count_hint(case: Case):
    """dx's count m where the statistics average over n entries (`_count`), named by the sizes of x
    it is — asked again at other sizes where two readings have one value here."""
    found = _count(case)
    if found is None:
        return None
    m, n, v = found
    readings = _told_apart(case, m, _readings(case.w, m))
    shape = tuple(int(d) for d in case.w.shape)
    spatial = (len(shape) == 4 and n == shape[0] * shape[2] * shape[3] and spatial_input(v) == case.w)
    said = ""
    if spatial and readings == [(0,)]:
        said = (" — N where N * H * W belongs (spatial batch norm: each channel's statistics average over "
                "the N * H * W entries of its rows, n = N * H * W)")
    elif spatial and readings == [(2, 3)]:
        said = (" — H * W where N * H * W belongs (spatial batch norm: each channel's statistics average "
                "over every example's H * W positions, n = N * H * W, not one example's)")
    elif spatial and {(0,), (2, 3)} <= set(readings):
        said = (" — N or H * W (both are " + str(m) + " here) where N * H * W belongs (spatial batch norm: "
                "each channel's statistics average over the N * H * W entries of its rows)")
    return Hint("wrong count in dx",
                f"the claim divides by {m}{_as_axes(case.w, m, readings=readings)} where "
                f"the mean and variance average over {n} entries{_as_axes(case.w, n, v)}{said}; dx = (n * dxhat - "
                f"dxhat.sum(…) - xhat * (dxhat * xhat).sum(…)) / (n * std) with n = {n}, the size of the "
                f"axes the statistics are taken over.")


def _readings(w, m) -> list:
    """Every set of axes of w whose sizes multiply to m, fewest axes first."""
    from itertools import combinations
    shape = tuple(int(d) for d in w.shape)
    return [axes for r in range(1, len(shape) + 1) for axes in combinations(range(len(shape)), r)
            if int(np.prod([shape[a] for a in axes])) == m]


def _as_axes(w, m, v=None, readings=None) -> str:
    """m as sizes of w (or of the variance's grouped x): " (x.shape[1])", " (x.shape[2] * x.shape[3])";
    ``readings``: the sets of axes it may be (" (x.shape[0], or x.shape[2] * x.shape[3]: equal here)")."""
    from ..frontend import tensor as T
    if v is not None and rows_of(v.x) == w:           # spatial batch norm through its rows
        perm = tuple(int(a) for a in v.x.args[0].args[1])
        return (_as_axes(w, m) or f" ({m})")[:-1] + (f", the rows of {w.name}.transpose{perm}"
                                                     f".reshape(-1, {int(v.x.shape[-1])}))")
    if v is not None and isinstance(v.x, T.Reshape):
        g = tuple(int(v.x.shape[a]) for a in v.axes)
        return (f" ({' · '.join(map(str, g))}, the grouped axes {v.axes} of "
                f"{w.name}.reshape{tuple(int(d) for d in v.x.shape)})")
    said = [" * ".join(f"{w.name}.shape[{a}]" for a in axes) for axes in (readings or _readings(w, m))]
    if readings is not None and len(said) > 1:
        return f" ({', or '.join(said)}: equal here)"
    return f" ({said[0]})" if said else ""


def _held_constant(case, v, Ts, variance=True):
    """Per point, ∂f/∂w with the norm's mean and variance held constant (dxhat / std, in cs231n's
    terms), broadcast to the gradient's shape; None where it cannot be derived. ``variance=False``:
    the mean alone held (a staged backward's dx1 = dxmu1 + dxmu2), None where f has no such mean."""
    from ..frontend import tensor as T
    from .hint_case import gradient_graph
    from .layer_hints import _rebuilt
    stats = [s for s in dict.fromkeys(sp.preorder_traversal(case.f))
             if (variance and s == v) or (isinstance(s, T.Reduce) and s.op == "mean" and s.x == v.x
                                          and s.axes == v.axes)]
    if not stats:
        return None
    sub = {s: T.tensor(f"_stat{i}", tuple(T.shape_of(s))) for i, s in enumerate(stats)}
    graph, g = gradient_graph(_rebuilt(case.f, sub), case.params, case.k, case.derivation.ir.policy)
    if g is None:
        return None

    def extra(vals):
        return {k.name: value_at(s, vals) for s, k in sub.items()}
    return [np.broadcast_to(d[0], t.shape) for d, t in zip(case.eval_vars(graph, [g], extra), Ts)]
