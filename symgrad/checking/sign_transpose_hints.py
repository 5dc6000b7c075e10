"""The claim C is the gradient T negated (C = −T), or transposed for a square w (C = Tᵀ, possibly also
negated or scaled); and how C relates to T by a scalar (`_relation`, `_scale`, `_nice`: the least-squares
k of C ≈ k·T as a simple fraction), which the shape, factor and fan-out hints read too."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from .hint_kind import Hint
from .hint_case import Case, _fitted, all_same, claim_is
from .transpose_words import _transpose_rule


def sign_hint(case: Case):
    Cs, Ts = _fitted(case)
    if all_same(Cs, Ts, -1):
        gate = _one_gate_flipped(case)
        if gate:
            return gate
        subject, gradient = claim_is(case, -1)
        return Hint("flipped sign",
                    f"{subject} −1 times {gradient} (a lost inner derivative −1, as in "
                    "d/dw ½(y − w·x)² = −(y − w·x)·x; or the descent step's minus carried into the gradient).")
    return None


def _flipped(case: Case) -> list:
    """The parameters whose claims are −1 times their gradients, in wrt order."""
    from .claims import _shape, fit_shape
    out = []
    for j, p in enumerate(case.params):
        Cs = [fit_shape(np.asarray(c[j], float), _shape(p)) if c[j] is not None else None for c in case.claims]
        if all(c is not None for c in Cs) and all_same(Cs, [np.asarray(t[j], float) for t in case.truths], -1):
            out.append(p)
    return out


def _one_gate_flipped(case: Case) -> str | None:
    """A gated cell's backward with one gate's own gradient negated (11-785's GRU: dz = delta ⊙ (n − h)
    for delta ⊙ (h − n)): the flipped claims are exactly the parameters that reach f through one
    sigmoid gate only."""
    import sympy as sp
    from ..frontend.functions import sigmoid
    from .gate_factor_hints import _short
    if len(case.params) < 3:
        return None
    flipped = _flipped(case)
    if len(flipped) < 2:
        return None
    for g in dict.fromkeys(n for n in sp.preorder_traversal(case.f) if isinstance(n, sigmoid)):
        rest = case.f.xreplace({g: sp.Dummy()})
        own = [p for p in case.params if g.has(p) and not rest.has(p)]
        if own and own == flipped:
            names = ", ".join(p.name for p in own)
            gru = any(isinstance(n, sp.Add) and sp.S.One in n.args and -g in n.args
                      for n in sp.preorder_traversal(case.f))
            why = (" — in a GRU, h' = (1 − z) ⊙ n + z ⊙ h gives dz = delta ⊙ (h − n), not (n − h)"
                   if gru else "")
            return Hint("flipped sign in one gate",
                        f"the claims for {names} — the parameters of the gate "
                        f"{_short(g)} alone — are −1 times their gradients: the sign slipped in the gate's own gradient"
                        f"{why}.")
    return None


def _relation(Cs, Ts) -> str | None:
    """How C relates to T by a scalar: "" (equal), " and flipped sign", " and a factor k"; None."""
    if all_same(Cs, Ts):
        return ""
    if all_same(Cs, Ts, -1):
        return " and flipped sign"
    k = _scale(Cs, Ts)
    if k is not None and abs(k) > 1e-12 and all_same(Cs, Ts, k):
        fr = _nice(k)
        return f" and a factor {fr if fr is not None else format(k, '.6g')}"
    return None


def _scale(Cs, Ts) -> float | None:
    """The least-squares k in C ≈ k·T, ⟨C, T⟩ / ⟨T, T⟩ over every point; None when T is 0."""
    tt = sum(float(np.sum(t * t)) for t in Ts)
    if tt == 0:
        return None
    return sum(float(np.sum(c * t)) for c, t in zip(Cs, Ts)) / tt


def transpose_hint(case: Case):
    """A square w: C = Tᵀ (possibly also negated or scaled), T not symmetric."""
    Cs, Ts = _fitted(case)
    if Ts[0].ndim == 2 and Ts[0].shape[0] == Ts[0].shape[1] > 1 and not all_same(Ts, [t.T for t in Ts]):
        also = _relation([c.T for c in Cs], Ts)
        if also is not None:
            rule = _transpose_rule(case)
            rule = "" if "W·y" in rule else f"; {rule.replace('write it transposed: ', '').split(' — ')[0]}"
            return Hint(f"transpose{also}",
                        f"the claim is the transpose of the gradient{also} "
                        f"(∂f/∂{case.w.name} has {case.w.name}'s layout: entry (i, j) is "
                        f"∂f/∂{case.w.name}[i, j]{rule}).")
    return None


def _nice(k: float) -> Fraction | None:
    fr = Fraction(k).limit_denominator(64)
    return fr if abs(float(fr) - k) <= 1e-6 * abs(k) else None
