"""Fan-out: a path of the influence diagram left out, counted twice, its sign flipped or a factor
slipped on it — C = T + s·(one path's term), the terms read from the reverse-mode record
(fanout_paths.py); a norm layer's path named as the term of its backward."""
from __future__ import annotations

import re

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .factor_hints import _dropout_factor, _has_square, _size_factor
from .fanout_paths import _label, _path, fanout_terms, first_steps_square
from .hint_case import Case, _fitted, _variances, all_same, short_text
from .sign_transpose_hints import _nice


_RESHAPE = re.compile(r"\.reshape\([^()]*\)")


def _unreshaped(text: str, f) -> str:
    """``text`` without the reshapes symgrad adds to a 1-d operand of @ (w of X @ w, lowered as
    X @ w.reshape(3, 1) and back), where f itself has none: the path and term as the user wrote them.
    A path's steps that become the same are told once."""
    if ".reshape(" in str(f) or ".reshape(" not in text:
        return text
    steps = [_RESHAPE.sub("", t) for t in text.split(" → ")]
    return " → ".join(t for i, t in enumerate(steps) if i == 0 or t != steps[i - 1])


def fanout_hint(case: Case):
    from ..core.to_sympy import SympyBuilder
    D = case.derivation
    wv = D.wrt_vars[case.k]
    terms = fanout_terms(D, wv)
    if not terms:
        return None
    Cs, Ts = _fitted(case)
    vals = case.eval_vars(D.ir, [t for _, _, t in terms])
    for j, (v, eqn, term) in enumerate(terms):
        m = [np.broadcast_to(vals[i][j], Ts[i].shape) for i in range(len(Ts))]
        sign = _term_multiple(Cs, Ts, m)
        if sign is None:
            continue
        what = {-1: "leaves out", +1: "counts twice", -2: "flips the sign of"}.get(sign)
        expr = SympyBuilder(D.ir, D.lowering.exprs)(term)
        if what is None:           # the term k times: a factor slipped on that path only
            k = 1 + sign
            fr = _nice(k)
            why = (_dropout_factor(case.f, abs(k)) or _size_factor(case, abs(k))
                   or (" — the 2 from differentiating a square (d(u²) = 2u·du) is missing in it"
                       if abs(k - 0.5) < 1e-9 and _has_square(case.f) else "")
                   or (" — the ½ of ½(…)² dropped there, or the 2 of d(u²) = 2u·du counted twice"
                       if abs(k - 2) < 1e-9 and _has_square(case.f) else ""))
            return Hint("fan-out",
                        f"{_label(D, v)} influences the output along more than one path, and "
                        f"the claim has {fr} times the term of the path "
                        f"{_unreshaped(_path(D, case.w.name, v, eqn), case.f)} "
                        f"(that term is {_unreshaped(short_text(expr, 160), case.f)}){why}; the other paths' "
                        f"terms are right.")
        # softmax loss's dx = (p − onehot(y))/N is written dx = p; dx[range(N), y] -= 1; dx /= N
        hinge = "Heaviside" in str(expr) and case.f.has(sp.Max)
        why = (" — in softmax loss's backward, the 1 at each example's label is subtracted: "
               "dx[np.arange(N), y] -= 1, not += 1" if sign == -2 and "one_hot" in str(expr)
               and not hinge else "")
        if hinge and "one_hot" in str(expr):      # cs231n's svm_loss: the correct class's column
            why = (" — in the SVM loss's backward, the correct class's score is in every margin of "
                   "its row: dx[np.arange(N), y] -= (margins > 0).sum(axis=1)"
                   + (", not +=" if sign == -2 else ""))
        if not why and _variances(case.f):
            why = _norm_term(case, D, eqn)
        # the cs231n sentence says what to write; the term's SymPy text (Heaviside, one_hot, 300
        # characters for the SVM's) only where there is no such sentence
        term = "" if why else f" (that term is {_unreshaped(short_text(expr, 160), case.f)})"
        return Hint("fan-out",
                    f"{_label(D, v)} influences the output along more than one path, and "
                    f"the claim {what} the term of the path {_unreshaped(_path(D, case.w.name, v, eqn), case.f)}"
                    f"{term}{why}; the "
                    f"derivative sums over all paths of the influence diagram.")
    return _one_path_doubled(case, D, terms, vals, Cs, Ts)


