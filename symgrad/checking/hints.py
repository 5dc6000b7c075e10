"""Name the slip behind a wrong gradient.

Each recogniser takes the claim C and symgrad's gradient T (NumPy values at the same random points)
and asks whether C is T transformed by one usual slip; the first that fits (to 1e-6, at every point)
gives the hint. In order:

    shape       C cannot have ∂f/∂w's shape: Cᵀ = T (transpose), C's per-example rows average or sum
                to T (missing sum over the batch), C summed over an axis is T; else both shapes
    sign        C = −T
    transpose   C = Tᵀ for a square w (T not symmetric)
    factor      C = k·T for a constant k: 2, ½, the batch size B, a dimension N or 1/N, 1 − p or
                1/(1 − p) for a dropout's p (its mask's scale left out or counted twice), N/(N − 1)
                for a variance over N entries (divided by N − 1 where f divides by N), ...
    dout        C is T with the upstream gradient dout taken as 1 (check_backward's dout left out)
    fan-out     C = T − (one path's term): a path of the influence diagram left out (named), or one
                counted twice (C = T + term). The terms come from the reverse-mode record: every
                value that fans out received one contribution per consumer (`Derivation.raw_steps`),
                and each contribution, pushed back to w, is one path's share of ∂f/∂w; C = T − 2·term
                is that term with its sign flipped (softmax loss's dx[:, y] += 1 for -= 1)
    variance    C is the gradient of f with each variance's correction flipped (ddof 1 for 0, or 0 for 1)
    σ'          C is what the chain rule gives with σ'(z) left out or written as σ(z), 1 − σ(z),
                z(1 − z), σ(z)², σ(z)(1 + σ(z))
    relu'       C is what it gives with relu'(z) = 1: the gradient passed through relu unmasked
    relu out    C is the gradient with dout taken as relu's output (x * (x > 0) returned for dx)
    norm dx     a norm layer's dx divided by var + eps for its std, or without dxhat's N
                (norm_dx_hints.py; tried before fan-out, which would name the second as a path's 1/N)
    softmax     C is what it gives with the softmax Jacobian cut to its diagonal, s ⊙ (1 − s)
    targets     C is right once the target of a softmax cross-entropy is a distribution (sums to 1),
                when the check drew it freely (targets="free"), or once it is one-hot
    first step  otherwise: the first step of the derivation (from the output down) whose value no
                subexpression of the claim reproduces, when the claim reproduces an earlier one

Layer slips have their own modules (each says what it decides and how): layer_hints.py,
norm_dx_hints.py (also a wrong count in dx), eps_path_hint.py (ε left out on some paths),
channel_hints.py (spatial batch norm's x.reshape(-1, C)), dout_sum_hints.py (dout summed over the
wrong axes then indexed; one time step only), shared_param_hints.py (some uses of a shared
parameter), recurrent_hints.py (an RNN's dWh from the state one step late, a loop that stops before
t = 0), activation_hints.py (one σ′ or tanh′ of several written wrong), gate_order_hint.py (an
LSTM's gates' gradients in another order), pool_route_hint.py
(max pool's δ to another window entry), operand_hints.py, conv_hints.py, margin_hints.py,
softmax_axis_hint.py, ce_softmax_slips.py (s(1 − s) − Y, A − Y or log s − Y
for s − Y), upsample_hints.py (an
upsampling's backward reading the wrong entries), nearest_upsample_hint.py (a nearest upsampling's
backward reading one entry of each block), stride_missing_hint.py (a strided convolution's
backward without the stride, too narrow); `find_hint` below gives the order they are tried in.

>>> import numpy as np
>>> same(np.array([[1., 2.]]), -np.array([[1., 2.]]), -1)
True
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from .claims import shape_text, _eval_claim, _shape, _symbols, fit_shape
from ..frontend.functions import LogSoftmax, Map, Softmax, relu, sigmoid
from ..frontend.masks import masks_in
from .hint_case import Case, _claim_is_gradient_of, _fitted, _variances, all_same, same  # noqa: F401
from .fanout_paths import _label, _path, _users, fanout_terms, first_steps_square  # noqa: F401 - their own module, below hints



def _shape_txt(s) -> str:
    return "a scalar" if tuple(s) == () else shape_text(s)


def find_hint(case: Case) -> str | None:
    """The first recogniser that fits, as a sentence; None when no usual slip explains the claim."""
    from .conv_hints import conv_hint         # convolution and pooling slips (their own module)
    from .activation_hints import one_activation_hint
    from .channel_hints import channels_reshape_hint
    from .dout_spread_hint import dout_spread_hint
    from .dout_sum_hints import dout_wrong_axes_hint, one_step_hint
    from .gate_order_hint import gate_order_hint
    from .gate_factor_hints import gate_factor_hint
    from .gelu_hint import gelu_hint
    from .eps_path_hint import eps_path_hint
    from .norm_power_hint import norm_power_hint
    from .layer_hints import (epsilon_hint, factor_left_out_hint, factor_left_out_on_a_path_hint,
                              norm_axes_hint, other_gradient_hint, permuted_hint)
    from .margin_hints import svm_correct_class_hint
    from .norm_dx_hints import n_left_out_hint, var_for_std_hint, wrong_count_hint
    from .operand_hints import (operand_hint, relu_mask_hint, relu_output_hint, square_factor_everywhere_hint,
                                 tanh_operand_hint)
    from .pool_route_hint import pool_route_hint
    from .recurrent_hints import late_state_hint, loop_early_hint
    from .recurrent_loop_hints import first_state_hint, skipped_last_step_hint
    from .shared_param_hints import some_uses_hint
    from .softmax_axis_hint import softmax_axis_hint
    from .upsample_hints import upsample_backward_hint
    from .nearest_upsample_hint import nearest_upsample_hint
    from .ce_softmax_slips import ce_softmax_slip_hint
    from .softmax_jacobian_hints import softmax_jacobian_hint
    for h in (shape_hint, sign_hint, transpose_hint, factor_hint, other_gradient_hint, conv_hint,
              nearest_upsample_hint,      # before one_example_hint, which reads a block's first entry as dout[0]
              dout_hint, factor_left_out_hint, norm_axes_hint, channels_reshape_hint, one_example_hint,
              dout_wrong_axes_hint, one_step_hint, dout_spread_hint, assignment_hint, upstream_hint, svm_correct_class_hint,
              var_for_std_hint, n_left_out_hint, wrong_count_hint, loop_early_hint, skipped_last_step_hint, fanout_hint,
              some_uses_hint,
              factor_left_out_on_a_path_hint,
              statistics_hint, variance_hint, sigmoid_hint, tanh_hint, gelu_hint, tanh_operand_hint,
              one_activation_hint, gate_order_hint, relu_hint, relu_mask_hint, relu_output_hint, softmax_hint,
              tensor_softmax_hint, softmax_jacobian_hint, softmax_axis_hint, ce_softmax_slip_hint, target_hint, epsilon_hint, eps_path_hint, norm_power_hint,
              pool_route_hint, upsample_backward_hint, permuted_hint, operand_hint, square_factor_everywhere_hint,
              late_state_hint, first_state_hint, gate_factor_hint, first_step_hint):
        try:
            msg = h(case)
        except Exception:   # noqa: BLE001 - a recogniser that cannot run simply does not fit
            msg = None
        if msg:
            return msg
    return None


# ---------------------------------------------------------------------------------------------------


def shape_hint(case: Case):
    w, shape = case.w, _shape(case.w)
    Cs, Ts = case.C(), case.T()
    if all(fit_shape(c, shape) is not None for c in Cs):
        return None
    cs = Cs[0].shape
    want = f"∂f/∂{w.name} must have {w.name}'s shape {_shape_txt(shape)}"
    if len(shape) == 2 and cs == shape[::-1] and all(c.shape == cs for c in Cs):
        also = _relation([c.T for c in Cs], Ts)
        if also is not None:
            return (f"transpose{also}: the claim is the transpose of the gradient{also}; {want}, the "
                    f"claim has {_shape_txt(cs)} (write it transposed: for z = W·y, ∂f/∂W = δ·yᵀ, "
                    f"not y·δᵀ).")
    B = case.batch
    if B and cs and cs[0] == B:
        for how, red in (("mean", lambda c: c.mean(axis=0)), ("sum", lambda c: c.sum(axis=0))):
            red_c = [fit_shape(red(c), shape) for c in Cs]
            if all(r is not None for r in red_c) and all_same(red_c, Ts):
                return (f"missing sum over the batch: the claim has one row per example, shape "
                        f"{_shape_txt(cs)}, but {want}; the gradient of the batch loss sums the "
                        f"examples' contributions (here their {how} over axis 0 is right).")
    # db = dout.sum(axis=0, keepdims=True): the right numbers with an extra axis of length 1. Tried
    # before the sums below, which would read the (1, 5) claim's "sum over axis 0" as a missing sum.
    if cs != tuple(shape) and all(c.shape == cs for c in Cs) and [d for d in cs if d != 1] == \
            [d for d in shape if d != 1] and all_same([c.reshape(shape) for c in Cs], Ts):
        if len(cs) < len(shape):            # cs231n's gamma (1, C, 1, 1): the sum's keepdims left out
            return (f"axes of length 1 dropped: the claim has the right values but shape "
                    f"{_shape_txt(cs)}, and {want} (a sum without keepdims=True where the parameter "
                    f"keeps them: write .sum(axis=…, keepdims=True), or reshape it to "
                    f"{case.w.name}.shape).")
        return (f"extra axis: the claim has the right values but shape {_shape_txt(cs)}, and {want} "
                f"(a keepdims=True, or a [:, None], left in; reshape it — a (1, n) gradient would "
                f"turn the parameter into a matrix at its update, by broadcasting).")
    for ax in range(len(cs)):
        for how, red in (("sum", np.sum), ("mean", np.mean)):
            red_c = [fit_shape(red(c, axis=ax), shape) for c in Cs]
            if all(r is not None for r in red_c) and all_same(red_c, Ts):
                return (f"missing sum: the claim has shape {_shape_txt(cs)}, but {want}; its {how} "
                        f"over axis {ax} is right — a sum over the examples (or over a broadcast "
                        f"dimension) was left out.")
    # a conv bias's db = dout.sum(axis=0) where it is dout.sum(axis=(0, 2, 3)): a sum over several axes
    from itertools import combinations
    for n_ax in range(2, min(len(cs), 4) + 1):
        for axes in combinations(range(len(cs)), n_ax):
            red_c = [fit_shape(np.sum(c, axis=axes), shape) for c in Cs]
            if all(r is not None for r in red_c) and all_same(red_c, Ts):
                return (f"missing sum: the claim has shape {_shape_txt(cs)}, but {want}; its sum over "
                        f"axes {axes} is right — a sum over those axes, where {w.name} is broadcast, "
                        f"was left out.")
    # a conv weight's dw.transpose(1, 0, 2, 3): the right numbers with two axes swapped
    if len(cs) == len(shape) > 2 and sorted(cs) == sorted(shape) and all(c.shape == cs for c in Cs):
        from itertools import permutations
        for perm in permutations(range(len(cs))):
            if tuple(cs[i] for i in perm) == tuple(shape) and all_same([c.transpose(perm) for c in Cs], Ts):
                back = tuple(int(i) for i in np.argsort(perm))
                return (f"axes in another order: the claim has shape {_shape_txt(cs)}, but {want}; its "
                        f"values are the gradient's with the axes permuted, the gradient.transpose{back} "
                        f"— claim.transpose{perm} is right (each axis of d{w.name} is the same axis of "
                        f"{w.name}).")
    # (a claim of 0 is no sum: softmax(z) − t sums to 0, and "0" would read as an extra sum)
    if shape and Ts[0].size > 1 and all(c.size == 1 for c in Cs) and any(np.any(c) for c in Cs) and all(
            same(np.asarray(c).reshape(()), np.sum(t)) for c, t in zip(Cs, Ts)):
        return f"extra sum: the claim is a scalar, the sum of the gradient's entries; {want}."
    # affine_backward's dx = dout @ w.T left flat, (N, D) for an (N, d1, d2, d3) x: right once reshaped
    if len(shape) > 1 and all(c.shape == cs and c.size == int(np.prod(shape)) for c in Cs) and all_same(
            [c.reshape(shape) for c in Cs], Ts):
        return (f"not reshaped back: the claim has shape {_shape_txt(cs)}, but {want}; reshaped to it, "
                f"its values are right — the forward flattened {w.name} (x.reshape(N, -1)), so its "
                f"gradient is reshaped back: d{w.name} = (…).reshape({w.name}.shape).")
    # dx_pad returned whole: the conv backward's padding not cropped off (its centre is right)
    grow = [c - d for c, d in zip(cs, shape)] if len(cs) == len(shape) else []
    if grow and all(g >= 0 and g % 2 == 0 for g in grow) and any(grow) and all(c.shape == cs for c in Cs):
        cut = tuple(slice(g // 2, g // 2 + d) for g, d in zip(grow, shape))
        if all_same([c[cut] for c in Cs], Ts):
            pads = sorted({g // 2 for g in grow if g})
            return (f"padding not cropped: the claim has shape {_shape_txt(cs)}, but {want}; its centre "
                    f"(pad = {', '.join(map(str, pads))} cut from each side) is right — the gradient of "
                    f"the padded input, returned whole: crop it, dx = dx_pad[:, :, pad:-pad, pad:-pad].")
    wrong_axes: list = []
    said = _other_gradient(case, cs) or _dout_axes(case, cs, wrong_axes)
    if wrong_axes:                          # cs231n's affine db = dout.sum(axis=1)
        return (f"summed over the wrong axes: the claim has shape {_shape_txt(cs)}, which cannot be "
                f"the gradient's: {want}{said}.")
    if "the gradient is" not in said:       # 11-785's b (C1, 1) and db = dZ.sum(axis=1): a reshape
        from .cut_short_hint import cut_short_hint
        from .stride_missing_hint import stride_missing_hint
        from .upsample_hints import upsample_backward_hint
        from .sum_axis_hint import wrong_sum_axis_hint
        axis = (wrong_sum_axis_hint(case, want) or cut_short_hint(case, want)
                or stride_missing_hint(case, want) or upsample_backward_hint(case, want))
        if axis is not None:
            return axis
    has = "is a scalar" if tuple(cs) == () else f"has shape {_shape_txt(cs)}"
    return f"shape: the claim {has}, which cannot be the gradient's: {want}{said}."


def _other_gradient(case, cs) -> str:
    """The claim is (or has the shape of) another wrt variable's gradient: the gradients returned
    in another order than wrt's."""
    for j, p in enumerate(case.params):
        if j == case.k or tuple(_shape(p)) != tuple(cs):
            continue
        names = ", ".join(q.name for q in case.params)
        is_it = all(same(c[case.k], t[j]) for c, t in zip(case.claims, case.truths))
        return (f" — it {'is' if is_it else 'has the shape of'} ∂f/∂{p.name}: the gradients come in "
                f"another order than wrt's ({names}); return them in wrt order, or as a dict by name")
    return ""


