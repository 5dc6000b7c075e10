"""A claim that differentiates through a stop_gradient: the gradient of f with its stop_gradients
taken out. ``w * stop_gradient(w**2)`` has ∂f/∂w = w², and a claim of 3w² — what d(w³)/dw gives —
was named "constant factor: 3 times the gradient", which sends the student looking for a factor;
the slip is that a stop_gradient's argument passes its value forward and no gradient back (torch's
``.detach()``, JAX's ``lax.stop_gradient``)."""
from __future__ import annotations

import sympy as sp

from ..frontend.stop_gradient import has_stop_gradient, stop_gradient, without_stop_gradient
from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, differs, _fitted


def stop_gradient_hint(case: Case) -> str | None:
    if not has_stop_gradient(case.f):
        return None
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    if not _claim_is_gradient_of(case, without_stop_gradient(case.f)):
        return None
    held = [str(e) for e in dict.fromkeys(sp.preorder_traversal(case.f)) if isinstance(e, stop_gradient)]
    shown = ", ".join(held[:2]) + (f" and {len(held) - 2} more" if len(held) > 2 else "")
    return Hint("through stop_gradient",
                f"the claim is the gradient of f with its stop_gradient taken out "
                f"({shown}); a stop_gradient passes its argument's value forward and no gradient back "
                f"(torch's .detach()), so the terms that reach {case.w} through it belong to no gradient")
