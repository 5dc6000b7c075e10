"""A wrong term that float64 cannot see: with f = (x+1)¹⁰⁰(y+2)¹⁰⁰(z+3)¹⁰⁰ the gradient is about
10⁹⁷ at a drawn point, and the claims ∂f/∂x + 1 and ∂f/∂x + (x+1)⁹⁰ round to the same float64 as
∂f/∂x: both were judged "equal" (symbolic: undecided). When simplification cannot decide a scalar
claim, `hidden_difference` computes claim − gradient at the drawn points beyond float64: in exact
rational arithmetic when both are rational there (the floats drawn are exact binary fractions), else
with mpmath at two precisions, a difference counting only when the two agree on it (round-off shrinks
as the precision grows; a real difference stays). A claim or gradient with a float constant (0.1) is
left to float64: the constant's own rounding would be such a difference.

>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> g = 100 * (x + 1) ** 99
>>> hidden_difference(g + 1, g, {"x": 2.5})[0]
mpf('1.0')
>>> hidden_difference(sp.sin(x) ** 2, 1 - sp.cos(x) ** 2, {"x": 2.5}) is None
True
"""
from __future__ import annotations

import sympy as sp

from .time_bound import OutOfTime, at_most

DIGITS = (400, 800)     # mpmath's working digits, the second to confirm the first
SECONDS = 2.0           # for one claim at one point


def scalar_expr(e) -> bool:
    """An expression over scalar symbols only (no matrix, tensor or callable)."""
    return (isinstance(e, sp.Expr) and not isinstance(e, sp.MatrixExpr)
            and all(type(s) is sp.Symbol or isinstance(s, sp.Dummy) for s in e.free_symbols)
            and not e.atoms(sp.MatrixSymbol))


def hidden_difference(claim, truth, values: dict):
    """(claim − truth, the truth, "exactly" or "at N digits") at ``values`` (floats by name) when they
    differ there, computed beyond float64; None when they do not, or when it cannot be told (a
    function mpmath lacks, time up)."""
    claim, truth = sp.sympify(claim), sp.sympify(truth)
    if not (scalar_expr(claim) and scalar_expr(truth)):
        return None
    if claim.atoms(sp.Float) or truth.atoms(sp.Float):
        # 0.1 is 0.1000000000000000055…: a difference of that size is the constant's rounding, which
        # cannot be told from a hidden term
        return None
    syms = sorted(claim.free_symbols | truth.free_symbols, key=lambda s: s.name)
    try:
        exact = {s: sp.Rational(float(values[s.name])) for s in syms}
    except (KeyError, TypeError, ValueError):
        return None
    try:
        with at_most(SECONDS):
            found = _exact(claim, truth, exact)
            if found is False:           # equal here, exactly
                return None
            return found or _precise(claim, truth, syms, values)
    except OutOfTime:
        return None
    except Exception:  # noqa: BLE001 - a node neither way evaluates: float64's answer stands
        return None


def _exact(claim, truth, exact):
    """As `hidden_difference`, in rational arithmetic; False when claim and truth are equal there,
    None when either is not rational there."""
    import mpmath
    c, t = claim.xreplace(exact), truth.xreplace(exact)
    if not (c.is_Rational and t.is_Rational):
        return None
    if c == t:
        return False
    with mpmath.workdps(30):
        return _mp(c - t), _mp(t), "exactly"


def _mp(r):
    import mpmath
    r = sp.Rational(r)
    return mpmath.mpf(r.p) / r.q


def _precise(claim, truth, syms, values):
    import mpmath
    fc = sp.lambdify(syms, claim, modules="mpmath")
    ft = sp.lambdify(syms, truth, modules="mpmath")
    found = []
    for dps in DIGITS:
        with mpmath.workdps(dps):
            args = [mpmath.mpf(float(values[s.name])) for s in syms]
            c, t = mpmath.mpmathify(fc(*args)), mpmath.mpmathify(ft(*args))
            found.append((c - t, t, max(abs(c), abs(t))))
    (d1, _, m1), (d2, t2, m2) = found
    if m2 == 0 or not mpmath.isfinite(d2) or d2 == 0:
        return None
    # a real difference: the same at both precisions, and far above the first one's round-off
    if abs(d1 - d2) <= abs(d2) * mpmath.mpf(10) ** -6 and abs(d2) > m2 * mpmath.mpf(10) ** -(DIGITS[0] // 2):
        return d2, t2, f"at {DIGITS[1]} digits"
    return None
