"""The losses on tensors, as ``torch.nn.functional`` writes them: ``reduction=`` ("mean" by
default, "sum", "none") and, for the losses over a class or distribution axis, ``axis=``.

    sg.mse(yhat, y)                    F.mse_loss        mean of (ŷ − y)²
    sg.l1(yhat, y)                     F.l1_loss         mean of |ŷ − y|
    sg.bce(p, y)                       F.binary_cross_entropy   mean of −[y log p + (1 − y) log(1 − p)]
    sg.hinge(score, y)                 mean of max(0, 1 − y·score), labels y ∈ {−1, +1}
    sg.kl_div(p, q, axis=-1)           F.kl_div(q.log(), p, reduction="batchmean") for (N, C):
                                       Σ over axis of p log(p / q), then the mean over the batch
    sg.huber(yhat, y, delta=1)         F.huber_loss      mean of ½d² for |d| < δ, else δ(|d| − ½δ); d = ŷ − y
    sg.smooth_l1(yhat, y, beta=1)      F.smooth_l1_loss  the huber loss divided by β (β = 0: l1)
    sg.multi_margin(s, y, axis=-1)     F.multi_margin_loss (cs231n's SVM loss divided by C):
                                       Σ_{c ≠ y} max(0, margin − s_y + s_c) / C, integer labels y

A scalar or a matrix expression keeps symgrad's per-example form (`symgrad.frontend.functions`:
½‖ŷ − y‖² for mse, sums rather than means), where ``reduction=`` and ``axis=`` are errors.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> yhat, y = sg.tensor("yhat", (N, 3)), sg.tensor("y", (N, 3))
>>> sg.mse(yhat, y)
((-y + yhat)**2).mean()
>>> sg.grad(sg.mse(yhat, y, reduction="sum"), yhat)
2*(-y + yhat)
"""
from __future__ import annotations

import sympy as sp

from . import functions as F
from . import tensor as T
from .keywords import check_keywords
from .parse import as_expr
from .parse import register_tensor_function as _register_text
from . import tensor_softmax as TS
from .tensor_softmax import reduce_loss as _reduce
from .tensor_softmax import class_weights, ignored_labels, masked_reduce, weighted_reduce
from ..errors import ArgumentError, IntegerTensorError, ShapeError

__all__ = ["mse", "l1", "bce", "hinge", "huber", "smooth_l1", "kl_div", "multi_margin", "bce_with_logits",
           "binary_cross_entropy_with_logits", "nll_loss"]


def _pair(a, b, names, who):
    """The two operands as tensors of one broadcast shape; None when neither is a tensor (then the
    matrix or scalar form applies)."""
    a, b = as_expr(a, names[0]), as_expr(b, names[1])
    if not (T.is_tensor_expr(a) or T.is_tensor_expr(b)):
        return None
    for v, n in ((a, names[0]), (b, names[1])):
        if getattr(v, "is_integer_tensor", False):
            raise IntegerTensorError(f"{who}: {n} = {v} is an integer tensor; {who} takes real values "
                                     f"(declare it integer=False)")
    T.broadcast_shapes(T.shape_of(a), T.shape_of(b), names=[str(a), str(b)])
    return T.as_tensor(a), T.as_tensor(b)


def _plain(who, matrix_fn, a, b, reduction, axis=None):
    """A scalar or matrix pair: symgrad's per-example loss; reduction= and axis= are for tensors."""
    if reduction is not None or axis is not None:
        raise ArgumentError(f"{who}: reduction= and axis= are for tensors (sg.tensor); {a} and {b} are "
                            f"not tensors, and their loss is the per-example {who} (a sum)")
    return matrix_fn(a, b)


def mse(yhat, y, reduction=None):
    """The squared error: on tensors ``F.mse_loss`` — the mean of (ŷ − y)² over every entry
    (``reduction="sum"``: the sum; "none": per entry). On a scalar or a matrix, ½‖ŷ − y‖² as in the
    lecture notes.

    >>> import symgrad as sg
    >>> sg.mse(sg.tensor("a", (2, 3)), sg.tensor("b", (2, 3)), reduction="none").shape
    (2, 3)
    """
    pair = _pair(yhat, y, ("yhat", "y"), "mse")
    if pair is None:
        return _plain("mse", F.mse, yhat, y, reduction)
    a, b = pair
    return _reduce(T.as_tensor((a - b) ** 2), reduction or "mean", "mse")


