"""The softmax family and cross-entropy over an axis of a tensor, as PyTorch writes them.

``sg.softmax(x, axis)``, ``sg.log_softmax(x, axis)``, ``sg.logsumexp(x, axis, keepdims=False)``, and
``sg.cross_entropy(logits, target, axis=-1, reduction="mean")`` with ``target`` integer labels of the
batch shape (``logits.shape`` without ``axis``) or probabilities of the logits' shape; the mean is
over the batch entries, as ``torch.nn.functional.cross_entropy``. A tensor of two or more axes
without ``axis`` is an `AxisError` (never a silent softmax over every entry). Matrix expressions keep
symgrad's matrix functions (`symgrad.frontend.functions`), unchanged.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> s, y = sg.tensor("s", (N, 3)), sg.tensor("y", (N,), integer=True)
>>> sg.cross_entropy(s, y)
(logsumexp(s, axis=1) - take_along_axis(s, y.reshape(N, 1), axis=1).reshape(N)).mean()
>>> sg.grad(sg.cross_entropy(s, y), s)           # (softmax(s) − one_hot(y)) / N
-one_hot(y, 3)/N + softmax(s, axis=1)/N
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import functions as F
from . import tensor as T
from .tensor_index import _finite_masks
from .keywords import keywords
from .parse import as_expr
from .parse import register_tensor_function as _register_text
from ..errors import ArgumentError, AxisError, IntegerTensorError, ShapeError

__all__ = ["LogSumExpT", "SoftmaxT", "LogSoftmaxT", "softmax", "log_softmax", "logsumexp",
           "cross_entropy"]


class _AxisFunction(T.TensorExpr):
    name = ""

    @property
    def x(self):
        return self.args[0]

    @property
    def axis(self):
        return int(self.args[1])

    def _sympystr(self, printer):
        return f"{self.name}({printer._print(self.x)}, axis={self.axis})"

    def _latex(self, printer):
        return r"\operatorname{%s}_{\text{axis}=%d}\left(%s\right)" % (self.name.replace("_", r"\_"), self.axis,
                                                          printer._print(self.x))


class LogSumExpT(_AxisFunction):
    """logsumexp(x, axis, keepdims): log Σ exp over one axis, computed max-shifted."""

    name = "logsumexp"

    @property
    def keepdims(self):
        return bool(self.args[2])

    @property
    def shape(self):
        return T.reduced_shape(self.x.shape, (self.axis,), self.keepdims)

    def _sympystr(self, printer):
        k = ", keepdims=True" if self.keepdims else ""
        return f"logsumexp({printer._print(self.x)}, axis={self.axis}{k})"


class SoftmaxT(_AxisFunction):
    """softmax(x, axis) = exp(x − logsumexp(x, axis, keepdims=True))."""

    name = "softmax"

    @property
    def shape(self):
        return self.x.shape


class LogSoftmaxT(_AxisFunction):
    """log_softmax(x, axis) = x − logsumexp(x, axis, keepdims=True)."""
    _passes_infinities = True     # a −inf entry reaches the output as it is (see tensor_index._finite_masks)

    name = "log_softmax"

    @property
    def shape(self):
        return self.x.shape


def _axis_of(x, axis, who):
    if axis is None:
        if x.ndim >= 2:
            raise AxisError(f"{who} of {x} with shape {T.fmt(x.shape)}: say over which axis "
                            f"({who}(x, axis=-1) for rows of scores); symgrad does not normalise over "
                            f"every entry of a tensor with two or more axes")
        axis = 0
    return T.normalize_axis(axis, x.ndim, who, x)


def _normalise(cls, matrix_fn, x, axis):
    """``cls(x, axis)`` for a tensor; a matrix expression keeps symgrad's ``matrix_fn`` (no axis=)."""
    if not T.is_tensor_expr(x):
        if axis is not None:
            raise AxisError(f"{cls.name}: axis= is for tensors (sg.tensor); {x} is a matrix expression")
        return matrix_fn(x)
    x = T.as_tensor(x)
    return cls(x, sp.Integer(_axis_of(x, axis, cls.name)))


