"""A Hessian claim that is wrong in one term of f only: ridge regression's 2AᵀA where 2AᵀA + 2λI
belongs (the regulariser's Hessian left out), or 2AᵀA + λI (the regulariser's 2 missing).

f is split into the terms of its sum; the Hessian of each term alone is compared with the claim's
difference from the Hessian: C − H = c·Hₜ at every point for one term t and a simple c ≠ 0 (−1: the
term's Hessian left out; −1/2: half of it, a square's 2 missing; 1: counted twice; −2: its sign
flipped). The gradient hints name the same slip as a path of the influence diagram (fanout_hint.py);
a Hessian claim has no derivation to read, so the terms are f's own. `jacobian_claims` asks it
after its own slips and `hessian_activation_hint`.

>>> import sympy as sp, symgrad as sg
>>> A, v, lam = sp.MatrixSymbol('A', 5, 3), sp.MatrixSymbol('v', 3, 1), sp.Symbol('lambda', positive=True)
>>> f = sg.sum(sp.HadamardPower(A * v, 2)) + lam * sg.sum(sp.HadamardPower(v, 2))
>>> sg.check(f, v, 2 * A.T * A).hint.kind
"one term's Hessian left out"
"""
from __future__ import annotations

from fractions import Fraction

import sympy as sp

from .hint_case import short_text
from .hint_kind import Hint

MOST_TERMS = 8


def hessian_term_hint(f, wrt, differences) -> Hint | None:
    """``differences(H)``: per point, (C − H_true, H evaluated) for an expression H, or None where H
    does not evaluate; the slip is one term's Hessian scaled by a simple c in the claim."""
    from ..core.differentiate import hessian
    terms = [t for t in sp.Add.make_args(f) if t.has(wrt)]
    if not 2 <= len(terms) <= MOST_TERMS:
        return None
    for t in terms:
        try:
            pairs = differences(hessian(t, wrt))
        except Exception:   # noqa: BLE001 - a term that does not differentiate alone is no slip
            continue
        if pairs is None:
            continue
        c = _common_multiple(pairs)
        if c is None:
            continue
        said = short_text(t, 70)
        if c == -1:
            alone = not any(isinstance(a, sp.MatrixSymbol) and a != wrt for a in t.free_symbols)
            reg = f" (a regulariser λ‖{wrt}‖² adds 2λI to the Hessian)" if alone else ""
            return Hint("one term's Hessian left out",
                        f"the claim is the Hessian of f without the term {said}: that term's Hessian is left "
                        f"out{reg}.")
        k = 1 + c
        ks = str(k).replace("-", "−")
        why = {Fraction(1, 2): ": the 2 from differentiating its square is missing",
               Fraction(2): ": counted twice, or its ½ dropped",
               Fraction(-1): ": its sign flipped"}.get(k, "")
        return Hint("one term's Hessian wrong",
                    f"the claim holds {ks} times the Hessian of the term {said}, where 1 times belongs{why}; "
                    f"the rest of the Hessian is right.")
    return None


def _common_multiple(pairs) -> Fraction | None:
    """The simple c with d = c·h at every (d, h) of ``pairs``, h not all 0; None otherwise."""
    import numpy as np
    hh = sum(float(np.sum(h * h)) for _, h in pairs)
    if hh == 0:
        return None
    c = sum(float(np.sum(d * h)) for d, h in pairs) / hh
    fr = Fraction(c).limit_denominator(16)
    if fr == 0 or abs(float(fr) - c) > 1e-6 * max(abs(c), 1):
        return None
    for d, h in pairs:
        scale = max(float(np.max(np.abs(d))), float(np.max(np.abs(h))), 1e-12)
        if float(np.max(np.abs(d - float(fr) * h))) > 1e-6 * scale:
            return None
    return fr


__all__ = ["hessian_term_hint"]