def l1(yhat, y, reduction=None):
    """The absolute error: on tensors ``F.l1_loss`` (mean of |ŷ − y|); on matrices ‖ŷ − y‖₁.

    >>> import symgrad as sg
    >>> sg.l1(sg.tensor("a", (4,)), sg.tensor("b", (4,)))
    Abs(a - b).mean()
    """
    pair = _pair(yhat, y, ("yhat", "y"), "l1")
    if pair is None:
        return _plain("l1", F.l1, yhat, y, reduction)
    a, b = pair
    return _reduce(T.as_tensor(sp.Abs(a - b)), reduction or "mean", "l1")


def bce(p, y, reduction=None):
    """Binary cross-entropy of probabilities ``p`` and targets ``y``: on tensors
    ``F.binary_cross_entropy`` (the mean of −[y log p + (1 − y) log(1 − p)]); on matrices the sum.

    >>> import symgrad as sg
    >>> sg.bce(sg.tensor("p", (4,)), sg.tensor("y", (4,)), reduction="sum")
    (-(1 - y)*log(1 - p) - log(p)*y).sum()
    """
    pair = _pair(p, y, ("p", "y"), "bce")
    if pair is None:
        return _plain("bce", F.bce, p, y, reduction)
    p, y = pair
    return _reduce(T.as_tensor(-y * sp.log(p) - (1 - y) * sp.log(1 - p)), reduction or "mean", "bce")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """torch's ``F.binary_cross_entropy(input, target, weight=None, reduction="mean")`` (its argument
    order: ``weight`` third): `bce` of the probabilities ``input`` with ``target``, each entry times
    ``weight`` (a number or a tensor broadcast with input) when given. Computed exactly, where torch
    clamps each log at −100 (a saturated sigmoid reads 100 there and passes no gradient); of logits,
    `bce_with_logits` is the stable form.

    >>> import symgrad as sg
    >>> p, y = sg.tensor("p", (4,)), sg.tensor("y", (4,))
    >>> sg.binary_cross_entropy(p, y, reduction="sum") == sg.bce(p, y, reduction="sum")
    True
    """
    if weight is None:
        return bce(input, target, reduction)
    pair = _pair(input, target, ("input", "target"), "binary_cross_entropy")
    if pair is None:
        raise ArgumentError("binary_cross_entropy: weight= is for tensors (sg.tensor); of matrices write "
                            "sg.bce(p, y) and weigh the entries yourself")
    p, y = pair
    w = as_expr(weight, "weight")
    if T.is_tensor_expr(w):
        T.broadcast_shapes(T.shape_of(w), p.shape, names=lambda: [f"weight {w}", str(p)])
    per = T.as_tensor((-y * sp.log(p) - (1 - y) * sp.log(1 - p)) * w)
    return _reduce(per, reduction, "binary_cross_entropy")


def hinge(score, y, reduction=None):
    """The binary hinge loss max(0, 1 − y·score) with labels y ∈ {−1, +1}: on tensors its mean
    (``reduction=``), on matrices the sum. For the multi-class SVM loss see `multi_margin`.

    >>> import symgrad as sg
    >>> sg.hinge(sg.tensor("s", (4,)), sg.tensor("y", (4,)), reduction="sum")
    Max(0, -s*y + 1).sum()
    """
    pair = _pair(score, y, ("score", "y"), "hinge")
    if pair is None:
        return _plain("hinge", F.hinge, score, y, reduction)
    s, y = pair
    return _reduce(T.as_tensor(sp.Max(0, 1 - y * s)), reduction or "mean", "hinge")


def _tensor_pair(yhat, y, who):
    pair = _pair(yhat, y, ("yhat", "y"), who)
    if pair is None:
        raise ArgumentError(f"{who}: for tensors (sg.tensor); {yhat} and {y} are not tensors")
    return pair


def _positive(v, name, who, zero_ok=False):
    v = as_expr(v, name)
    if not v.is_number or not v.is_extended_real or v < 0 or (v == 0 and not zero_ok):
        raise ArgumentError(f"{who}: {name} must be a number {'>= 0' if zero_ok else '> 0'}, got {v}")
    return v