@keywords()
def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """log Σ exp(x) over ``axis`` of a tensor (a matrix: over every entry, a scalar, as before);
    torch's ``torch.logsumexp(x, dim=, keepdim=)`` names are taken too.

    >>> import symgrad as sg
    >>> sg.logsumexp(sg.tensor("s", (4, 3)), axis=-1).shape
    (4,)
    """
    axis, keepdims = T.torch_reduce_names("logsumexp", axis, keepdims, dim, keepdim)
    if not T.is_tensor_expr(x):
        if axis is not None or keepdims:
            raise AxisError(f"logsumexp: axis= is for tensors (sg.tensor); {x} is a matrix expression")
        return F.logsumexp(x)
    keepdims = T._keepdims(keepdims, "logsumexp")
    x = T.as_tensor(x)
    if isinstance(axis, (tuple, list, sp.Tuple)):
        return _logsumexp_over(x, T._axes(axis, x.ndim, "logsumexp", x), keepdims)
    return LogSumExpT(x, sp.Integer(_axis_of(x, axis, "logsumexp")), sp.true if keepdims else sp.false)


def _logsumexp_over(x, axes, keepdims):
    """log Σ exp(x) over several axes (torch's ``x.logsumexp(dim=(1, 2))``): those axes moved last and
    merged into one by a reshape, then one logsumexp over it (its stable form and softmax gradient)."""
    if len(axes) == 1:
        return logsumexp(x, axes[0], keepdims)
    rest = tuple(i for i in range(x.ndim) if i not in axes)
    merged = T.reshape(T.permute(x, rest + tuple(axes)),
                       tuple(x.shape[i] for i in rest) + (sp.Mul(*[sp.sympify(x.shape[i]) for i in axes]),))
    out = LogSumExpT(merged, sp.Integer(len(rest)), sp.false)
    if keepdims:
        out = T.reshape(out, tuple(1 if i in axes else x.shape[i] for i in range(x.ndim)))
    return T.as_tensor(out)


@keywords()
def softmax(x, axis=None, *, dim=None):
    """softmax over ``axis`` of a tensor (a tensor of two or more axes needs it); torch's
    ``F.softmax(s, dim=-1)`` is the same (``dim=`` is ``axis=``). A matrix expression keeps symgrad's
    column softmax."""
    return _normalise(SoftmaxT, F.softmax, x, _dim_or_axis("softmax", axis, dim))


@keywords()
def log_softmax(x, axis=None, *, dim=None):
    """log softmax over ``axis`` (torch's ``dim=``) of a tensor, computed as x − logsumexp(x, axis)."""
    return _normalise(LogSoftmaxT, F.log_softmax, x, _dim_or_axis("log_softmax", axis, dim))


def _dim_or_axis(who, axis, dim):
    """torch's ``dim=`` of F.softmax / F.log_softmax: NumPy's ``axis=`` (the same meaning)."""
    return T.torch_reduce_names(who, axis, False, dim, None)[0]


# torch's methods s.softmax(dim), s.log_softmax(dim), h.relu(), h.sigmoid() (see TensorExpr)
T.BY_LATER_MODULES.update(softmax=softmax, log_softmax=log_softmax, relu=F.relu, sigmoid=F.sigmoid,
                          logsumexp=logsumexp)

REDUCTIONS = ("mean", "sum", "none")


def reduce_loss(loss, reduction, who: str = "cross_entropy"):
    """The per-entry (or per-example) ``loss`` reduced as torch's ``reduction=`` says; ``who``: the
    loss, named in the error."""
    if reduction == "mean":
        return T.mean(loss)
    if reduction == "sum":
        return T.sum(loss)
    if reduction == "none":
        return loss
    raise ArgumentError(f"{who}: reduction must be one of {list(REDUCTIONS)}, got {reduction!r}")


def _smoothing(eps):
    """torch's ``label_smoothing=``: a number in [0, 1], as torch takes it (ε = 1 is the uniform
    target: the labels no longer matter, and the loss is lse − the mean of the logits)."""
    if isinstance(eps, bool):
        raise ArgumentError(f"cross_entropy: label_smoothing must be a number in [0, 1], got {eps!r}")
    e = as_expr(eps, "label_smoothing")
    if not (e.is_number and e.is_extended_real and 0 <= e <= 1):
        raise ArgumentError(f"cross_entropy: label_smoothing must be a number in [0, 1] (the weight "
                            f"of the uniform distribution mixed into the target), got {eps!r}")
    if e.is_zero or (e - 1).is_zero:    # 0.0 and 1.0 as 0 and 1: the forms without a 0-weighted term
        return sp.Integer(1) if e.is_nonzero else sp.Integer(0)
    return e