def _dout_axes(case, cs, wrong_axes: list | None = None) -> str:
    """The claim is the upstream gradient summed over the wrong axes (a conv bias's db =
    dout.sum(axis=(0, 1)) for dout.sum(axis=(0, 2, 3))): name the axes it sums and those it should."""
    import re
    from itertools import combinations
    douts = [n for n in case.points[0].example() if re.fullmatch(r"dout\d*", str(n))]
    Cs, Ts = case.C(), case.T()
    for d in douts:
        vals = [np.asarray(p.example()[d], float) for p in case.points]
        r = vals[0].ndim

        def summed(shape_ok, targets):
            for keep in (False, True):    # cs231n's gamma (1, C, 1, 1) takes keepdims=True sums
                for n_ax in range(1, r):
                    for axes in combinations(range(r), n_ax):
                        red = [v.sum(axis=axes, keepdims=keep) for v in vals]
                        if red[0].shape == shape_ok and all_same(targets, red):
                            return axes
            return None
        claim_axes = summed(tuple(cs), Cs)
        if claim_axes is None:
            continue
        true_axes = summed(tuple(Ts[0].shape), Ts)
        ax = lambda a: f"axis {a[0]}" if len(a) == 1 else f"axes {a}"   # noqa: E731
        kept = tuple(a for a in range(r) if a not in claim_axes)
        if true_axes is None:
            return f" — it is {d} summed over {ax(claim_axes)}, keeping {ax(kept)}"
        keep = tuple(a for a in range(r) if a not in true_axes)
        if wrong_axes is not None and not set(claim_axes) <= set(true_axes):
            wrong_axes.append(claim_axes)       # an axis summed that the gradient keeps
        return (f" — it is {d} summed over {ax(claim_axes)}, keeping {ax(kept)}; the gradient is {d} "
                f"summed over {ax(true_axes)}, keeping {ax(keep)}, {case.w.name}'s")
    return ""