def huber(yhat, y, delta=1, reduction="mean"):
    """The Huber loss, ``F.huber_loss(yhat, y, delta=)``: with d = ŷ − y, ½d² where |d| < δ, else
    δ(|d| − ½δ), then ``reduction=``. Its gradient is d inside, δ·sign(d) outside (continuous at
    |d| = δ, so no kink to choose a value at). Tensors only; δ > 0.

    >>> import symgrad as sg
    >>> sg.huber(sg.tensor("a", (4,)), sg.tensor("b", (4,)), delta=2, reduction="sum")
    where(Abs(a - b) < 2, (a - b)**2/2, 2*Abs(a - b) - 2).sum()
    """
    a, b = _tensor_pair(yhat, y, "huber")
    delta = _positive(delta, "delta", "huber")
    d = a - b
    per = T.where(sp.Abs(d) < delta, d ** 2 / 2, delta * (sp.Abs(d) - delta / 2))
    return _reduce(T.as_tensor(per), reduction, "huber")


def smooth_l1(yhat, y, beta=1, reduction="mean"):
    """The smooth L1 loss, ``F.smooth_l1_loss(yhat, y, beta=)``: with d = ŷ − y, ½d²/β where
    |d| < β, else |d| − ½β (the Huber loss divided by β); β = 0 is the L1 loss, as torch.

    >>> import symgrad as sg
    >>> sg.smooth_l1(sg.tensor("a", (4,)), sg.tensor("b", (4,)), reduction="sum")
    where(Abs(a - b) < 1, (a - b)**2/2, Abs(a - b) - 1/2).sum()
    """
    a, b = _tensor_pair(yhat, y, "smooth_l1")
    beta = _positive(beta, "beta", "smooth_l1", zero_ok=True)
    d = a - b
    if beta == 0:
        return _reduce(T.as_tensor(sp.Abs(d)), reduction, "smooth_l1")
    per = T.where(sp.Abs(d) < beta, d ** 2 / (2 * beta), sp.Abs(d) - beta / 2)
    return _reduce(T.as_tensor(per), reduction, "smooth_l1")


def _log_probabilities(v) -> bool:
    """A log-softmax or a log(...): what torch's F.kl_div takes as its input, never a probability."""
    v = v.expr if isinstance(v, T.Ewise) else v
    return isinstance(v, TS.LogSoftmaxT) or isinstance(v, sp.log)


def _log(v):
    """log v; of a softmax, its log_softmax (x − lse(x)): exact where the softmax underflows to 0 (a
    logit 800 below the largest in float64, about 100 in float32), where log of it is −inf and the
    gradient NaN — distillation's sg.kl_div(p, sg.softmax(s / T, axis=-1)). (A log(softmax) the user
    writes out stays as written: sg.log_softmax is its stable spelling.)"""
    if isinstance(v, TS.SoftmaxT):
        return TS.log_softmax(v.x, axis=v.axis)
    return sp.log(v)


def _torch_kl_div_message(what) -> str:
    return (f"kl_div: {what}. sg.kl_div(p, q) takes two distributions, the target first: KL(p ‖ q) = "
            f"Σ p·log(p/q). torch's F.kl_div(input, target) takes the log-probabilities of q first, the "
            f"target second: F.kl_div(F.log_softmax(s, -1), p, reduction='batchmean') is "
            f"sg.kl_div(p, sg.softmax(s, axis=-1)) (the log of a softmax argument is taken as its log_softmax, "
            f"as stably), and with log_target=True, F.kl_div(F.log_softmax(s, -1), F.log_softmax(t, -1), ...) "
            f"is sg.kl_div(sg.softmax(t, axis=-1), sg.softmax(s, axis=-1))")