def ignored_labels(who, t, ignore_index):
    """torch's ``ignore_index``: the labels ``t`` with those equal to it set to 0 (an integer tensor,
    read as labels) and the mask m, 1.0 where a label is kept and 0.0 where it is ignored; ``None``
    without one. The compiled programs accept exactly this one value beyond 0 … C − 1
    (`symgrad.compiling.batch_kind.ignored_label_values`)."""
    if ignore_index is None:
        return None
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index, (int, np.integer)):
        raise ArgumentError(f"{who}: ignore_index must be a Python integer (torch's default is -100), "
                            f"got {ignore_index!r}")
    v = sp.Integer(int(ignore_index))
    return T.Where(sp.Eq(t, v), sp.Integer(0), t), T.as_tensor(T.where(sp.Eq(t, v), 0.0, 1.0))


def masked_reduce(per, m, w_y, reduction, who):
    """The reduction of the per-entry loss ``per`` with the ignored entries (m = 0) left out, as torch:
    the mean divides by the count of kept entries, Σ m (with class weights by Σ w_y·m). Every entry
    ignored: the mean is 0/0, NaN, as torch's."""
    w = m if w_y is None else T.as_tensor(m * w_y)
    if reduction == "mean":
        return T.sum(T.as_tensor(per * w)) / T.sum(w)
    return reduce_loss(T.as_tensor(per * w), reduction, who)


def class_weights(weight, n, who):
    """torch's ``weight=``: one weight per class, a tensor of shape (n,) (a parameter or an input)
    or n numbers (a constant tensor)."""
    if T.is_tensor_expr(weight):
        w = T.as_tensor(weight)
        if len(w.shape) != 1 or not T.dims_equal(w.shape[0], n):
            raise ShapeError(f"{who}: weight {w} has shape {T.fmt(w.shape)}; it needs one weight per class, ({n},)")
        return w
    if isinstance(weight, (list, tuple)) or (hasattr(weight, "tolist") and not isinstance(weight, sp.Basic)):
        vals = list(weight.tolist() if hasattr(weight, "tolist") else weight)
        if len(vals) != n or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            raise ArgumentError(f"{who}: weight must hold {n} numbers, one per class, got {weight!r}")
        from .tensor_tri import full
        return T.concat([full((1,), v) for v in vals], axis=0)
    raise ArgumentError(f"{who}: weight must be a tensor of shape ({n},) (sg.tensor, given with the inputs) or "
                        f"{n} numbers, got {weight!r}")


def weighted_reduce(per, w_y, reduction, who):
    """torch's reduction with class weights: the mean is Σ w_y·l / Σ w_y (the weights' sum, not the count)."""
    if reduction == "mean":
        return T.sum(T.as_tensor(per * w_y)) / T.sum(w_y)
    return reduce_loss(T.as_tensor(per * w_y), reduction, who)


def _smoothed(x, ax, lse, picked, eps, w, t, m, reduction):
    """Label smoothing with class weights ``w`` and/or ignored entries (mask ``m``), as torch's
    cross_entropy computes it: each entry's loss (1 − ε)·w_y·(lse − s_y) + (ε/C)·Σ_c w_c·(lse − s_c)
    (w = 1 without weights), the ignored ones 0; the mean divides the sum by Σ w_y over the kept
    entries (their count without weights) — both terms by the same, as torch."""
    c = x.shape[ax]
    if w is None:
        smooth, w_y = lse - T.mean(x, axis=ax), None
    else:
        along = [1] * x.ndim
        along[ax] = c
        w_b = T.reshape(w, along)
        smooth = (lse * T.sum(w) - T.sum(T.as_tensor(x * w_b), axis=ax)) / c
        w_y = T.take(w, t, 0)
    nll = lse - picked if w_y is None else T.as_tensor((lse - picked) * w_y)
    per = T.as_tensor(smooth if eps == 1 else (1 - eps) * nll + eps * smooth)
    if m is not None:
        per = T.as_tensor(per * m)
    if reduction != "mean":
        return reduce_loss(per, reduction)
    kept = (m if w_y is None else T.as_tensor(m * w_y)) if m is not None else w_y
    return T.sum(per) / T.sum(kept)