def sign_hint(case: Case):
    Cs, Ts = _fitted(case)
    if all_same(Cs, Ts, -1):
        return ("flipped sign: the claim is −1 times the gradient (a lost inner derivative −1, as in "
                "d/dw ½(y − w·x)² = −(y − w·x)·x; or the descent step's minus carried into the gradient).")
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
            return (f"transpose{also}: the claim is the transpose of the gradient{also} "
                    f"(∂f/∂{case.w.name} has {case.w.name}'s layout: entry (i, j) is "
                    f"∂f/∂{case.w.name}[i, j]).")
    return None


def _nice(k: float) -> Fraction | None:
    fr = Fraction(k).limit_denominator(64)
    return fr if abs(float(fr) - k) <= 1e-6 * abs(k) else None


def factor_hint(case: Case):
    Cs, Ts = _fitted(case)
    k = _scale(Cs, Ts)
    if k is None:
        if all(np.all(c == c) for c in Cs):
            return "the gradient is 0 here, but the claim is not: f does not depend on it that way."
        return None
    if all(np.all(c == 0) for c in Cs):
        if case.claim_expr is None:           # a NumPy function, not SymPy's diff
            return ("the claim is 0 but the gradient is not: the function returns zeros for "
                    f"∂f/∂{case.w.name} (a gradient initialised with np.zeros_like and never "
                    f"accumulated into?).")
        return ("the claim is 0 but the gradient is not (SymPy's diff of a matrix expression can "
                "silently give 0: symgrad differentiates through the expression instead).")
    if not all_same(Cs, Ts, k) or abs(k - 1) < 1e-9 or abs(k) < 1e-12:
        return None
    fr = _nice(k)
    wide = Fraction(k).limit_denominator(100000)      # for the words only: 1/80 reads better than 0.0125
    ks = str(fr) if fr is not None else (str(wide) if abs(float(wide) - k) <= 1e-9 * abs(k) else f"{k:.6g}")
    sign = "flipped sign and " if k < 0 else ""
    a = abs(k)
    B = case.batch
    from .pool_factor import pool_factor
    why = (_dropout_factor(case.f, a) or _variance_factor(case.f, a)  # first: p = ½ would read as a square's ½
           or pool_factor(case.f, a))
    if why:
        return f"{sign}constant factor: the claim is {ks} times the gradient{why}."
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
            why = (f" — the constant {c:g} of f (a scale, such as dropout's 1/p) applied twice, or "
                   f"left out of the gradient")
    return f"{sign}constant factor: the claim is {ks} times the gradient{why}."


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
    return False


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
        if abs(a - n) < 1e-9:
            return f" — {_size_words(case, n)}: a sum where there is a mean (1/{_size_name(case, n)} missing)"
        if abs(a - 1 / n) < 1e-9:
            return f" — 1/{_size_name(case, n)} with {_size_words(case, n)}: a mean where there is a sum"
    return _dout_entries_factor(case, a)


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


