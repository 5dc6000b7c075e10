"""Max at a tie in a scalar or matrix declaration: ``sp.Max(a, b)``, or a max pool written over a
matrix's entries, ``sp.Max(x[0, 0], x[0, 1], x[1, 0], x[1, 1])`` (`symgrad.checking.ties` does the
same for tensor layers).

Random points never tie, so a claim that routes δ to *every* argument attaining the maximum —
``Heaviside(x[i, j] − m, 1)`` for each entry of the window with max m, a NumPy backward
``(x == x.max()) * dout`` — agrees with the gradient at every random point. Such a routing is not a
subgradient: at a tie of k arguments its weights sum to k, not 1 (along the direction that raises
the tied arguments together, f grows like δ and the claim says k·δ). So after the random points
agree, a point is made where two arguments of a Max (or Min) tie at the maximum — the runner-up
set equal to the maximum when it is a free value (a symbol, or an entry of a matrix, not given with
``at=``), else the maximum set to the runner-up — and the claim is compared there with the policy's
gradient (δ to the first argument attaining it, `symgrad.core.policy`) and with the "every tied
argument" routing, derived as symgrad derives the policy's: f with each Max replaced by `_AllMax`,
whose derivative in argument k is Π_{j≠k} [s·(x_k − x_j) ≥ 0] (the policy's has > for j < k).
A tie is used only where that routing is no subgradient: not where one tied argument carries no
gradient (max(0, z) at z = 0, where δ to both is relu'(0) = 1) or the two cancel (max(w, −w)).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from .claims import _compare
from .sampling import _stack, _Point

BUDGET = 12               # tie candidates tried in all (each evaluates f's gradient twice)


class _AllTied(sp.Function):
    """Max (sign 1) or Min (sign −1) whose derivative sends δ to every argument attaining it."""

    sign = 1

    def fdiff(self, argindex=1):
        k = argindex - 1
        x = self.args[k]
        return sp.Mul(*[sp.Heaviside(self.sign * (x - y), 1) for j, y in enumerate(self.args) if j != k])


class _NoneTied(sp.Function):
    """Max (sign 1) or Min (sign −1) whose derivative sends δ to no argument at a tie (strict
    comparisons): f's gradient without the tied max's share, to tell the shares apart."""

    sign = 1

    def fdiff(self, argindex=1):
        k = argindex - 1
        x = self.args[k]
        return sp.Mul(*[sp.Heaviside(self.sign * (x - y), 0) for j, y in enumerate(self.args) if j != k])


# Siblings, not one a subclass of another; `_imp_` is how lambdify evaluates them.
def _maximum(*a):
    return np.maximum.reduce(np.broadcast_arrays(*a))


def _minimum(*a):
    return np.minimum.reduce(np.broadcast_arrays(*a))


class _AllMax(_AllTied):
    sign = 1
    _imp_ = staticmethod(_maximum)


class _AllMin(_AllTied):
    sign = -1
    _imp_ = staticmethod(_minimum)


class _NoneMax(_NoneTied):
    sign = 1
    _imp_ = staticmethod(_maximum)


class _NoneMin(_NoneTied):
    sign = -1
    _imp_ = staticmethod(_minimum)


def max_nodes(f) -> list:
    """The Max and Min nodes of f (scalar ones, over symbols or matrix entries), outermost first."""
    return list(dict.fromkeys(n for n in sp.preorder_traversal(f) if isinstance(n, (sp.Max, sp.Min))))


@lru_cache(maxsize=32)
def tied_derivations(f, params: tuple, policy):
    """symgrad's derivatives of f with every Max and Min sending δ, at a tie, to each argument
    attaining it ("all") and to none of them ("none")."""
    from ..core.differentiate import differentiate
    return {"all": differentiate(f.replace(sp.Max, _AllMax).replace(sp.Min, _AllMin), list(params), policy=policy),
            "none": differentiate(f.replace(sp.Max, _NoneMax).replace(sp.Min, _NoneMin), list(params), policy=policy)}


def _flat(grads) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(g, float)) for g in grads])


def every_is_a_subgradient(truth, every, none) -> bool:
    """At a tie of two arguments, is sending δ to both still a subgradient? Their shares are
    g₁ = truth − none (the policy's, δ to the first) and g₂ = every − truth; δ to both is
    g₁ + g₂, a subgradient exactly when it is a convex combination λ·g₁ + (1 − λ)·g₂ — when one
    share is 0 (max(0, z): the constant has none, z's alone is relu'(0) = 1) or they are opposite
    (max(w, −w) = |w|: 1 − 1 = 0 at w = 0)."""
    t, e, n = _flat(truth), _flat(every), _flat(none)
    g1, g2 = t - n, e - t
    tol = 1e-9 * (1.0 + float(np.abs(np.concatenate([t, e, n])).max(initial=0.0)))
    d = g1 - g2                                  # λ·d = g1
    dd = float(d @ d)
    if dd <= tol * tol:
        return bool(np.abs(g1).max(initial=0.0) <= tol)
    lam = float(g1 @ d) / dd
    return -1e-9 <= lam <= 1 + 1e-9 and bool(np.abs(lam * d - g1).max(initial=0.0) <= tol)


def _settable(arg, free: set):
    """(name, index) of the free value ``arg`` is — a symbol (index None) or an entry of a matrix
    symbol — or None when it is an expression."""
    if isinstance(arg, sp.Symbol) and arg.name in free:
        return arg.name, None
    if isinstance(arg, sp.matrices.expressions.matexpr.MatrixElement):
        m, i, j = arg.args
        if isinstance(m, sp.MatrixSymbol) and m.name in free and i.is_Integer and j.is_Integer:
            return m.name, (int(i), int(j))
    return None


def _set(values: dict, where, v) -> dict:
    name, idx = where
    out = dict(values)
    if idx is None:
        out[name] = float(v)
    else:
        a = np.array(values[name], dtype=float)
        a[idx] = v
        out[name] = a
    return out


def _tied(sampler, pt, node):
    """``pt`` with two arguments of ``node`` tied at its maximum (minimum for Min) in its first
    example, or None when neither the maximum nor the runner-up is a free value."""
    from ..core.evaluate import numeric
    free = {s.name for s in sampler.pfree + sampler.ifree}
    vals = pt.example(0)
    try:
        got = [float(np.asarray(numeric(a, vals), float)) for a in node.args]
    except (ArithmeticError, ValueError, TypeError):
        return None
    s = -1 if isinstance(node, sp.Min) else 1
    first, second = sorted(range(len(got)), key=lambda i: -s * got[i])[:2]
    for moved, to in ((second, first), (first, second)):
        where = _settable(node.args[moved], free)
        if where is None:
            continue
        if where[0] in pt.params:
            return _Point(_set(pt.params, where, got[to]), pt.examples, pt.batched)
        examples = [_set(pt.examples[0], where, got[to])] + list(pt.examples[1:])
        batched = None if pt.batched is None else {
            k: _stack([ex[k] for ex in examples], next(i for i in sampler.inputs if i.name == k))
            for k in pt.batched}
        return _Point(pt.params, examples, batched)
    return None


def _usable(sampler, c) -> bool:
    """f and its gradient finite at ``c``, every kink entry exactly 0 (the tie made, and others it
    made with it) or at least the sampler's margin from 0, inside any bounds."""
    from .sampling import KINK_MARGIN
    from ..core.evaluate import evaluate
    if not sampler.inside(c):
        return False
    with np.errstate(all="ignore"):
        for ex in sampler.site_values(c):
            for u in ex:
                a = np.abs(np.asarray(u, float))
                if np.any(np.isnan(a)) or np.any((a > 0) & (a < KINK_MARGIN)):
                    return False
        for i in range(len(c.examples)):
            if not all(np.all(np.isfinite(v)) for v in evaluate(sampler.D.ir, sampler.outs, c.example(i))):
                return False
    return True


def tie_point(sampler, pts, f, params, derivations, truth_of):
    """A usable point where a Max (or Min) of f is tied at its maximum and routing δ to every tied
    argument is no subgradient (`every_is_a_subgradient`): (point, truth, all-tied gradients), or
    None."""
    tried = 0
    for node in max_nodes(f):
        for p in pts:
            if tried >= BUDGET:
                return None
            c = _tied(sampler, p, node)
            if c is None:
                break
            tried += 1
            try:
                if not _usable(sampler, c):
                    continue
                truth = truth_of(c)
                alt, none = truth_of(c, derivations["all"]), truth_of(c, derivations["none"])
            except (ArithmeticError, ValueError):
                continue
            if not all(np.all(np.isfinite(a)) for a in (*alt, *none)):
                continue
            if (any(_compare(a, t, w)[0] > 1e-6 for a, t, w in zip(alt, truth, params))
                    and not every_is_a_subgradient(truth, alt, none)):
                return c, truth, alt
    return None


__all__ = ["max_nodes", "tied_derivations", "tie_point", "every_is_a_subgradient"]
