"""The claim cannot have ∂f/∂w's shape: transposed, one row per example (a missing sum over the
batch), an extra or dropped axis of length 1, a missing sum over axes, axes in another order, an extra
sum, not reshaped back, padding not cropped, summed over the wrong axes, another variable's gradient;
else both shapes are named. `hints.find_hint` tries it first."""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .claims import _shape, fit_shape
from .hint_case import Case, all_same, same
from .sign_transpose_hints import _relation
from .transpose_words import _transpose_rule
from .size_words import _shape_txt


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
            rule = _transpose_rule(case)
            if isinstance(w, sp.MatrixSymbol) and case.claim_expr is not None and not also:
                n = w.name
                if case.convention == "row":
                    return Hint("transpose",
                                f"the claim is the gradient in symgrad's own layout, {n}'s shape "
                                f"{_shape_txt(shape)}, but convention='row' reads a claim in the numerator "
                                f"layout (a gradient as a row, ∂f/∂{n} shaped like {n}ᵀ) and transposes it "
                                f"first: check it without convention='row', or give its transpose.")
                column = shape[1] == 1          # a row variable's numerator layout is a column: the general words
                rule = (f"∂f/∂{n} is a column like {n}; a row is the numerator layout (11-785's convention), "
                        f"in which the claim is right: check it so with convention='row'" if column else
                        f"{rule}; or, if you write gradients in the numerator layout (∂f/∂{n} shaped like "
                        f"{n}ᵀ, 11-785's convention), the claim is right there: check it so with "
                        f"convention='row'")
            return Hint(f"transpose{also}",
                        f"the claim is the transpose of the gradient{also}; {want}, the "
                        f"claim has {_shape_txt(cs)} ({rule}).")
    B = case.batch
    if B and cs and cs[0] == B:
        for how, red in (("mean", lambda c: c.mean(axis=0)), ("sum", lambda c: c.sum(axis=0))):
            red_c = [fit_shape(red(c), shape) for c in Cs]
            if all(r is not None for r in red_c) and all_same(red_c, Ts):
                return Hint("missing sum over the batch",
                            f"the claim has one row per example, shape "
                            f"{_shape_txt(cs)}, but {want}; the gradient of the batch loss sums the "
                            f"examples' contributions (here their {how} over axis 0 is right).")
    # db = dout.sum(axis=0, keepdims=True): the right numbers with an extra axis of length 1. Tried
    # before the sums below, which would read the (1, 5) claim's "sum over axis 0" as a missing sum.
    if cs != tuple(shape) and all(c.shape == cs for c in Cs) and [d for d in cs if d != 1] == \
            [d for d in shape if d != 1] and all_same([c.reshape(shape) for c in Cs], Ts):
        if len(cs) < len(shape):            # cs231n's gamma (1, C, 1, 1): the sum's keepdims left out
            return Hint("axes of length 1 dropped",
                        f"the claim has the right values but shape "
                        f"{_shape_txt(cs)}, and {want} (a sum without keepdims=True where the parameter "
                        f"keeps them: write .sum(axis=…, keepdims=True), or reshape it to "
                        f"{case.w.name}.shape).")
        return Hint("extra axis",
                    f"the claim has the right values but shape {_shape_txt(cs)}, and {want} "
                    f"(a keepdims=True, or a [:, None], left in; reshape it — a (1, n) gradient would "
                    f"turn the parameter into a matrix at its update, by broadcasting).")
    for ax in range(len(cs)):
        for how, red in (("sum", np.sum), ("mean", np.mean)):
            red_c = [fit_shape(red(c, axis=ax), shape) for c in Cs]
            if all(r is not None for r in red_c) and all_same(red_c, Ts):
                return Hint("missing sum",
                            f"the claim has shape {_shape_txt(cs)}, but {want}; its {how} "
                            f"over axis {ax} is right — a sum over the examples (or over a broadcast "
                            f"dimension) was left out.")
    # a conv bias's db = dout.sum(axis=0) where it is dout.sum(axis=(0, 2, 3)): a sum over several axes
    from itertools import combinations
    for n_ax in range(2, min(len(cs), 4) + 1):
        for axes in combinations(range(len(cs)), n_ax):
            red_c = [fit_shape(np.sum(c, axis=axes), shape) for c in Cs]
            if all(r is not None for r in red_c) and all_same(red_c, Ts):
                return Hint("missing sum",
                            f"the claim has shape {_shape_txt(cs)}, but {want}; its sum over "
                            f"axes {axes} is right — a sum over those axes, where {w.name} is broadcast, "
                            f"was left out.")
    # a conv weight's dw.transpose(1, 0, 2, 3): the right numbers with two axes swapped
    if len(cs) == len(shape) > 2 and sorted(cs) == sorted(shape) and all(c.shape == cs for c in Cs):
        from itertools import permutations
        for perm in permutations(range(len(cs))):
            if tuple(cs[i] for i in perm) == tuple(shape) and all_same([c.transpose(perm) for c in Cs], Ts):
                back = tuple(int(i) for i in np.argsort(perm))
                return Hint("axes in another order",
                            f"the claim has shape {_shape_txt(cs)}, but {want}; its "
                            f"values are the gradient's with the axes permuted, the gradient.transpose{back} "
                            f"— claim.transpose{perm} is right (each axis of d{w.name} is the same axis of "
                            f"{w.name}).")
    # (a claim of 0 is no sum: softmax(z) − t sums to 0, and "0" would read as an extra sum)
    if shape and Ts[0].size > 1 and all(c.size == 1 for c in Cs) and any(np.any(c) for c in Cs) and all(
            same(np.asarray(c).reshape(()), np.sum(t)) for c, t in zip(Cs, Ts)):
        from ..frontend import tensor as T
        axis = (f" (a sum with no axis=, np.sum(...), where only the axes {w.name} is broadcast along are "
                f"summed: an affine layer's db = dout.sum(axis=0))" if isinstance(w, T.Tensor) else "")
        return Hint("extra sum", f"the claim is a scalar, the sum of the gradient's entries; {want}{axis}.")
    # affine_backward's dx = dout @ w.T left flat, (N, D) for an (N, d1, d2, d3) x: right once reshaped
    if len(shape) > 1 and all(c.shape == cs and c.size == int(np.prod(shape)) for c in Cs) and all_same(
            [c.reshape(shape) for c in Cs], Ts):
        return Hint("not reshaped back",
                    f"the claim has shape {_shape_txt(cs)}, but {want}; reshaped to it, "
                    f"its values are right — the forward flattened {w.name} (x.reshape(N, -1)), so its "
                    f"gradient is reshaped back: d{w.name} = (…).reshape({w.name}.shape).")
    # dx_pad returned whole: the conv backward's padding not cropped off (its centre is right)
    grow = [c - d for c, d in zip(cs, shape)] if len(cs) == len(shape) else []
    if grow and all(g >= 0 and g % 2 == 0 for g in grow) and any(grow) and all(c.shape == cs for c in Cs):
        cut = tuple(slice(g // 2, g // 2 + d) for g, d in zip(grow, shape))
        if all_same([c[cut] for c in Cs], Ts):
            pads = sorted({g // 2 for g in grow if g})
            short = _crop_short(case, grow)
            if short:
                return Hint("padding cropped by too little",
                            f"the claim has shape {_shape_txt(cs)}, but {want}; its centre is right — "
                            f"dx_pad cropped by {short[0]} on each side where the forward pads {short[1]}: "
                            f"crop the whole padding, dx = dx_pad[:, :, pad:-pad, pad:-pad] with pad = "
                            f"{short[1]} (the conv's pad, not a number written for another layer).")
            return Hint("padding not cropped",
                        f"the claim has shape {_shape_txt(cs)}, but {want}; its centre "
                        f"(pad = {', '.join(map(str, pads))} cut from each side) is right — the gradient of "
                        f"the padded input, returned whole: crop it, dx = dx_pad[:, :, pad:-pad, pad:-pad].")
    # ∂L/∂x as a correlation of δ padded by too little (11-785's Conv1d: dLdZ not padded by K − 1)
    full = _full_padding_short(case, Cs, Ts, cs, shape)
    if full:
        return Hint("full convolution's padding short", f"the claim has shape {_shape_txt(cs)}, but {want}; "
                    f"it is the gradient's centre, {full}")
    wrong_axes: list = []
    said = _other_gradient(case, cs) or _dout_axes(case, cs, wrong_axes)
    if wrong_axes:                          # cs231n's affine db = dout.sum(axis=1)
        return Hint("summed over the wrong axes",
                    f"the claim has shape {_shape_txt(cs)}, which cannot be "
                    f"the gradient's: {want}{said}.")
    if "the gradient is" not in said:       # 11-785's b (C1, 1) and db = dZ.sum(axis=1): a reshape
        from .cut_short_hint import cut_short_hint
        from .stride_missing_hint import stride_missing_hint
        from .upsample_hints import upsample_backward_hint
        from .resample_hints import resample_hint
        from .sum_axis_hint import wrong_sum_axis_hint
        axis = (wrong_sum_axis_hint(case, want) or cut_short_hint(case, want)
                or stride_missing_hint(case, want) or upsample_backward_hint(case, want)
                or resample_hint(case, want))
        if axis is not None:
            return axis
    has = "is a scalar" if tuple(cs) == () else f"has shape {_shape_txt(cs)}"
    return Hint("shape", f"the claim {has}, which cannot be the gradient's: {want}{said}{_nor_hessian(case, cs)}.")


def _nor_hessian(case, cs) -> str:
    """For a square claim of a column x (n×1) that is no n×n: it is not the Hessian's shape either
    (sg.check reads an n×n claim as ∂²f/∂x∂xᵀ), and MMᵀ written where MᵀM belongs is named."""
    w = case.w
    if not (isinstance(w, sp.MatrixSymbol) and len(cs) == 2 and cs[0] == cs[1] and cs[0] > 1
            and tuple(w.shape)[1:] == (1,) and sp.sympify(w.shape[0]).is_Integer):
        return ""
    n = int(w.shape[0])
    if cs[0] == n:
        return ""
    said = f", nor the Hessian's ({n}, {n}), one row and one column per entry of {w.name}"
    e = case.claim_expr
    for m in (sp.preorder_traversal(e) if isinstance(e, sp.Basic) else ()):
        if isinstance(m, sp.MatMul):
            mats = [a for a in m.args if isinstance(a, sp.MatrixExpr)]
            for a, b in zip(mats, mats[1:]):
                if isinstance(b, sp.Transpose) and b.arg == a and a.shape[1] == n:
                    return said + f" — {a}*{b} is {cs[0]}×{cs[0]}; {b}*{a} is {n}×{n}"
    return said


def _other_gradient(case, cs) -> str:
    """The claim is (or has the shape of) another wrt variable's gradient: the gradients returned
    in another order than wrt's."""
    for j, p in enumerate(case.params):
        if j == case.k or tuple(_shape(p)) != tuple(cs):
            continue
        names = ", ".join(q.name for q in case.params)
        is_it = all(same(c[case.k], t[j]) for c, t in zip(case.claims, case.truths))
        twice = is_it and all(same(np.reshape(c[j], np.shape(t[j])), t[j]) if np.size(c[j]) == np.size(t[j])
                              else False for c, t in zip(case.claims, case.truths))
        if twice:       # p's own claim is right too: not an order, d{w} made with p's line (an RNN's dx = dt @ Wh.T)
            return (f" — it is ∂f/∂{p.name}, which the claim for {p.name} also is: d{case.w.name} is computed "
                    f"as d{p.name} (a line copied from d{p.name}'s and not changed: each input's gradient goes "
                    f"back through its own factor, {case.w.name}'s weight for d{case.w.name})")
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


def _crop_short(case, grow):
    """(c, pad) where ``grow`` (the claim's extra entries per axis) is 2·(pad − c) on every spatial
    axis of the one convolution of the variable, padded by pad on each side, with 0 < c < pad: dx_pad
    cropped by a number c other than pad (a literal 1 where the layer pads 2); None otherwise."""
    from ..frontend import conv as C
    convs = {n for n in sp.preorder_traversal(case.f) if type(n) is C.Conv and n.args[0] == case.w}
    if len(convs) != 1:
        return None
    pads = [lo for lo, hi in next(iter(convs)).padding if lo == hi]
    spatial = grow[2:]
    if any(grow[:2]) or len(pads) != len(spatial) or len(set(pads)) != 1:
        return None
    pad = pads[0]
    cut = {pad - g // 2 for g in spatial}
    return (cut.pop(), pad) if len(cut) == 1 and 0 < min(cut) < pad else None


def _full_padding_short(case, Cs, Ts, cs, shape):
    """The rest of the sentence where the claim is the gradient's centre along the spatial axes of
    the variable's one stride-1 convolution — ∂L/∂x computed as the correlation of δ with the flipped
    kernel, δ padded by less than the full convolution's d·(K − 1) − p on each side; None otherwise."""
    from ..frontend import conv as C
    convs = {n for n in sp.preorder_traversal(case.f) if type(n) is C.Conv and n.args[0] == case.w}
    if len(convs) != 1 or len(cs) != len(shape) or any(c.shape != cs for c in Cs):
        return None
    conv = next(iter(convs))
    short = [d - c for c, d in zip(cs, shape)]
    if set(conv.stride) != {1} or any(short[:2]) or not any(short) or any(g < 0 or g % 2 for g in short):
        return None
    cut = tuple(slice(g // 2, d - g // 2) for g, d in zip(short, shape))
    if not all_same(Cs, [t[cut] for t in Ts]):
        return None
    K = [int(k) for k in conv.args[1].shape[2:]]
    need = [d * (k - 1) - lo for d, k, (lo, _) in zip(conv.dilation, K, conv.padding)]
    got = [q - g // 2 for q, g in zip(need, short[2:])]
    if len(set(need)) == 1 and len(set(got)) == 1:
        need_t, got_t = str(need[0]), str(got[0])
    else:
        need_t, got_t = str(tuple(need)), str(tuple(got))
    plain = set(conv.dilation) == {1} and all(lo == 0 for lo, _ in conv.padding)
    formula = "K − 1" if plain else "d·(K − 1) − p (dilation d, the forward's padding p)"
    cuts = sorted({g // 2 for g in short[2:]})
    entries = "/".join(map(str, cuts)) + (" entry" if cuts == [1] else " entries")
    example = (" — np.pad(dLdZ, ((0, 0), (0, 0), (K - 1, K - 1))) before correlating with "
               f"{getattr(conv.args[1], 'name', 'W')}[:, :, ::-1]"
               if len(K) == 1 and plain else "")
    return (f"{entries} short on each side: ∂L/∂{case.w.name} is the full convolution of δ with the flipped "
            f"kernel, δ padded by {formula} = {need_t} on each side, and this one pads it by {got_t}{example}.")