def _size_name(case, n: int) -> str:
    """The name of the size n (N), or n itself when n is no size's alone (`_same_value_sizes`)."""
    named = [k for k, v in sorted((case.sizes or {}).items()) if v == n]
    return named[0] if len(named) == 1 and not _literal_axes(case, n) else str(n)


def _literal_axes(case, n: int) -> str | None:
    """Where n is a declared integer dimension: "the size of axis 1 of x (N, 4, 3)" (wrt first);
    None when no declared shape has n written as a number (or the check has no declared shapes)."""
    shapes = case.shapes or {}
    for name in dict.fromkeys([p.name for p in case.params] + sorted(shapes)):
        shape = shapes.get(name, ())
        axes = [i for i, d in enumerate(shape) if isinstance(d, int) and d == n]
        if axes:
            txt = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
            return f"the size of {_axes_words(axes)} of {name} {txt}"
    return None


def _axes_words(axes) -> str:
    return f"axis {axes[0]}" if len(axes) == 1 else "axes " + ", ".join(map(str, axes[:-1])) + f" and {axes[-1]}"


def _same_value_sizes(case, n: int, named) -> str | None:
    """The words for n when several sizes have that value (N = T = 4 given in ``dims=``, or N = 4
    and a declared 4): every one of them, since the check cannot tell which the factor is of."""
    literal = _literal_axes(case, n)
    if len(named) + (literal is not None) < 2:
        return None
    which = [f"the size {k}" for k in named] + ([literal] if literal else [])
    return (f"{n}, which is {' and '.join(which)} (equal here, as dims= or at= fixed "
            f"{' and '.join(named)}: the check cannot tell which one the factor is; give "
            f"{named[0]} a value no other size has to have it named)")


def _size_words(case, n: int) -> str:
    """The size n as the user knows it: "N = 5" for a declared symbolic size, else "4, the size of
    axis 1 of x (5, 4)" (the first tensor of f with an axis of that size, wrt first); every size
    of that value when there are several (`_same_value_sizes`)."""
    named = [k for k, v in sorted((case.sizes or {}).items()) if v == n]
    both = _same_value_sizes(case, n, named)
    if both:
        return both
    if named:
        return f"{named[0]} = {n}, a size of the problem"
    for s in list(case.params) + sorted(_symbols(case.f), key=lambda s: s.name):
        shape = _shape(s)
        axes = [i for i, d in enumerate(shape) if d == n]
        if n in shape and len(shape) == 2 and 1 in shape:          # a column (or row) vector
            return f"{n}, the length of {s.name} {_shape_txt(shape)}"
        if n in shape and len(shape) > 1:
            return f"{n}, the size of {_axes_words(axes)} of {s.name} {_shape_txt(shape)}"
        if n in shape:
            return f"{n}, the size of {s.name} {_shape_txt(shape)}"
    return f"{n}, a dimension of the problem"


def _dims(case) -> set:
    out = set()
    for s in _symbols(case.f):
        out.update(d for d in _shape(s) if d > 1)
    return out


# ---------------------------------------------------------------------------------------------------
# Fan-out: a path of the influence diagram left out


