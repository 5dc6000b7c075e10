"""Name a scalar formula's derivative taken with a calculus rule misapplied — the first-year slips
a d2l exercise or an optimisation course's homework shows:

    power rule on a variable exponent   d(xˣ)/dx claimed as x·xˣ⁻¹          (the exponent held constant)
    power rule on an exponential        d(2ˣ)/dx claimed as x·2ˣ⁻¹          (for 2ˣ·log 2)
    product rule as a product           d(x²·sin x)/dx claimed as 2x·cos x  ((uv)′ = u′v′ for u′v + uv′)

Why: the lowering writes xˣ as one elementwise power of x, so no fan-out path is left out in the
graph (the fan-out hint names sin(x)ˣ's, not xˣ's), and 2ˣ and the product have no path missing at
all: without these, no hint fitted.

How: each candidate is f with one node P replaced by a node of P's value whose derivative is the
slip's (`stop_gradient` keeps the value): stop(P) + stop(e·b^(e−1))·(b − stop(b)) for the exponent
held constant, the same with (e − stop(e)) for the power rule read off an exponential, and
stop(P) + stop(u′)·(v − stop(v)) for a product u·v. The claim is that candidate's gradient at every
point (`_claim_is_gradient_of`). Formulas of scalar Symbols only.
"""
from __future__ import annotations

import sympy as sp

from .hint_case import Case, _claim_is_gradient_of, _fitted, differs
from .hint_kind import Hint

_MOST_NODES = 12        # candidates tried per rule: a formula's powers and products are few


def calculus_rule_hint(case: Case):
    from ..frontend.stop_gradient import stop_gradient as stop
    f, w = case.f, case.w
    if not isinstance(w, sp.Symbol) or not isinstance(f, sp.Expr) or f.is_Matrix or case.claim_expr is None:
        return None
    if any(len(p.examples) != 1 for p in case.points) or not differs(*_fitted(case)):
        return None
    nodes = list(dict.fromkeys(sp.preorder_traversal(f)))

    def fits(node, slipped_node):
        return _claim_is_gradient_of(case, f.xreplace({node: slipped_node}))

    for P in [n for n in nodes if isinstance(n, sp.Pow) and n.exp.has(w)][:_MOST_NODES]:
        b, e = P.base, P.exp
        if b.has(w) and fits(P, stop(P) + stop(e * b ** (e - 1)) * (b - stop(b))):
            return Hint("power rule on a variable exponent",
                        f"the claim differentiates {P} by the power rule, n·uⁿ⁻¹·du, as if its exponent {e} were "
                        f"a constant; it depends on {w} too: d(uᵛ) = uᵛ·(v·du/u + log(u)·dv) — the term "
                        f"{P * sp.log(b) * sp.diff(e, w)} is missing.")
        if not b.has(w) and fits(P, stop(P) + stop(e * b ** (e - 1)) * (e - stop(e))):
            return Hint("power rule on an exponential",
                        f"the claim differentiates {P} by the power rule (n·bⁿ⁻¹), but there the variable is "
                        f"the exponent: d(bᵛ) = bᵛ·log(b)·dv, so ∂({P})/∂{w} = {sp.diff(P, w)}.")
    for M in [n for n in nodes if isinstance(n, sp.Mul)][:_MOST_NODES]:
        parts = [a for a in M.args if a.has(w)]
        if len(parts) != 2:
            continue
        u, v = parts
        rest = M / (u * v)
        if fits(M, stop(M) + stop(rest * sp.diff(u, w)) * (v - stop(v))):
            return Hint("product rule as a product",
                        f"the claim multiplies the factors' derivatives, ({u}·{v})′ = ({u})′·({v})′; the product "
                        f"rule adds two terms, (uv)′ = u′·v + u·v′: ∂/∂{w} of {M} is "
                        f"{sp.diff(M, w)}.")
    return None


__all__ = ["calculus_rule_hint"]
