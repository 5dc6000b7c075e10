"""Name a claim that is wrong on one side of a kink only — one branch's slope written wrong (a leaky
relu's 0.01 as 0.1, a Piecewise's branch derived wrong) — or that has the two sides' slopes swapped
(relu's derivative written (x < 0) for (x > 0)).

Why: such a claim is right wherever the kink argument u has one sign and wrong where it has the
other. The fan-out recogniser read the difference as "a path counted 10 times" (the branch's term
is the path through the Piecewise), which sent students hunting for a second path that f does not
have. The slip is in a branch, and the hint should say which one and what slope it has.

How: for each kink site of f (`sampling.KinkSites`: relu, leaky_relu, |u|, Max, Min, Piecewise and
where conditions) whose argument u has one entry — a formula's kink — or one entry per entry of the
variable w, read elementwise from w itself (leaky_relu(x), where(x > 0, …) checked for x), the
gradient's entries are sorted by the sign of their u at the check's points. The hint fits when
every entry is right on one side and some entry is wrong on the other (that branch's slope), or
when the claim is a constant on each side and those are the truth's constants the other way round
(the branches swapped). Points of one example only: a per-example batch averages entries of both
sides into one gradient.

>>> import sympy as sp, symgrad as sg
>>> x = sp.Symbol("x", real=True)
>>> f = sp.Piecewise((x, x > 0), (x / 100, True))
>>> print(sg.check(f, x, sp.Piecewise((1, x > 0), (sp.Rational(1, 10), True))).hint)  # doctest: +ELLIPSIS
branch slope: where x < 0 the claim's ∂f/∂x is 0.1 where the truth is 0.01 ...
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .claims import rel_errors
from .hint_case import TOL, Case, _fitted, differs
from .hint_kind import Hint

_WHAT = {"Piecewise": "a Piecewise", "relu": "relu", "leaky_relu": "leaky_relu", "Abs": "|·|",
         "Max": "Max", "Min": "Min", "sign": "sign", "Heaviside": "Heaviside"}


def branch_slope_hint(case: Case):
    from .sampling import KinkSites
    if any(len(p.examples) != 1 for p in case.points):
        return None
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    D = case.derivation
    kinks = KinkSites(D.ir, [D.output])
    if not kinks.sites:
        return None
    site_values = [kinks.values(p.example(0)) for p in case.points]
    leaf = _leaf_var(D, case.w)
    for k, site in enumerate(kinks.sites):
        sides = _sides(site, [v[k] for v in site_values], Cs, leaf)
        if sides is None:
            continue
        c, t, s = (np.concatenate([np.ravel(a) for a in col]) for col in (Cs, Ts, sides))
        if np.any(s == 0):
            continue
        msg = _one_side(D, case, site, c, t, s) or _swapped(D, case, site, c, t, s)
        if msg:
            return msg
    return _one_region(D, case, kinks.sites, site_values, Cs, Ts)


def _one_region(D, case, sites, site_values, Cs, Ts):
    """A formula's claim wrong only where several kink arguments have one combination of signs — a
    Huber loss's outer branch derived as 1 where sign(r) belongs is wrong where r < 0 and |r| − 1 > 0
    only, which no one kink's sides tell apart: the points grouped by the signs of every one-entry
    kink argument, the hint when the wrong points are exactly those of one group, the claim there a
    constant or a constant multiple of the truth."""
    scalar = [k for k in range(len(sites)) if all(np.asarray(v[k]).size == 1 for v in site_values)]
    if len(scalar) < 2 or any(c.size != 1 for c in Cs):
        return None
    signs = [tuple(int(np.sign(float(np.asarray(v[k]).ravel()[0]))) for k in scalar) for v in site_values]
    if any(0 in g for g in signs):
        return None
    c, t = np.array([float(np.ravel(a)[0]) for a in Cs]), np.array([float(np.ravel(a)[0]) for a in Ts])
    bad = _wrong(c, t)
    groups = {signs[i] for i in range(len(signs)) if bad[i]}
    if len(groups) != 1 or bad.all():
        return None
    (group,) = groups
    here = np.array([g == group for g in signs])
    if not np.array_equal(here, bad):
        return None
    ch, th = c[here], t[here]
    k = ch / np.where(th == 0, np.nan, th)
    name = f"∂f/∂{case.w}"
    if _constant(ch) and _constant(th):
        said = f"the claim's {name} is {_num(ch[0])} where the truth is {_num(th[0])}"
    elif np.all(np.isfinite(k)) and _constant(k) and _magnitudes(th) >= 2:
        said = f"the claim's {name} is {_num(k[0])} times the truth"
    else:
        return None
    why = ("— that branch's sign is flipped (d|u|/du = sign(u): a slope of |u| is −1 where u < 0)"
           if np.all(np.isfinite(k)) and _constant(k) and _close(k[0], -1) else "— that branch's slope is written wrong")
    where = " and ".join(dict.fromkeys(_side_words(D, sites[j], side) for j, side in zip(scalar, group)))
    return Hint("branch slope", f"where {where} {said} {why}; everywhere else it is right. Derive that branch "
                                f"again for that side: its own expression, its own slope.")


def _sides(site, us, Cs, leaf):
    """Per point, the sign of u for each entry of the gradient there; None where the site's entries
    do not say which side an entry of the gradient is on."""
    eqn = site[0]
    out = []
    for u, c in zip(us, Cs):
        u = np.asarray(u, float).ravel()
        if u.size == 1:
            out.append(np.full(c.shape, np.sign(u[0])))
        elif leaf is not None and u.size == c.size and any(v.id == leaf for v in eqn.inputs) \
                and all(tuple(v.shape) == tuple(eqn.out.shape) for v in eqn.inputs if v.id == leaf):
            out.append(np.sign(u).reshape(c.shape))
        else:
            return None
    return out


def _leaf_var(D, w):
    """The id of w's leaf variable in D's graph (a param or input equation whose symbol is w)."""
    from ..core import rules as R
    for e in D.ir.eqns:
        if (e.prim is R.param_p or e.prim is R.input_p) and e.params and e.params[0] == w:
            return e.out.id
    return None


def _wrong(c, t):
    return rel_errors(c, t) > TOL


def _argument(D, site):
    """(u in f's terms, entrywise): the kink argument of ``site`` as SymPy builds it from f's values,
    its sign flipped where it reads as a negation (Max(x, 0)'s 0 − x is said as x, its sides turned)."""
    from ..core import rules as R
    from ..core.to_sympy import SympyBuilder
    eqn, _, u, _ = site
    try:
        build = SympyBuilder(D.ir, getattr(D.lowering, "exprs", None))
        e = u.xreplace(dict(zip(R.placeholders(len(eqn.inputs)), [build(v) for v in eqn.inputs])))
    except Exception:  # noqa: BLE001 - the words are a courtesy; the side is reported regardless
        return None, 1
    if isinstance(e, sp.Expr) and e.could_extract_minus_sign():
        return -e, -1
    return e, 1


def _side_words(D, site, side):
    u, turn = _argument(D, site)
    entrywise = any(tuple(v.shape) for v in site[0].inputs)
    u = "the kink argument" if u is None else str(u)
    return f"{u} {'>' if side * turn > 0 else '<'} 0" + (" (entrywise)" if entrywise else "")


def _kink_words(site):
    return f"the kink of {_WHAT.get(site[3], site[3])}"


def _one_side(D, case, site, c, t, s):
    """The hint when every entry on one side of the kink is right and some on the other are not, and
    the wrong side's claim is a constant or a constant multiple of the truth (a slope); else None."""
    bad = _wrong(c, t)
    for side in (1, -1):
        here, there = s == side, s == -side
        if not (bad[here].any() and there.any() and not bad[there].any()):
            continue
        name = f"∂f/∂{case.w}"
        where = _side_words(D, site, side)
        other = _side_words(D, site, -side)
        ch, th = c[here], t[here]
        if site[3] == "relu" and not np.any(th):
            return None         # relu's dead side: relu's own recognisers (relu_hint, relu_output_hint) name it
        k = ch / np.where(th == 0, np.nan, th)
        ratio = bool(np.all(np.isfinite(k)) and _constant(k) and _magnitudes(th) >= 2)
        if _constant(ch) and _constant(th):
            said = f"the claim's {name} is {_num(ch[0])} where the truth is {_num(th[0])}"
        elif ratio:
            said = f"the claim's {name} is {_num(k[0])} times the truth"
        else:
            return None     # not a slope's slip: another recogniser's, or none
        if len(t[there]) > 1 and _constant(t[there]) and _constant(ch) and _close(ch[0], t[there][0]):
            why = f"— the slope of the other branch ({other}) carried over"
        elif ratio and _close(k[0], -1):
            why = "— that branch's sign is flipped"
        elif not _constant(ch):
            why = "— that branch's derivative is off by that factor"
        else:
            why = "— that branch's slope is written wrong"
        return Hint("branch slope", f"where {where} {said} {why}; where {other} it is right ({_kink_words(site)} "
                                    f"separates the two). Derive that branch again: its own expression, its own slope.")
    return None


def _swapped(D, case, site, c, t, s):
    """The hint when claim and truth are constants on each side, the claim's the truth's the other
    way round (relu′ written H(−x)); else None."""
    pos, neg = s > 0, s < 0
    if not (pos.any() and neg.any()):
        return None
    if not all(_constant(a) for a in (c[pos], c[neg], t[pos], t[neg])):
        return None
    if _close(t[pos][0], t[neg][0]):
        return None
    if _close(c[pos][0], t[neg][0]) and _close(c[neg][0], t[pos][0]):
        return Hint("branch slopes swapped",
                    f"the claim's ∂f/∂{case.w} is {_num(c[pos][0])} where {_side_words(D, site, 1)} and "
                    f"{_num(c[neg][0])} where {_side_words(D, site, -1)}: the truth's slopes the other way "
                    f"round — the branches' conditions are swapped (> for <) at {_kink_words(site)}.")
    return None


def _magnitudes(a) -> int:
    """How many distinct |values| a holds: a ratio read off ±v alone (a point and its mirror, which
    the search for a kink's other side makes) is no constant factor — r for sign(r) reads |r| twice."""
    return len({round(abs(float(v)), 9) for v in np.ravel(a)})


def _constant(a) -> bool:
    a = np.asarray(a, float)
    return a.size > 0 and bool(np.all(rel_errors(a, np.full(a.shape, a.flat[0])) <= TOL))


def _close(a, b) -> bool:
    return bool(rel_errors(np.asarray([a], float), np.asarray([b], float))[0] <= TOL)


def _num(v) -> str:
    return f"{float(v):.4g}"


def leaky_slope_hint(case: Case):
    """A leaky relu's slope written wrong in a backward whose variable is not the relu's own input
    (cs231n's affine → leaky relu layer: dz = np.where(z > 0, dout, 0.1 * dout) feeds dx, dw, db).
    Each leaky_relu(u, a) of f is replaced by one with the derivative of slope a + 1 and the value of
    the original, leaky_relu(u, a + 1) + stop_gradient(leaky_relu(u, a) − leaky_relu(u, a + 1)):
    the gradient is affine in the slope, so the claim is the gradient with slope a + α exactly when
    C − T = α·(T₁ − T) at every point (T₁ the gradient at slope a + 1)."""
    from ..frontend.activations import leaky_relu
    from ..frontend.stop_gradient import stop_gradient
    from .hint_case import gradient_graph
    nodes = list(dict.fromkeys(n for n in sp.preorder_traversal(case.f) if isinstance(n, leaky_relu)))
    if not nodes or len(nodes) > 4:
        return None
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    for node in nodes:
        u, a = node.args
        moved = leaky_relu(u, a + 1) + stop_gradient(node - leaky_relu(u, a + 1))
        graph, g = gradient_graph(case.f.xreplace({node: moved}), case.params, case.k, case.derivation.ir.policy)
        if g is None:
            continue
        Gs = [np.asarray(v[0], float).reshape(t.shape) - t for v, t in zip(case.eval_vars(graph, [g]), Ts)]
        gg = sum(float(np.sum(G * G)) for G in Gs)
        if gg == 0:
            continue
        alpha = sum(float(np.sum((c - t) * G)) for c, t, G in zip(Cs, Ts, Gs)) / gg
        if abs(alpha) < 1e-9 or not all(np.all(rel_errors(c, t + alpha * G) <= TOL) for c, t, G in zip(Cs, Ts, Gs)):
            continue
        said, u = _num(float(a) + alpha), _arg_words(u)
        return Hint("branch slope", f"the claim for {case.w} is the gradient with leaky_relu's negative slope "
                                    f"{said} where f's is {_num(a)}: its derivative is {_num(a)} where {u} < 0 "
                                    f"(and 1 where {u} > 0) — the backward's slope is written wrong.")
    return None


def swapped_mask_hint(case: Case):
    """relu's (or a leaky relu's) mask with its sides swapped in a backward — dout * (x < 0) for
    dout * (x > 0), np.where(x < 0, dout, 0.01 * dout) — wherever the relu stands: f derived again
    with each relu(u) replaced by a node of its value whose derivative is the other side's,
    stop(relu(u)) + H(−u)·(u − stop(u)) (a + (1 − a)·H(−u) for a leaky relu of slope a)."""
    from ..frontend.activations import leaky_relu, relu
    from ..frontend.stop_gradient import stop_gradient as stop
    from .hint_case import _claim_is_gradient_of
    nodes = list(dict.fromkeys(n for n in sp.preorder_traversal(case.f) if isinstance(n, (relu, leaky_relu))))
    if not nodes or len(nodes) > 4 or not differs(*_fitted(case)):
        return None
    for node in nodes:
        u = node.args[0]
        a = node.args[1] if isinstance(node, leaky_relu) else sp.S.Zero
        swapped = stop(node) + (a + (1 - a) * sp.Heaviside(-u)) * (u - stop(u))
        if _claim_is_gradient_of(case, case.f.xreplace({node: swapped})):
            name, u = type(node).__name__, _arg_words(u)
            return Hint("branch slopes swapped",
                        f"the claim for {case.w} is the gradient with {name}'s mask the other way round: its "
                        f"derivative is 1 where {u} > 0 and {_num(a)} where {u} < 0, and the claim uses {_num(a)} on "
                        f"the positive side and 1 on the negative — the mask's comparison is reversed (> 0 where "
                        f"< 0 is written: dout * (z > 0), not dout * (z < 0)).")
    return None


def _arg_words(u) -> str:
    """A relu's argument as the hint says it: "its argument" for the bound variable of an
    elementwise map over a matrix (relu.(W*x)'s _d), else the expression."""
    return "its argument" if any(isinstance(s, sp.Dummy) for s in getattr(u, "free_symbols", ())) else str(u)


__all__ = ["branch_slope_hint", "leaky_slope_hint", "swapped_mask_hint"]