def _term_text(expr, limit=160) -> str:
    """A path's term as printed, cut short when it is long (a batch norm's runs to 400 characters)."""
    s = str(expr)
    return s if len(s) <= limit else s[:limit - 1] + "…"


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
            return (f"fan-out: {_label(D, v)} influences the output along more than one path, and "
                    f"the claim has {fr} times the term of the path {_path(D, case.w.name, v, eqn)} "
                    f"(that term is {_term_text(expr)}){why}; the other paths' terms are right.")
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
        term = "" if why else f" (that term is {_term_text(expr)})"
        return (f"fan-out: {_label(D, v)} influences the output along more than one path, and "
                f"the claim {what} the term of the path {_path(D, case.w.name, v, eqn)}{term}{why}; the "
                f"derivative sums over all paths of the influence diagram.")
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


# ---------------------------------------------------------------------------------------------------
# Slips of hand-written tensor backward functions (cs231n's layers): one example instead of the sum
# over the batch, an index assignment instead of an accumulation, a recurrence without the gradient
# from the next step.

_MOVES = frozenset({"reshape", "permute", "concat", "slice", "pad", "expand", "transpose"})


def _gradient_eqns(D, k, prim_name):
    """The equations of ``prim_name`` that ∂f/∂wₖ is computed from."""
    g = D.gradient_vars[k]
    if g is None:
        return []
    return [e for e in D.ir.ancestors([g]) if e.prim.name == prim_name]


def one_example_hint(case: Case):
    """db = dout[0] for db = dout.sum(axis=0): a sum over axes (the adjoint of a broadcast) is in
    the gradient, and the claim is its first (or last) term where the gradient has the whole sum."""
    D = case.derivation
    Cs, Ts = _fitted(case)
    for e in _gradient_eqns(D, case.k, "rsum")[:8]:
        axes = tuple(e.params[0])
        vals = case.eval_vars(D.ir, [e.inputs[0], e.out])
        for which, at in (("first", 0), ("last", -1)):
            cand = []
            for (u, s), t in zip(vals, Ts):
                term = u[tuple(slice(at, at + 1 or None) if a in axes else slice(None) for a in range(u.ndim))]
                # T = (T − Σ) + one term: the other contributions to ∂f/∂w stay as they are
                cand.append(t - np.reshape(s, t.shape) + np.reshape(term, t.shape)
                            if s.size == t.size else None)
            if all(c is not None for c in cand) and all_same(Cs, cand):
                n = ", ".join(str(e.inputs[0].shape[a]) for a in axes)
                return (f"one example instead of the sum over the batch: the claim takes the {which} term "
                        f"(as dout[{at}]) where ∂f/∂{case.w.name} sums over axis {', '.join(map(str, axes))} "
                        f"(size {n}): {case.w.name} is broadcast over those axes, so every example "
                        f"contributes (dout.sum(axis=0), not dout[0]).")
    return None


def assignment_hint(case: Case):
    """dW[idx] = dout for np.add.at(dW, idx, dout): with a repeated index, assignment keeps one
    row where the gradient adds them all (an embedding, a gather of class scores)."""
    D = case.derivation
    eqns = _gradient_eqns(D, case.k, "scatter_add")
    if not eqns:
        return None
    Cs, Ts = _fitted(case)
    vals = case.eval_vars(D.ir, [v for e in eqns for v in (e.inputs[0], e.inputs[1], e.out)])
    cand = []
    for i, t in enumerate(Ts):
        c = np.array(t, float)
        for j, e in enumerate(eqns):
            ct, idx, total = vals[i][3 * j:3 * j + 3]
            ax = e.params[0]
            idx = np.asarray(np.rint(idx), int)
            assigned = np.zeros(total.shape)
            moved = np.moveaxis(assigned, ax, 0)
            moved[idx] = np.moveaxis(ct, tuple(range(ax, ax + idx.ndim)), tuple(range(idx.ndim)))
            if total.size != c.size:
                return None
            c = c - total.reshape(c.shape) + assigned.reshape(c.shape)
        cand.append(c)
    if all_same(Cs, cand) and not all_same(Cs, Ts):
        return (f"assignment instead of accumulation: the claim writes d{case.w.name}[idx] = dout (or "
                f"d{case.w.name}[idx] += dout: NumPy's += on a fancy index also writes each repeated "
                f"index once), so a repeated index keeps only one of its rows; the gradient adds every row "
                f"that index picked — "
                f"np.add.at(d{case.w.name}, idx, dout) (a take's adjoint is a scatter-add).")
    return None


def upstream_hint(case: Case):
    """A recurrence's backward without the gradient from the next step: each hidden state that is
    both an output and the next step's input gets only its own dout term (dprev left out)."""
    from ..core.reverse import backward
    D = case.derivation
    graph = D.ir
    eqns = graph.ancestors([D.output])
    users = _users(eqns)
    def stacked(e):                       # e joins step outputs: a concat, or a reshape into one
        return e.prim.name == "concat" or (e.prim.name == "reshape" and any(
            u.prim.name == "concat" for u in users.get(e.out.id, ())))
    # a state: a step's output both stacked into the layer's output and multiplied in the next step
    states = {i for i, es in users.items() if not graph.producer[i].prim.leaf
              and any(stacked(e) for e in es) and any(e.prim.name in ("matmul", "bmatmul") for e in es)}
    if len(states) < 2:                   # a recurrence of one step has no upstream to forget
        return None

    def drop(v, eqn):
        return v.id in states and eqn.prim.name in ("matmul", "bmatmul")
    g = backward(graph, D.output, D.wrt_vars, drop=drop)[case.k]
    if g is None:
        return None
    Cs, Ts = _fitted(case)
    vals = case.eval_vars(graph, [g])
    if all_same(Cs, [np.broadcast_to(v[0], t.shape) for v, t in zip(vals, Ts)]):
        return ("missing upstream gradient: each hidden state gets only its own output's gradient "
                "(dh[:, t]); it also feeds the next step, so the gradient flowing back from that step "
                "must be added first — dh_t = dh[:, t] + dprev_h — before going through the step.")
    return None


