"""Norms and normalizations of tensors, as torch writes them, composed of reductions and ``ewise``
(so their gradients need no rule of their own):

    sg.norm(x, p=2, axis=None)               torch.linalg.vector_norm / x.norm(p, dim): (Σ |x|ᵖ)^(1/p)
    sg.normalize(x, p=2, axis=1, eps=1e-12)  F.normalize: x / max(‖x‖ₚ, eps) along axis
    sg.cosine_similarity(a, b, axis=1, eps=1e-8)   F.cosine_similarity: Σ (a/max(‖a‖, eps))·(b/max(‖b‖, eps))
    sg.batch_norm(x, running_mean, running_var, weight, bias, training, eps)   F.batch_norm

At a zero vector the p-norm's gradient is 0, as torch's (not the 0/0 of sqrt(Σ x²)'s derivative):
F.normalize and cosine_similarity of a zero vector (a padding position) have finite gradients. ``dim=`` is NumPy's ``axis=`` here (torch's names are the tensor methods'):
``x.norm(dim=1)``.

>>> import sympy as sp, symgrad as sg
>>> x = sg.tensor("x", (4, 3))
>>> sg.norm(x, axis=1).shape
(4,)
"""
from __future__ import annotations

import numbers

import sympy as sp

from . import tensor as T
from .keywords import keywords
from .tensor_bounds import maximum
from ..errors import ArgumentError, ShapeError
from .parse import register_tensor_function as _register_text

__all__ = ["norm", "normalize", "cosine_similarity", "batch_norm"]


def _p(p, who):
    if p in (2, 1) or p == float("inf"):
        return p
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p > 0:
        raise ArgumentError(f"{who}: p must be a positive number or float('inf'), got {p!r}")
    return p


