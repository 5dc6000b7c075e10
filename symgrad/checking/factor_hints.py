"""The claim is C = k·T for a constant k, and why: 2 or ½ (a square's), the batch size B, a
dimension N or 1/N (a sum where there is a mean), a dropout's 1 − p or 1/(1 − p), a variance's
N/(N − 1), a constant of f applied twice; or the gradient is 0 and the claim is not."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from ..frontend.masks import masks_in
from .hint_kind import Hint
from .hint_case import Case, _fitted, _variances, all_same, claim_is
from .sign_transpose_hints import _nice, _scale
from .size_words import _dims, _shape_txt, _size_name, _size_words


def factor_hint(case: Case):
    Cs, Ts = _fitted(case)
    k = _scale(Cs, Ts)
    if k is None:
        if all(np.all(c == c) for c in Cs):
            return Hint("the gradient is 0 here, but the claim is not", "f does not depend on it that way.")
        return None
    if all(np.all(c == 0) for c in Cs):
        from .direct_path_hint import forget_gate_zero_hint
        named = forget_gate_zero_hint(case)
        if named is not None:
            return named
        if case.claim_expr is None:           # a NumPy function, not SymPy's diff
            return Hint("the claim is 0 but the gradient is not",
                        "the function returns zeros for "
                        f"∂f/∂{case.w.name} (a gradient initialised with np.zeros_like and never "
                        f"accumulated into?).")
        return Hint.sentence("the claim is 0 but the gradient is not",
                             "the claim is 0 but the gradient is not (SymPy's diff of a matrix expression "
                             "can silently give 0: symgrad differentiates through the expression instead).")
    if not all_same(Cs, Ts, k) or abs(k - 1) < 1e-9 or abs(k) < 1e-12:
        return None
    fr = _nice(k)
    wide = Fraction(k).limit_denominator(100000)      # for the words only: 1/80 reads better than 0.0125
    ks = (str(fr) if fr is not None else _root(k) or
          (str(wide) if abs(float(wide) - k) <= 1e-9 * abs(k) else f"{k:.6g}"))
    sign = "flipped sign and " if k < 0 else ""
    subject, gradient = claim_is(case, k)
    a = abs(k)
    B = case.batch
    from .pool_factor import pool_factor
    why = (_dropout_factor(case.f, a) or _variance_factor(case.f, a)  # first: p = ½ would read as a square's ½
           or pool_factor(case.f, a))
    if why:
        return Hint(f"{sign}constant factor", f"{subject} {ks} times {gradient}{why}.")
    also = (f", or {_size_words(case, B)}: the check cannot tell which (call it with a batch size no "
            f"dimension has, batch=…); if B") if B and B in _dims(case) else ""    # B = 3 for a (5, 3) W1
    if B and abs(a - B) < 1e-9:
        why = (f" — the batch size B = {B}{also}: the examples' gradients were summed where the loss "
               f"averages them (divide by B)")
    elif B and abs(a - 1 / B) < 1e-9:
        why = f" — 1/B for the batch size B = {B}{also}: the batch mean was taken twice"
    elif abs(a - 2) < 1e-9 and _has_square(case.f):
        why = " — the ½ of ½(…)² was dropped, or the 2 from differentiating a square counted twice"
    elif abs(a - 0.5) < 1e-9 and _has_square(case.f):
        why = " — the 2 from differentiating a square (d(u²) = 2u·du) is missing"
    else:
        why = _size_factor(case, a)
        c = _constant_of(case.f, a) if not why else None
        if c is not None:             # checked after the sizes: a mean's 1/N is a number of f too
            cs = f"{_root(c)} = {c:g}" if _nice(c) is None and _root(c) else f"{c:g}"
            why = (f" — the constant {cs} of f (a scale, such as dropout's 1/p or attention's 1/sqrt(d_k)) "
                   f"applied twice, or left out of the gradient")
    return Hint(f"{sign}constant factor", f"{subject} {ks} times {gradient}{why}.")


def _root(k: float) -> str | None:
    """k as the square root of a simple fraction, √2, 1/√2, √(3/2) (attention's sqrt(d_k)); None
    where k² is no simple fraction or k itself is one."""
    sign, k2 = ("−" if k < 0 else ""), k * k
    r = Fraction(k2).limit_denominator(64)
    if r <= 0 or abs(float(r) - k2) > 1e-9 * k2:
        return None
    p, q = r.numerator, r.denominator
    if round(p ** 0.5) ** 2 == p and round(q ** 0.5) ** 2 == q:
        return None
    return sign + (f"√{p}" if q == 1 else f"1/√{q}" if p == 1 else f"√({p}/{q})")


def _dropout_factor(f, a: float) -> str:
    """Why the claim is ``a`` times the gradient when f has a dropout (y ⊙ M, M's kept entries
    1/(1 − p)): the scale 1/(1 − p) left out (a = 1 − p), or applied on top of M's (a = 1/(1 − p))."""
    for m in masks_in(f):
        p = m.p
        if p > 0 and abs(a - (1 - p)) < 1e-9:
            return (f" — 1 − p, for the dropout with p = {p:g}: its scale 1/(1 − p) is missing. The mask M "
                    f"is inverted dropout's, kept entries 1/(1 − p) = {1 / (1 - p):g} (not 1), and "
                    f"∂(y ⊙ M)/∂y = M: multiply by the mask as given, not by its 0/1 pattern")
        if p > 0 and abs(a - 1 / (1 - p)) < 1e-9:
            return (f" — 1/(1 − p), for the dropout with p = {p:g}: the scale is counted twice. The mask M "
                    f"already holds it (kept entries 1/(1 − p) = {1 / (1 - p):g}), and ∂(y ⊙ M)/∂y = M: "
                    f"do not divide by 1 − p again")
        if 0 < p < 1 and abs(a - (1 - p) / p) < 1e-9:
            return (f" — (1 − p)/p, for the dropout with p = {p:g}: the mask's 0/1 pattern divided by p "
                    f"where inverted dropout divides by 1 − p. sg.dropout's p (as torch's F.dropout) is "
                    f"the probability of dropping an entry; the keep probability is 1 − p = {1 - p:g} "
                    f"(cs231n's dropout_param p is the keep probability: declare sg.dropout(x, 1 − p)). "
                    f"The mask M already holds the scale, kept entries 1/(1 − p) = {1 / (1 - p):g}: "
                    f"the backward is dout ⊙ M")
        if 0 < p < 1 and abs(a - 1 / p) < 1e-9:
            return (f" — 1/p, for the dropout with p = {p:g}: the mask divided by p on top of its own "
                    f"scale. M already holds it (kept entries 1/(1 − p) = {1 / (1 - p):g}; p is the "
                    f"probability of dropping): the backward is dout ⊙ M, with no further division")
        if 0 < p < 1 and abs(a - p) < 1e-9:
            return (f" — p, for the dropout with p = {p:g}: the mask multiplied by p (non-inverted "
                    f"dropout's test-time scaling). Inverted dropout scales in training only, through "
                    f"M (kept entries 1/(1 − p) = {1 / (1 - p):g}): the backward is dout ⊙ M")
    return ""


def _variance_factor(f, a: float) -> str:
    """Why the claim is ``a`` times the gradient when f has a variance over n entries: divided by
    n − 1 where f divides by n (a = n/(n − 1), or its square root through a standard deviation), or
    the other way round."""
    for _, n, c in _variances(f):
        if n < 2 or c not in (0, 1):
            continue
        k = n / (n - 1) if c == 0 else (n - 1) / n
        for power, via in ((1, ""), (-1, ""), (0.5, ", through the standard deviation"),
                           (-0.5, ", through the standard deviation")):
            if abs(a - k ** power) < 1e-9:
                ratio = "N/(N − 1)" if (c == 0) == (power > 0) else "(N − 1)/N"
                if abs(power) == 0.5:
                    ratio = f"√({ratio})"
                used, has = (1, 0) if c == 0 else (0, 1)
                how = "unbiased, np.var(ddof=1)" if used else "biased, np.var's default ddof=0"
                return (f" — {ratio} with N = {n}, the entries of f's variance{via}: a variance with "
                        f"correction={used} ({how}, dividing by {'N − 1' if used else 'N'}) where f has "
                        f"correction={has}")
    return ""


def _has_square(f) -> bool:
    """Does f square something (u², HadamardPower(u, 2), u ⊙ u, mse)? Only then is a factor 2 or ½
    read as the ½ of ½(…)² or the 2 of d(u²) = 2u·du."""
    from ..frontend import tensor as T
    for n in sp.preorder_traversal(f):
        if isinstance(n, (sp.Pow, sp.HadamardPower)) and n.args[1] == 2:
            return True
        if isinstance(n, (sp.Mul, sp.HadamardProduct, T.Ewise)) and len(n.args) != len(set(n.args)):
            return True
        if type(n).__name__.lower().startswith(("mse", "squared")):
            return True
        if isinstance(n, sp.MatMul) and _gram(n):   # XᵀX, aᵀXᵀXb: tr(XᵀX) = ‖X‖², a square too
            return True
    return False


def _gram(m) -> bool:
    """Whether the matrix product ``m`` holds a factor next to its own transpose (Xᵀ·X or X·Xᵀ)."""
    mats = [a for a in m.args if isinstance(a, sp.MatrixExpr)]
    return any(b == sp.Transpose(a) or a == sp.Transpose(b) or b == a.T or a == b.T
               for a, b in zip(mats, mats[1:]))


def _constant_of(f, a: float):
    """A number c of f with c = a or 1/c = a (dropout's 1/p = 2 gives a claim ½ or 2 times off).
    Only a factor of a product counts: a convolution's padding = 2, an axis or a shape is no scale."""
    for m in sp.preorder_traversal(f):
        if not isinstance(m, sp.Mul):
            continue
        for n in m.args:
            if isinstance(n, sp.Number) and n not in (0, 1, -1):
                c = abs(float(n))
                if abs(c - a) < 1e-9 * max(a, 1) or abs(1 / c - a) < 1e-9 * max(a, 1):
                    return float(n)
    return None


def _size_factor(case, a: float) -> str:
    """Why the claim is ``a`` times the gradient when ``a`` (or 1/a) is a size of the problem: a sum
    where f has a mean, or a mean where it has a sum — naming the size (N = 5, the size the check
    gave the declared N; else the tensor axis it is: the classes of cross-entropy scores (5, 4))."""
    for n in sorted(_dims(case)):
        if abs(a - n) < 1e-9 and _averages_over(case.f, n):
            return f" — {_size_words(case, n)}: a sum where there is a mean (1/{_size_name(case, n)} missing)"
        if abs(a - 1 / n) < 1e-9:
            return (f" — 1/{_size_name(case, n)} with {_size_words(case, n)}: a mean where there is a sum"
                    + _averaged_by_design(case, n))
    return _dout_entries_factor(case, a)


def _averaged_by_design(case, n: int) -> str:
    """Every parameter gradient of a layer (the wrt arrays without the batch axis) averaged over the
    batch while an input's gradient (an array with the batch axis, n long) is right: 11-785's RNNCell
    and GRUCell backwards divide dW and db by batch_size on purpose. What to compare then, as a
    sentence; "" otherwise (a single dgamma averaged is a slip, not a convention)."""
    from .claims import _shape as shape_of_param, fit_shape
    name = _size_name(case, n)
    if case.outputs is None or name == str(n):
        return ""

    def claims_and_truths(j, p):
        Cs = [fit_shape(np.asarray(c[j], float), shape_of_param(p)) for c in case.claims]
        return Cs, [np.asarray(t[j], float) for t in case.truths]
    right_input, params = None, 0
    for j, p in enumerate(case.params):
        batched = name in [str(d) for d in (case.shapes or {}).get(p.name, ())]
        try:
            Cs, Ts = claims_and_truths(j, p)
        except Exception:   # noqa: BLE001 - a claim that is no array: no convention to tell
            return ""
        if any(c is None for c in Cs):
            return ""
        if batched:
            if right_input is None and all_same(Cs, Ts):
                right_input = p.name
        elif all_same(Cs, Ts, 1 / n):
            params += 1
        else:
            return ""
    if right_input is None or params < 2:
        return ""
    return (f". d{right_input} is right and every parameter's gradient is 1/{name} of its sum, so if your "
            f"course averages the parameters' gradients over the batch on purpose (11-785's RNNCell and "
            f"GRUCell backwards divide dW and db by batch_size), this is that average: check_backward "
            f"compares with the gradients of Σ out ⊙ dout, which sum over the batch — compare "
            f"{name}·d{case.w.name} instead")


def _averages_over(f, n: int) -> bool:
    """Does f divide by n somewhere — a mean or a variance over n entries, or a factor 1/n? Only then
    is a claim n times the gradient "a sum where there is a mean": a conv → relu → pool layer's dx
    doubled is not a mean over its 2 channels left out (f has none)."""
    from ..frontend import tensor as T
    for e in sp.preorder_traversal(f):
        if isinstance(e, (T.Reduce, T.Variance)) and (not isinstance(e, T.Reduce) or e.op == "mean"):
            try:
                if int(np.prod([int(e.x.shape[a]) for a in e.axes])) == n:
                    return True
            except (TypeError, ValueError):
                continue
        elif isinstance(e, sp.Mul) and any(_is_one_over(a, n) for a in e.args) and any(
                _sums_over(r, n) for a in e.args for r in sp.preorder_traversal(a) if isinstance(r, T.Reduce)):
            return True                       # sum(...) / n; attention's (Q @ K.T) / 2 is a scale, no mean
    return False


def _is_one_over(e, n: int) -> bool:
    return ((isinstance(e, sp.Rational) and e.p == 1 and e.q == n)
            or (isinstance(e, sp.Float) and n > 1 and abs(float(e) * n - 1) < 1e-12))


def _sums_over(r, n: int) -> bool:
    """Is the reduction ``r`` a sum over n entries, or over an axis of n (a mean written as sum / n:
    sum(-Y * log_softmax(A)) / N sums over every entry and divides by the batch)?"""
    try:
        sizes = [int(r.x.shape[a]) for a in r.axes]
        return r.op == "sum" and (int(np.prod(sizes)) == n or n in sizes)
    except (TypeError, ValueError):
        return False


def _dout_entries_factor(case, a: float) -> str:
    """``a`` (or 1/a) as the number of dout's entries over several axes: a conv bias's
    dout.mean(axis=(0, 2, 3)) where the sum belongs is 1/(N·Ho·Wo) times the gradient."""
    import re
    from .dout_sum_hints import _summed_to
    ex = case.points[0].example()
    Ts = case.T()
    for d in (n for n in ex if re.fullmatch(r"dout\d*", str(n))):
        shape = np.shape(ex[d])
        axes = _summed_to([np.asarray(p.example()[d], float) for p in case.points], Ts)
        if axes is not None and len(axes) > 1:       # the axes the gradient sums dout over, no others:
            m = int(np.prod([shape[i] for i in axes]))   # F = Ho = 3 would make (0, 1, 2) count 36 too
            sizes = "·".join(str(shape[i]) for i in axes)
            said = f"{m} = {sizes}, the entries of {d} {_shape_txt(shape)} over axes {axes}"
            if abs(a - 1 / m) < 1e-9:
                return f" — 1/{m} with {said}: a mean where there is a sum ({d}.sum(axis={axes}), not .mean)"
    return ""