def _one_path_doubled(case, D, terms, vals, Cs, Ts):
    """A value with two paths to the output whose claim is twice one path's term: the two terms
    merged as if equal (∂ aᵀXᵀXb/∂X written 2Xabᵀ for X(abᵀ + baᵀ)), where they differ."""
    from ..core.to_sympy import SympyBuilder
    by_value: dict = {}
    for j, (v, eqn, term) in enumerate(terms):
        by_value.setdefault(v.id, []).append(j)
    for js in by_value.values():
        if len(js) != 2:
            continue
        for j, other in (js, js[::-1]):
            m = [np.broadcast_to(vals[i][j], Ts[i].shape) for i in range(len(Ts))]
            o = [np.broadcast_to(vals[i][other], Ts[i].shape) for i in range(len(Ts))]
            if all_same(m, o) or not all_same(Cs, m, 2.0):
                continue
            from .symmetric_hint import symmetric_hint
            symmetric = symmetric_hint(case)      # 2Ax for (A + Aᵀ)x: the matrix's symmetry says more
            if symmetric:
                return symmetric
            v, eqn, term = terms[j]
            build = SympyBuilder(D.ir, D.lowering.exprs)
            said = lambda t: _unreshaped(short_text(build(t), 160), case.f)   # noqa: E731
            return Hint("fan-out",
                        f"{_label(D, v)} influences the output along two paths, and the claim is twice the "
                        f"term of the path {_unreshaped(_path(D, case.w.name, v, eqn), case.f)} (that term is "
                        f"{said(term)}), as if the other path's term were the same; it is {said(terms[other][2])}, "
                        f"which differs: the derivative sums the two.")
    return None


def _norm_term(case, D, eqn) -> str:
    """Which term of a norm layer's dx = (dxhat − mean(dxhat) − x̂ ⊙ mean(dxhat ⊙ x̂)) / std a
    fan-out path is, in the backward's words, read off the consumer where the path leaves the value
    that fans out: a square (the variance's sum of squares) or a sum over the axis (the mean).
    Anything else is no sentence: the path's term is printed instead. (It read the path's text,
    whose labels are cut at 40 characters: a group norm's square was cut off and read as the mean.)"""
    axes = _variances(case.f)[0][0].axes
    ax = axes[0] if len(axes) == 1 else axes
    full = (f"dx = (dxhat - dxhat.mean(axis={ax}, keepdims=True) - xhat * (dxhat * xhat).mean(axis={ax}, "
            f"keepdims=True)) / std")
    if first_steps_square(D, eqn, 3):
        return f" — in the norm layer's backward, the variance's term - xhat * (dxhat * xhat).mean(...) of {full}"
    if eqn.prim.name == "rsum":                    # the mean, lowered to a sum over the axis
        return f" — in the norm layer's backward, the mean's term - dxhat.mean(...) of {full}"
    return ""


def _term_multiple(Cs, Ts, ms):
    """The number s with C = T + s·m at every point, when there is one and it is a simple fraction
    (−1: the term left out, +1: counted twice, −2: its sign flipped, −½: half of it, N − 1: N times
    it); None otherwise. s is fitted by least squares, then every entry is checked against it."""
    num = sum(float(np.sum((c - t) * m)) for c, t, m in zip(Cs, Ts, ms))
    den = sum(float(np.sum(m * m)) for m in ms)
    if den == 0 or not np.isfinite(num / den) or abs(num / den) < 1e-9:
        return None
    fr = _nice(num / den)
    if fr is None or fr.denominator > 16 or abs(fr) > 64:
        return None
    s = float(fr)
    return (int(s) if s == int(s) else s) if all_same(Cs, [t + s * m for t, m in zip(Ts, ms)]) else None