@keywords()
def norm(x, p=2, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """The p-norm over ``axis`` (None: every entry), torch.linalg.vector_norm's: sqrt(Σ x²) for p = 2,
    Σ |x| for 1, max |x| for inf, (Σ |x|ᵖ)^(1/p) otherwise. torch's ``torch.norm(x, dim=1,
    keepdim=True)`` names are taken too (the same meaning). Of a matrix expression (MatrixSymbol),
    the 2-norm of all its entries: sqrt(Trace(zᵀ·z)), so that sg.norm(z)**2 is Trace(zᵀ·z) and its
    gradient reads 2*(W*x - t)*x.T."""
    axis, keepdims = T.torch_reduce_names("norm", axis, keepdims, dim, keepdim)
    if isinstance(x, sp.MatrixExpr) and p == 2 and axis is None and not keepdims:
        from .matrix_functions import text_norm       # a MatrixSymbol's length: sqrt(Trace(zᵀ·z))
        return text_norm(x)
    x = T._tensor_arg(x, "norm")
    p = _p(p, "norm")
    if p == 1:
        return T.sum(abs(x), axis=axis, keepdims=keepdims)
    if p == float("inf"):
        return T.max(abs(x), axis=axis, keepdims=keepdims)
    if p == 2:
        return _root_of_positive(T.sum(x ** 2, axis=axis, keepdims=keepdims), sp.Rational(1, 2))
    return _root_of_positive(T.sum(abs(x) ** p, axis=axis, keepdims=keepdims), sp.S.One / p)


def _root_of_positive(s, e):
    """s^e of a sum s ≥ 0, with gradient 0 where s = 0 (torch's norm at a zero vector), not the 0·∞ =
    NaN of d(s^e)/ds there: where(s > 0, s, 1)^e − where(s > 0, 0, 1) — 1 − 1 = 0 at s = 0, and
    neither term's derivative is infinite anywhere. (Not where(s > 0, …, 0): SymPy folds 1/that,
    weight normalization's v / ‖v‖, into a Piecewise with a complex infinity in its 0 branch, which
    no printer takes; 1/(1 − 1) is inf at run time, as torch's 1/0.)"""
    positive = s > 0
    return T.as_tensor(T.where(positive, s, 1) ** e - T.where(positive, 0, 1))


def _power_of_root(base, k):
    """‖v‖ᵏ as sᵏᐟ² when k·e is a positive integer (norm(W @ x + b)**2 is Σ (W @ x + b)², a
    polynomial): the safe-at-zero form of `_root_of_positive` is needed only for the root itself —
    s^(k·e) is equal to it everywhere, 0 included, and so is its gradient (finite, 0 at s = 0). Its
    gradient then reads 2·(W @ x + b)·xᵀ, not a where/Piecewise over the zero vector. None when
    ``base`` is not such a root or the power is not such an integer."""
    from .tensor_index import Where
    k = sp.sympify(k) if isinstance(k, (int, sp.Integer)) and not isinstance(k, bool) else None
    base = T._unwrap(base) if isinstance(base, T.TensorExpr) else base
    if k is None or not isinstance(base, sp.Add) or len(base.args) != 2:
        return None
    root = next((a for a in base.args if isinstance(a, sp.Pow) and isinstance(a.base, Where)), None)
    if root is None:
        return None
    cond, s, one = root.base.args
    e = root.exp
    if one != 1 or cond != (s > 0) or not (k * e).is_Integer or not k * e > 0:
        return None
    if base != T._unwrap(_root_of_positive(s, e)):
        return None
    return T.as_tensor(T.as_tensor(s) ** (k * e))


@keywords()
def normalize(x, p=2, axis=T.DefaultAxis(1), eps=1e-12, *, dim=None):
    """F.normalize(x, p, dim, eps): x / max(‖x‖ₚ, eps) along ``axis`` (default 1, as torch; torch's
    ``dim=`` is taken)."""
    axis = T.axis_or_dim("normalize", axis, dim)
    x = T._tensor_arg(x, "normalize")
    return x / maximum(norm(x, p, axis=axis, keepdims=True), eps)


@keywords()
def cosine_similarity(a, b, axis=T.DefaultAxis(1), eps=1e-8, *, dim=None):
    """F.cosine_similarity(a, b, dim, eps): Σ over ``axis`` (torch's ``dim=`` is taken) of
    (a / max(‖a‖, eps))·(b / max(‖b‖, eps)), a and b broadcast together (torch's formula since 1.12)."""
    axis = T.axis_or_dim("cosine_similarity", axis, dim)
    a, b = T._tensor_arg(a, "cosine_similarity"), T._tensor_arg(b, "cosine_similarity")
    nd = len(T.broadcast_shapes(a.shape, b.shape, names=lambda: [str(a), str(b)]))
    ax = T.normalize_axis(axis, nd, "cosine_similarity", a)
    ax_a, ax_b = ax - (nd - a.ndim), ax - (nd - b.ndim)
    if ax_a < 0 or ax_b < 0:
        raise ShapeError(f"cosine_similarity: axis {axis} is not an axis of both {a} and {b}")
    ua = a / maximum(norm(a, axis=ax_a, keepdims=True), eps)
    ub = b / maximum(norm(b, axis=ax_b, keepdims=True), eps)
    return T.sum(ua * ub, axis=ax)


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """F.batch_norm, the same arguments. x (N, C, ...): the statistics over every axis but the
    channels (1). training=True: the batch's mean and biased variance (running_mean and
    running_var must be None: a compiled step does not update buffers; compute the running
    statistics outside, from the batch). training=False: the given running statistics (tensors of
    shape (C,), inputs of the program). weight, bias of shape (C,) or None."""
    x = T._tensor_arg(x, "batch_norm")
    if x.ndim < 2 or not isinstance(x.shape[1], int):
        raise ShapeError(f"batch_norm: x {x} has shape {T.fmt(x.shape)}; it takes (N, C, ...) with a fixed C")
    c = x.shape[1]
    col = (1, c) + (1,) * (x.ndim - 2)

    def per_channel(v, name):
        v = T._tensor_arg(v, "batch_norm")
        if tuple(v.shape) != (c,):
            raise ShapeError(f"batch_norm: {name} {v} has shape {T.fmt(v.shape)}; it must be ({c},), one "
                             f"per channel of x {T.fmt(x.shape)}")
        return T.reshape(v, col)
    if not isinstance(training, bool):
        raise ArgumentError(f"batch_norm: training must be True or False, got {training!r}")
    if training:
        if running_mean is not None or running_var is not None:
            raise ArgumentError("batch_norm: training=True with running statistics: torch updates them in "
                                "place, which a compiled step does not do. Pass running_mean=None, "
                                "running_var=None (the batch's statistics are used either way) and keep the "
                                "running averages outside, from x.mean(axis=(0, 2, 3)) and x.var(...)")
        axes = (0,) + tuple(range(2, x.ndim))
        mu, var = T.mean(x, axis=axes, keepdims=True), T.var(x, axis=axes, keepdims=True)
    else:
        if running_mean is None or running_var is None:
            raise ArgumentError("batch_norm: training=False normalises with running_mean and running_var; "
                                "give both (tensors of shape (C,)), or training=True for the batch's statistics")
        mu, var = per_channel(running_mean, "running_mean"), per_channel(running_var, "running_var")
    out = (x - mu) / sp.sqrt(var + eps)
    if weight is not None:
        out = out * per_channel(weight, "weight")
    if bias is not None:
        out = out + per_channel(bias, "bias")
    return T.as_tensor(out)

T.BY_LATER_MODULES["power_of_root"] = _power_of_root   # norm(v)**2 → Σ v², see _power_of_root
# The text's norm(x), norm(x, 1), norm(x, axis=1), torch's norm(x, dim=1, keepdim=True)
_register_text("norm", norm, (1, 3), rest=("number", "axis"),
               keywords={"p": "number", "axis": "axis", "keepdims": "bool", "dim": "axis", "keepdim": "bool"})
T.BY_LATER_MODULES["norm"] = norm              # torch's x.norm(p, dim, keepdim)