def kl_div(p, q, axis=None, reduction=None, **torch_keywords):
    """KL(p ‖ q) = Σ p log(p / q) over ``axis`` (default the last) of distributions ``p`` and
    ``q``, then reduced over the batch: "mean" (default), "sum", or "none" (one value per
    distribution); "batchmean" is torch's name for the mean over the first axis of an (N, C) input,
    the same thing. As ``F.kl_div(q.log(), p, reduction="batchmean")`` for (N, C) inputs. On
    matrices, the sum over every entry (a column is one distribution).

    >>> import symgrad as sg
    >>> p, q = sg.tensor("p", (4, 3)), sg.tensor("q", (4, 3))
    >>> sg.kl_div(p, q).shape, sg.kl_div(p, q, reduction="none").shape
    ((), (4,))
    """
    if torch_keywords:
        if "log_target" not in torch_keywords:
            check_keywords("kl_div", torch_keywords, ["p", "q", "axis", "reduction"])
        raise ArgumentError(_torch_kl_div_message("log_target= is torch's F.kl_div's keyword"))
    pair = _pair(p, q, ("p", "q"), "kl_div")
    if pair is None:
        return _plain("kl_div", F.kl_div, p, q, reduction, axis)
    p, q = pair
    for v, name in ((p, "p"), (q, "q")):     # torch's order would be a NaN loss (log of a negative)
        if _log_probabilities(v):
            raise ArgumentError(_torch_kl_div_message(f"{name} = {v} is a log-probability (torch's "
                                                      f"F.kl_div input), not a distribution"))
    per_entry = T.as_tensor(p * (_log(p) - _log(q)))
    if per_entry.ndim == 0:
        raise ShapeError(f"kl_div: p = {p} and q = {q} are scalars; a distribution needs an axis")
    ax = T.normalize_axis(-1 if axis is None else axis, per_entry.ndim, "kl_div", per_entry)
    reduction = reduction or "mean"
    if reduction == "batchmean":
        return T.sum(per_entry) / per_entry.shape[0]
    return _reduce(T.sum(per_entry, axis=ax), reduction, "kl_div")


def multi_margin(scores, y, axis=-1, margin=1, reduction="mean"):
    """The multi-class SVM (hinge) loss with integer labels ``y`` of the batch shape, as
    ``F.multi_margin_loss``: Σ_{c ≠ y} max(0, margin − s_y + s_c) / C per example (C the classes on
    ``axis``), then ``reduction=``. cs231n's ``svm_loss`` is C times this (it does not divide by C).

    >>> import sympy as sp, symgrad as sg
    >>> N = sp.Symbol("N", integer=True, positive=True)
    >>> s, y = sg.tensor("s", (N, 4)), sg.tensor("y", (N,), integer=True)
    >>> sg.multi_margin(s, y).shape
    ()
    """
    s = as_expr(scores, "scores")
    if not T.is_tensor_expr(s):
        raise ArgumentError(f"multi_margin: the scores {s} must be a tensor (sg.tensor) with a class axis")
    s = T.as_tensor(s)
    if s.ndim == 0:
        raise ShapeError(f"multi_margin: the scores {s} must have a class axis")
    ax = T.normalize_axis(axis, s.ndim, "multi_margin", s)
    batch = T.reduced_shape(s.shape, (ax,))
    y = as_expr(y, "y")
    if not (T.is_tensor_expr(y) and getattr(y, "is_integer_tensor", False)):
        raise IntegerTensorError(f"multi_margin: the labels {y} must be an integer tensor of the batch "
                                 f"shape {T.fmt(batch)} (sg.tensor(name, shape, integer=True))")
    y = T.as_tensor(y)
    if not (len(y.shape) == len(batch) and all(T.dims_equal(a, b) for a, b in zip(y.shape, batch))):
        raise ShapeError(f"multi_margin: labels {y} have shape {T.fmt(y.shape)}; scores {T.fmt(s.shape)} "
                         f"with classes on axis {ax} need the batch shape {T.fmt(batch)}")
    keep = list(batch)
    keep.insert(ax, 1)
    correct = T.take_along_axis(s, T.reshape(y, keep), ax)           # s_y, kept as a size-1 axis
    classes = s.shape[ax]
    others = 1 - T.one_hot(y, classes, axis=ax)                      # c ≠ y
    margins = T.as_tensor(sp.Max(0, margin - correct + s) * others)
    return _reduce(T.sum(margins, axis=ax) / classes, reduction, "multi_margin")