def statistics_hint(case: Case):
    """Batch (or layer) statistics taken as constants: μ and σ² are sums over an axis that are
    broadcast back over it, and the claim has none of the gradient that flows into them (batch
    norm's dx = dx̂/σ). The single forgotten path is the fan-out hint's; this one is all of them."""
    from ..core.reverse import backward
    D = case.derivation
    graph = D.ir
    eqns = graph.ancestors([D.output])
    users = _users(eqns)

    def broadcast_back(e) -> bool:        # e's value reaches an expand through elementwise steps
        todo, seen = [e.out.id], set()
        while todo:
            for u in users.get(todo.pop(), ()):
                if u.prim.name == "expand":
                    return True
                if u.prim.name in ("ewise", "reshape") and u.out.id not in seen:
                    seen.add(u.out.id)
                    todo.append(u.out.id)
        return False
    stats = {id(e) for e in eqns if e.prim.name == "rsum" and broadcast_back(e)}
    if len(stats) < 2:                    # one statistic left out is a single path: fanout_hint's
        return None
    g = backward(graph, D.output, D.wrt_vars, drop=lambda v, eqn: id(eqn) in stats)[case.k]
    if g is None:
        return None
    Cs, Ts = _fitted(case)
    vals = case.eval_vars(graph, [g])
    if all_same(Cs, [np.broadcast_to(v[0], t.shape) for v, t in zip(vals, Ts)]):
        return ("statistics taken as constants: the claim has no gradient through the statistics (the "
                "means and variances over an axis, broadcast back over it), as if they did not depend on "
                f"{case.w.name}; they do — batch norm's ∂L/∂x has the terms through μ and σ² as well, "
                "(N·dx̂ − Σ dx̂ − x̂·Σ dx̂⊙x̂)/(N·σ).")
    return None


def variance_hint(case: Case):
    """A variance divided by N − 1 where f divides by N (np.var(x, ddof=1), torch's default), or by
    N where f has correction=1: derive f again with each variance's correction flipped, and compare.
    (A constant factor N/(N − 1) is factor_hint's; this is the backward that is consistent with the
    other variance throughout, as batch norm's staged backward is.)"""
    from ..frontend import tensor as T
    vs = [(v, c) for v, n, c in _variances(case.f) if c in (0, 1) and n > 1]
    if not vs:
        return None
    sub = {v: T.Variance(v.x, v.args[1], v.args[2], sp.Integer(1 - c)) for v, c in vs}
    Cs, Ts = _fitted(case)
    if _claim_is_gradient_of(case, case.f.xreplace(sub)) and not all_same(Cs, Ts):
        used, has = 1 - vs[0][1], vs[0][1]
        how = ("unbiased, np.var(x, ddof=1) or torch's x.var() default, dividing by N − 1" if used
               else "biased, np.var's default ddof=0, dividing by N")
        return (f"variance correction: the claim is the gradient of f with a variance of correction={used} "
                f"({how}) where f has correction={has}; the factor N/(N − 1) between them reaches every "
                f"term through σ, so use the same variance as the forward pass (x.var(correction="
                f"{has}) in f).")
    return None


def dout_hint(case: Case):
    """check_backward's upstream gradient left out: f = Σ out ⊙ dout, and the claim is ∂f/∂w at
    dout = 1 (relu_backward returning the mask (x > 0) alone, not dout ⊙ (x > 0))."""
    from ..frontend import tensor as T
    import re
    douts = [t.name for t in case.f.atoms(T.Tensor) if re.fullmatch(r"dout\d*", t.name)
             and t.name not in {p.name for p in case.params}]
    if not douts:
        return None
    D = case.derivation
    g = D.gradient_vars[case.k]
    if g is None:
        return None
    Cs, Ts = _fitted(case)
    vals = case.eval_vars(D.ir, [g], lambda vals: {d: np.ones(np.shape(vals[d])) for d in douts})
    if all_same(Cs, [np.broadcast_to(v[0], t.shape) for v, t in zip(vals, Ts)]) and not all_same(Cs, Ts):
        d = " and ".join(douts)
        eg = (": for relu, dx = dout * (x > 0), not (x > 0)" if case.f.has(relu) or case.f.has(sp.Max)
              else f": d{case.w.name} = dout * ∂out/∂{case.w.name} (entry by entry, or summed as the shapes need)")
        return (f"upstream gradient left out: the claim is the gradient with {d} = 1 everywhere — the "
                f"local derivative alone, not multiplied by the gradient coming from above; the chain rule "
                f"multiplies them{eg}.")
    return None


# ---------------------------------------------------------------------------------------------------
# σ'(z) written wrong, and the softmax Jacobian cut to its diagonal: derive f again with the slip
# built in, and compare the claim with that.


def _sig_variant(label, dfun):
    from .activation_hints import _variant
    return _variant(sigmoid, label, dfun)


_SIGMOID_SLIPS = [
    _sig_variant("1 (the σ' factor left out)", lambda s, z: sp.S.One),
    _sig_variant("σ(z)", lambda s, z: s),
    _sig_variant("1 − σ(z)", lambda s, z: 1 - s),
    _sig_variant("z(1 − z)", lambda s, z: z * (1 - z)),
    _sig_variant("σ(z)²", lambda s, z: s ** 2),
    _sig_variant("σ(z)(1 + σ(z))", lambda s, z: s * (1 + s)),
]


def sigmoid_hint(case: Case):
    if not case.f.has(sigmoid):
        return None
    for label, cls in _SIGMOID_SLIPS:
        if _claim_is_gradient_of(case, case.f.replace(sigmoid, cls)):
            return (f"σ'(z) written wrong: the claim is what the chain rule gives with σ'(z) = {label}; "
                    f"the derivative of the sigmoid is σ'(z) = σ(z)(1 − σ(z)).")
    return None


