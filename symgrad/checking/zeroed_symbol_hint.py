"""A claim with every term of one input left out: logistic regression's Xᵀσ(Xw) for Xᵀ(σ(Xw) − y),
a least-squares Aᵀ(Av) for Aᵀ(Av − b) — the gradient with that input set to 0.

For each symbol s of f that is not a variable checked (a target y, an offset b), the true gradient is
evaluated at the check's points with s = 0 (its shape kept) and compared with the claim. Tried late,
after the fan-out hint (which names a left-out path of f's graph: this names a symbol whose terms
the claim has none of, where the loss is written so that no single path carries them — the softplus
form of logistic regression). `hints.find_hint` asks it before the first-step hint."""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_case import Case, _claim_is, _fitted, differs, gradient_graph
from .hint_kind import Hint

MOST_SYMBOLS = 8


def zeroed_symbol_hint(case: Case):
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts) or all(float(np.max(np.abs(c))) == 0 for c in Cs):
        return None
    params = {p.name for p in case.params}
    inputs = sorted((s for s in case.f.free_symbols if isinstance(s, (sp.Symbol, sp.MatrixSymbol))
                     and not isinstance(s, sp.Dummy) and s.name not in params
                     and not getattr(s, "is_integer", False)), key=lambda s: s.name)
    if not inputs or len(inputs) > MOST_SYMBOLS:
        return None
    graph, g = gradient_graph(case.f, case.params, case.k, case.derivation.ir.policy)
    if g is None:
        return None
    for s in inputs:
        def zero(vals, name=s.name):
            return {name: np.zeros_like(np.asarray(vals[name], dtype=float))} if name in vals else {}
        try:
            if _claim_is(case, graph, g, extra=zero):
                from ..frontend.functions import sigmoid, softplus
                eg = (" (logistic regression's gradient is Xᵀ(σ(Xw) − y): the − y)"
                      if case.f.has(softplus) or case.f.has(sigmoid) else "")
                return Hint(f"terms of {s.name} left out",
                            f"the claim is the gradient with {s.name} = 0: every term of {s.name} is left out of "
                            f"∂f/∂{case.w.name}{eg}.")
        except Exception:   # noqa: BLE001 - a value that does not evaluate with s = 0 is no slip
            continue
    return None


__all__ = ["zeroed_symbol_hint"]