def bce_with_logits(logits, y, weight=None, reduction="mean", pos_weight=None):
    """``F.binary_cross_entropy_with_logits(s, y, weight, reduction=, pos_weight=)`` (the same
    argument order): per entry (1 − y)·s + (1 + (pw − 1)·y)·softplus(−s), softplus in its stable form,
    times ``weight``; ``pos_weight`` (one per class, the last axis) and ``weight`` broadcast with s
    (numbers, or tensors given with the inputs). Without them it is softplus(s) − y·s.

    >>> import symgrad as sg
    >>> s, y = sg.tensor("s", (4, 2)), sg.tensor("y", (4, 2))
    >>> sg.bce_with_logits(s, y, reduction="sum")
    (softplus(s) - s*y).sum()
    """
    s, t = _tensor_pair(logits, y, "bce_with_logits")
    if pos_weight is None:
        per = F.softplus(s) - t * s
    else:
        pw = as_expr(pos_weight, "pos_weight")
        if T.is_tensor_expr(pw):
            T.broadcast_shapes(T.shape_of(pw), s.shape, names=lambda: [f"pos_weight {pw}", str(s)])
        per = (1 - t) * s + (1 + (pw - 1) * t) * F.softplus(-s)
    if weight is not None:
        w = as_expr(weight, "weight")
        if T.is_tensor_expr(w):
            T.broadcast_shapes(T.shape_of(w), s.shape, names=lambda: [f"weight {w}", str(s)])
        per = per * w
    return _reduce(T.as_tensor(per), reduction, "bce_with_logits")


binary_cross_entropy_with_logits = bce_with_logits      # torch's name


def nll_loss(logp, y, weight=None, ignore_index=None, reduction="mean", axis=1):
    """``F.nll_loss(logp, y)``: −logp at the integer labels y, classes on ``axis`` (1, as torch),
    then ``reduction=``. With ``logp = sg.log_softmax(s, axis=1)`` it is ``sg.cross_entropy(s, y,
    axis=1)``. ``weight``: torch's class weights (the mean Σ w_y·l / Σ w_y); ``ignore_index``: torch's,
    the entries with that label add nothing and the mean divides by the count (or the weights) of the others.

    >>> import sympy as sp, symgrad as sg
    >>> N = sp.Symbol("N", integer=True, positive=True)
    >>> sg.nll_loss(sg.tensor("lp", (N, 3)), sg.tensor("y", (N,), integer=True))
    (-take_along_axis(lp, y.reshape(N, 1), axis=1).reshape(N)).mean()
    """
    x = T._tensor_arg(logp, "nll_loss")
    if x.ndim == 0:
        raise ShapeError(f"nll_loss: the log-probabilities {x} must have a class axis")
    ax = T.normalize_axis(axis, x.ndim, "nll_loss", x)
    batch = T.reduced_shape(x.shape, (ax,))
    t = T._int_tensor_arg(y, "nll_loss")
    if not (len(t.shape) == len(batch) and all(T.dims_equal(a, b) for a, b in zip(t.shape, batch))):
        raise ShapeError(f"nll_loss: labels {t} have shape {T.fmt(t.shape)}; with log-probabilities "
                         f"{T.fmt(x.shape)} and classes on axis {ax} they need the batch shape {T.fmt(batch)}")
    s = list(batch)
    s.insert(ax, 1)
    ignored = ignored_labels("nll_loss", t, ignore_index)
    if ignored is not None:
        t, m = ignored
    picked = T.take_along_axis(x, T.reshape(t, s), ax).reshape(batch)
    if ignored is not None:
        w_y = None if weight is None else T.take(class_weights(weight, x.shape[ax], "nll_loss"), t, 0)
        return masked_reduce(-picked, m, w_y, reduction, "nll_loss")
    if weight is not None:
        return weighted_reduce(-picked, T.take(class_weights(weight, x.shape[ax], "nll_loss"), t, 0), reduction,
                               "nll_loss")
    return _reduce(T.as_tensor(-picked), reduction, "nll_loss")


# The text reads nll_loss of a tensor (symgrad/frontend/parse.py), with torch's keywords:
# nll_loss(log_softmax(s, axis=1), y, ignore_index=0, reduction="sum", weight=w)
_register_text("nll_loss", nll_loss, (2, 2), rest=("operand",),
               keywords={"weight": "operand", "ignore_index": "label", "reduction": "reduction", "axis": "axis"})

T.BY_LATER_MODULES["xlogy"] = F.xlogy          # torch's x.xlogy(y) on a tensor, entry by entry