def _tanh_variant(label, dfun):
    """(They were named by their label, "tanh_1 − tanh(z)": inside an elementwise body that name is
    lambdify's code, which did not run, so a 3-step RNN's tanh′ slip got no hint.)"""
    from .activation_hints import _variant
    return _variant(sp.tanh, label, dfun)


_TANH_SLIPS = [
    _tanh_variant("1 − tanh(z)", lambda t, z: 1 - t),
    _tanh_variant("tanh(z)", lambda t, z: t),
    _tanh_variant("1 − z² (z, the input, squared where tanh's output belongs)", lambda t, z: 1 - z ** 2),
    _tanh_variant("tanh(z)²", lambda t, z: t ** 2),
    _tanh_variant("1 + tanh(z)²", lambda t, z: 1 + t ** 2),
    _tanh_variant("1 (the tanh' factor left out)", lambda t, z: sp.S.One),
    _tanh_variant("1/cosh(z) = sech(z), where sech²(z) belongs", lambda t, z: sp.sqrt(1 - t ** 2)),
]


def tanh_hint(case: Case):
    """tanh'(z) written wrong — an RNN step's backward with dtanh = 1 − next_h for 1 − next_h²: derive
    f again with each usual wrong tanh′ and compare the claim with that, as `sigmoid_hint` does."""
    if not case.f.has(sp.tanh):
        return None
    Cs, Ts = _fitted(case)
    if all_same(Cs, Ts):
        return None
    for label, cls in _TANH_SLIPS:
        if _claim_is_gradient_of(case, case.f.replace(sp.tanh, cls)):
            return (f"tanh'(z) written wrong: the claim is what the chain rule gives with tanh'(z) = "
                    f"{label}; the derivative of tanh is tanh'(z) = 1 − tanh(z)², so with h = tanh(z) "
                    f"from the forward, dz = dout * (1 − h**2).")
    return None


class _relu_passed_through(relu):
    """relu with relu′ taken as 1: the backward that forgot relu's mask."""

    def fdiff(self, argindex=1):
        return sp.S.One


def relu_hint(case: Case):
    """relu′ left out: dz = dout where dz = dout ⊙ (z > 0) — derive f again with every relu (and
    max(0, z)) passing its gradient through unmasked, and compare the claim with that."""

    def is_relu_max(e):
        return isinstance(e, sp.Max) and len(e.args) == 2 and sp.S.Zero in e.args
    if not (case.f.has(relu) or any(is_relu_max(e) for e in sp.preorder_traversal(case.f))):
        return None
    Cs, Ts = _fitted(case)
    if all_same(Cs, Ts):
        return None
    for cls, said in ((_relu_passed_through, "relu′ left out: the claim is what the chain rule gives "
                       "with relu′(z) = 1, the gradient passed back through relu unchanged"),
                      (_relu_by_its_value, "relu′ written as relu(z): the claim is what the chain rule "
                       "gives with relu′(z) = relu(z) = max(0, z), the gradient multiplied by relu's "
                       "output (dz = dout * h for h = relu(z))")):
        slipped = case.f.replace(relu, cls).replace(
            is_relu_max, lambda e, c=cls: c(next(a for a in e.args if a != 0)))
        if _claim_is_gradient_of(case, slipped):
            return (f"{said}; relu′(z) is the step H(z) (1 where z > 0, else 0), so the gradient is "
                    f"masked: dz = dout ⊙ (z > 0).")
    return None


class _relu_by_its_value(relu):
    """relu with relu′ taken as relu itself: the backward that multiplies by the activation."""

    def fdiff(self, argindex=1):
        return relu(self.args[0])


def softmax_hint(case: Case):
    """softmaxᵢ(z) = σ(zᵢ − Kᵢ) with Kᵢ = log Σ_{j≠i} exp zⱼ; holding K fixed keeps only the diagonal
    of the Jacobian, ∂sᵢ/∂zᵢ = sᵢ(1 − sᵢ), and drops −sᵢsⱼ off it."""
    from ..core.evaluate import numeric
    nodes = [n for n in sp.preorder_traversal(case.f) if isinstance(n, (Softmax, LogSoftmax))]
    if not nodes:
        return None
    t = sp.Dummy("t", real=True)
    sub, ks = {}, []
    for j, n in enumerate(dict.fromkeys(nodes)):
        K = sp.MatrixSymbol(f"_K{j}", *n.arg.shape)
        body = sigmoid(t) if isinstance(n, Softmax) else sp.log(sigmoid(t))
        sub[n] = Map(sp.Lambda(t, body), n.arg - K)
        ks.append((K, n.arg))

    def extra(vals):
        out = {}
        for K, z in ks:
            zv = np.asarray(numeric(z, vals), float)
            m = zv.max()
            e = np.exp(zv - m)
            out[K.name] = m + np.log(np.maximum(e.sum() - e, 1e-300))
        return out

    if _claim_is_gradient_of(case, case.f.xreplace(sub), extra):
        return ("softmax Jacobian cut to its diagonal: the claim uses ∂sᵢ/∂zᵢ = sᵢ(1 − sᵢ) only; the "
                "softmax couples every output to every input, ∂sᵢ/∂zⱼ = sᵢ(δᵢⱼ − sⱼ), so "
                "∂f/∂z = s ⊙ (ḡ − sᵀḡ), not s ⊙ (1 − s) ⊙ ḡ.")
    return None