def cross_entropy(logits, target, axis=None, reduction="mean", label_smoothing=0, *, ignore_index=None,
                  weight=None):
    """Softmax cross-entropy of ``logits`` over ``axis``, as ``torch.nn.functional.cross_entropy``
    (classes on ``axis``, default the last): ``target`` an integer tensor of the batch shape
    (labels) or a real tensor of the logits' shape (probabilities); ``reduction`` "mean" (over
    the batch entries), "sum" or "none". Matrix expressions keep symgrad's per-example form.

    ``label_smoothing`` ε in [0, 1], torch's: the target becomes (1 − ε)·target + ε/C (C the
    classes), so with labels each example's loss is (1 − ε)(lse − s_y) + ε(lse − mean_c s_c); with
    ``weight`` and ``ignore_index`` too, as torch combines them (`_smoothed`).
    ``weight`` (with labels): torch's class weights, each example's loss times w[y], the mean
    Σ w_y·l / Σ w_y. ``ignore_index`` (with labels), torch's: the entries whose label equals it add
    nothing, and the mean divides by the count of the others (with ``weight``, by the sum of their
    weights); every label ignored, the mean is NaN, as torch's.

    >>> import symgrad as sg
    >>> s, t = sg.tensor("s", (4, 3)), sg.tensor("t", (4, 3))
    >>> sg.cross_entropy(s, t, reduction="sum")
    (-log_softmax(s, axis=1)*t).sum(axis=1).sum()
    """
    eps = _smoothing(label_smoothing)
    if not T.is_tensor_expr(logits):
        if eps != 0:
            raise ArgumentError(f"cross_entropy: label_smoothing= is for tensors (sg.tensor); {logits} "
                                f"is a matrix expression (smooth its target instead)")
        return F.cross_entropy(logits, target)
    x = T.as_tensor(logits)
    if x.ndim == 0:
        raise ShapeError(f"cross_entropy: the logits {x} must have a class axis")
    ax = T.normalize_axis(-1 if axis is None else axis, x.ndim, "cross_entropy", x)
    batch = T.reduced_shape(x.shape, (ax,))
    target = as_expr(target)
    if T.is_tensor_expr(target) and getattr(target, "is_integer_tensor", False):
        t = T.as_tensor(target)

        def fits(b):
            return len(t.shape) == len(b) and all(T.dims_equal(u, v) for u, v in zip(t.shape, b))
        torch_batch = T.reduced_shape(x.shape, (1,)) if x.ndim >= 3 else None
        if axis is None and torch_batch is not None and fits(torch_batch) and fits(batch):
            # (N, C, T) logits with C = T: torch's classes (dim 1) and symgrad's default (the last axis)
            # both fit the labels, and give different losses
            raise ArgumentError(f"cross_entropy: logits {T.fmt(x.shape)} and labels {T.fmt(t.shape)} fit "
                                f"classes on axis 1 (torch's F.cross_entropy) and on the last axis "
                                f"(symgrad's default) alike: pass axis=1 or axis=-1")
        if not fits(batch):
            hint = (" — torch's F.cross_entropy takes the classes on axis 1: pass axis=1"
                    if axis is None and torch_batch is not None and fits(torch_batch) else "")
            raise ShapeError(f"cross_entropy: integer labels {t} have shape {T.fmt(t.shape)}; with "
                             f"logits {T.fmt(x.shape)} and classes on axis {ax} they need the batch "
                             f"shape {T.fmt(batch)}{hint}")
        s = list(batch)
        s.insert(ax, 1)
        ignored = ignored_labels("cross_entropy", t, ignore_index)
        if ignored is not None:
            t, m = ignored
        picked = T.take_along_axis(x, T.reshape(t, s), ax).reshape(batch)
        lse = LogSumExpT(x, sp.Integer(ax), sp.false)
        if eps != 0 and (weight is not None or ignored is not None):
            w = None if weight is None else class_weights(weight, x.shape[ax], "cross_entropy")
            return _smoothed(x, ax, lse, picked, eps, w, t, None if ignored is None else m, reduction)
        if weight is not None:
            w_y = T.take(class_weights(weight, x.shape[ax], "cross_entropy"), t, 0)
            if ignored is not None:
                return masked_reduce(lse - picked, m, w_y, reduction, "cross_entropy")
            return weighted_reduce(lse - picked, w_y, reduction, "cross_entropy")
        if ignored is not None:
            return masked_reduce(lse - picked, m, None, reduction, "cross_entropy")
        if eps == 0:
            return reduce_loss(lse - picked, reduction)
        if eps == 1:                    # the uniform target: the labels drop out (no 0·s_y term)
            return reduce_loss(T.as_tensor(lse - T.mean(x, axis=ax)), reduction)
        loss = lse - (1 - eps) * picked - eps * T.mean(x, axis=ax)      # −Σ_c log_softmax / C
        return reduce_loss(T.as_tensor(loss), reduction)
    if ignore_index is not None:
        raise ArgumentError(f"cross_entropy: ignore_index={ignore_index!r} applies to integer labels; the "
                            f"target {target} is not an integer tensor (sg.tensor(name, shape, integer=True))")
    if weight is not None:
        raise ArgumentError("cross_entropy: weight= is supported with integer labels; with probabilities "
                            "multiply the target by the weights yourself: sg.cross_entropy(s, t * w, "
                            "reduction=...)")
    if not T.is_tensor_expr(target):
        raise IntegerTensorError(f"cross_entropy: the target {target} must be a tensor: integer labels "
                                 f"(sg.tensor(name, batch shape, integer=True)) or probabilities")
    t = T.as_tensor(target)
    # a real target of the batch shape is labels declared without integer=True — also where it would
    # broadcast against the logits over a symbolic size (square (N, N) logits: NT-Xent's similarities),
    # where it was taken for one probability row over N classes, silently (torch's probabilities have
    # the logits' shape). With sizes that are numbers, a (3,) row over (3, 3) logits stays a target.
    of_batch_shape = len(t.shape) == len(batch) and all(T.dims_equal(a, b) for a, b in zip(t.shape, batch))
    try:
        if of_batch_shape and not all(isinstance(d, int) for d in batch):
            raise ShapeError("labels")
        T.broadcast_shapes(t.shape, x.shape, names=lambda: [str(t), str(x)])
    except ShapeError:
        if of_batch_shape:
            # y = sg.tensor("y", (N,)) meant as labels: a real tensor of the batch shape is neither
            name = repr(t.name) if isinstance(t, T.Tensor) else "name"
            raise IntegerTensorError(f"cross_entropy: the target {t} has the batch shape {T.fmt(t.shape)} but "
                                     f"is not an integer tensor: class labels are declared sg.tensor({name}, "
                                     f"{T.fmt(t.shape)}, integer=True); probabilities have the logits' shape "
                                     f"{T.fmt(x.shape)}") from None
        raise
    if eps == 1:                        # the uniform target 1/C: Σ_c −log_softmax / C
        per = T.as_tensor(LogSumExpT(x, sp.Integer(ax), sp.false) - T.mean(x, axis=ax))
        return reduce_loss(per, reduction)
    if eps != 0:
        t = T.as_tensor((1 - eps) * t + eps / x.shape[ax])
    # a −inf mask read as −1e30: 0·log_softmax = 0 at a masked class (NT-Xent's self-similarity), not
    # 0·(−inf) = NaN; the log_softmax of the other classes is the same
    per = T.sum(-t * LogSoftmaxT(_finite_masks(x), sp.Integer(ax)), axis=ax)
    return reduce_loss(per, reduction)


# The text reads these of a tensor (symgrad/frontend/parse.py): softmax(s, axis=1), cross_entropy(s, y)
_register_text("softmax", softmax, keywords={"axis": "axis"})
_register_text("log_softmax", log_softmax, keywords={"axis": "axis"})
_register_text("logsumexp", logsumexp)
# cross_entropy(s, y, ignore_index=0, reduction="sum", label_smoothing=0.1, weight=w): torch's keywords
_register_text("cross_entropy", cross_entropy, (2, 3), rest=("operand", "axis"),
               keywords={"axis": "axis", "reduction": "reduction", "label_smoothing": "number",
                         "ignore_index": "label", "weight": "operand"})