def tensor_softmax_hint(case: Case):
    """The same slip for softmax over an axis of a tensor: the Jacobian cut to its diagonal
    (dz = s ⊙ (1 − s) ⊙ ds). Its diagonal term left out (dz = −s ⊙ Σ s ⊙ ds) is the fan-out hint's:
    the path through exp(z) of softmax = exp(z − logsumexp(z))."""
    from ..core.evaluate import numeric
    from ..frontend import tensor as T
    from ..frontend.tensor_softmax import SoftmaxT
    nodes = list(dict.fromkeys(n for n in sp.preorder_traversal(case.f) if isinstance(n, SoftmaxT)))
    if not nodes:
        return None

    def variant(build, value):
        sub, ks = {}, []
        for j, n in enumerate(nodes):
            K = T.tensor(f"_K{j}", n.x.shape)
            sub[n] = build(n, K)
            ks.append((K, n))

        def extra(vals):
            return {K.name: value(np.asarray(numeric(n.x, vals), float), n.axis) for K, n in ks}
        return _claim_is_gradient_of(case, case.f.xreplace(sub), extra)

    def others(z, axis):                  # K = log Σ_{j≠i} exp zⱼ: softmaxᵢ = σ(zᵢ − K) with K held
        m = z.max(axis=axis, keepdims=True)
        e = np.exp(z - m)
        return m + np.log(np.maximum(e.sum(axis=axis, keepdims=True) - e, 1e-300))
    if variant(lambda n, K: T.as_tensor(sigmoid(n.x - K)), others):
        return ("softmax Jacobian cut to its diagonal: the claim uses ∂sᵢ/∂zᵢ = sᵢ(1 − sᵢ) only; the "
                "softmax over an axis couples every entry of that axis, ∂sᵢ/∂zⱼ = sᵢ(δᵢⱼ − sⱼ), so "
                "dz = s ⊙ (ds − (s ⊙ ds).sum(axis, keepdims=True)), not s ⊙ (1 − s) ⊙ ds.")
    return None


_busy = []    # target_hint re-runs check, which must not try target_hint again


def target_hint(case: Case):
    """softmax(z) − t is ∂/∂z of −Σ t log softmax(z) only when Σt = 1: the full gradient is
    softmax(z)·Σt − t. `check` draws such a target on the simplex by default (targets=
    "distribution"); when it was asked to draw it freely (targets="free") and the claim becomes
    right for distribution targets, say so — and when a claim right for one-hot targets fails for
    soft ones (a distribution), say that."""
    from .sampling import target_symbols
    from .soft_targets import tensor_targets
    from ..frontend.tensor_softmax import LogSoftmaxT, SoftmaxT
    retry = {"free": "distribution", "distribution": "one-hot"}.get(case.targets)
    if _busy or retry is None or case.check is None or case.claim_expr is None \
            or not case.f.has(Softmax, LogSoftmax, SoftmaxT, LogSoftmaxT):
        return None
    ts = [t.name for t in [*target_symbols(case.f, case.params), *tensor_targets(case.f, case.params)]]
    if not ts:
        return None
    _busy.append(retry)
    try:
        r = case.check(case.f, case.w, case.claim_expr, targets=retry,
                       policy=case.derivation.ir.policy)
    finally:
        _busy.pop()
    if r.verdict != "equal":
        return None
    t = " and ".join(ts)
    if retry == "distribution":
        return (f"targets: the claim is right when {t} is a distribution (entries ≥ 0 summing to 1, "
                f"one-hot included), as the derivation of softmax(z) − t assumes, but not for a "
                f"general {t} (then the gradient is softmax(z)·Σt − t); targets='distribution', the "
                f"default, draws {t} so.")
    return (f"targets: the claim is right when {t} is one-hot, but not for every distribution {t} "
            f"(soft labels, entries summing to 1); if your targets are one-hot, check it with "
            f"targets='one-hot'.")


# ---------------------------------------------------------------------------------------------------
# Otherwise: the first derivation step whose value the claim does not reproduce.


def first_step_hint(case: Case):
    """Walk the reverse-mode steps from the output towards w. A step's adjoint ḡ (∂f/∂ of that
    equation's output) is "reproduced" when some subexpression of the claim has its value at every
    point. Report the first step that is not reproduced, after one that is."""
    from ..core.to_sympy import SympyBuilder
    expr = case.claim_expr
    if expr is None or not case.derivation.raw_steps:
        return None
    D = case.derivation
    subs = []
    for s in sp.preorder_traversal(expr):
        if isinstance(s, sp.Expr) and not s.is_Atom and not isinstance(s, sp.Lambda):
            subs.append(s)
            if isinstance(s, sp.MatMul) and len(s.args) > 2:     # A·B·C holds A·B and B·C too
                subs += [sp.MatMul(*s.args[:i]) for i in range(2, len(s.args))]
                subs += [sp.MatMul(*s.args[i:]) for i in range(1, len(s.args) - 1)]
    subs = list(dict.fromkeys(subs))[:80]
    sub_vals = []
    for s in subs:
        try:
            sub_vals.append([_eval_claim(s, p.example(0)) for p in case.points])
        except Exception:   # noqa: BLE001 - a subexpression that does not evaluate alone
            sub_vals.append(None)
    from ..core.reverse import depends_on
    on_path = depends_on(D.ir, [D.wrt_vars[case.k]])
    steps = [st for st in D.raw_steps if st.eqn.out.id in on_path and st.eqn.out.id != D.output.id]
    gvals = case.eval_vars(D.ir, [st.cotangent for st in steps])
    last_ok = None
    build = SympyBuilder(D.ir, D.lowering.exprs)
    for j, st in enumerate(steps):
        target = [v[j] for v in gvals]
        hit = any(sv is not None and all(np.asarray(a).shape == np.asarray(b).shape and same(a, b)
                                         for a, b in zip(sv, target)) for sv in sub_vals)
        if hit:
            last_ok = st
            continue
        if last_ok is not None and any(sv is not None and np.asarray(sv[0]).shape == np.asarray(target[0]).shape
                                       for sv in sub_vals):
            return (f"first differing step: the claim agrees with the derivation down to "
                    f"∂f/∂({_label(D, last_ok.eqn.out)}) = {build(last_ok.cotangent)}, but no part of it "
                    f"equals the next step, ∂f/∂({_label(D, st.eqn.out)}) = {build(st.cotangent)} "
                    f"({st.eqn.prim.rule} rule).")
    return None
