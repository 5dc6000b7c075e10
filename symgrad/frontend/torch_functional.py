"""torch.nn.functional's names for what symgrad computes already, with torch's arguments, so that a
model written against ``F`` runs on declarations with ``F = sg`` (tests/frontend/test_torch_ports_models.py
writes eight models that way): the losses under torch's names (``mse_loss``, ``l1_loss``,
``smooth_l1_loss``, ``huber_loss``, ``soft_margin_loss``, ``multilabel_soft_margin_loss``,
``hinge_embedding_loss``, ``multi_margin_loss``), the shrink and threshold activations (``celu``,
``softshrink``, ``hardshrink``, ``tanhshrink``, ``threshold``), ``softmin``, ``pixel_unshuffle``,
``channel_shuffle`` and ``bilinear``. Each is a composition of operations that exist; none adds a
primitive.

>>> import symgrad as sg
>>> a, b = sg.tensor("a", (4, 3)), sg.tensor("b", (4, 3))
>>> sg.mse_loss(a, b) == sg.mse(a, b)
True
"""
from __future__ import annotations

import sympy as sp

from ..errors import ArgumentError, ShapeError
from . import functions as F
from . import tensor as T
from .tensor_einsum import einsum
from .tensor_pair_losses import _number as _checked_number
from .tensor_losses import bce_with_logits, huber, l1, mse, multi_margin, smooth_l1
from .tensor_softmax import reduce_loss, softmax

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "hinge_embedding_loss", "multi_margin_loss", "celu", "softshrink",
           "hardshrink", "tanhshrink", "threshold", "softmin", "pixel_unshuffle", "channel_shuffle", "bilinear",
           "flatten"]


def _number(v, who, what, positive=False):
    """``v`` checked as `tensor_pair_losses._number` does, as a SymPy number."""
    v = _checked_number(v, what, who, positive)
    return sp.Float(v) if isinstance(v, float) else sp.Integer(v)


# -- the losses under torch's names and argument order -------------------------------------------------

def mse_loss(input, target, reduction="mean"):
    """F.mse_loss(input, target, reduction="mean"): `mse` on tensors."""
    return mse(input, target, reduction=reduction)


def l1_loss(input, target, reduction="mean"):
    """F.l1_loss(input, target, reduction="mean"): `l1` on tensors."""
    return l1(input, target, reduction=reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """F.smooth_l1_loss(input, target, reduction="mean", beta=1.0): `smooth_l1`."""
    return smooth_l1(input, target, beta=beta, reduction=reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """F.huber_loss(input, target, reduction="mean", delta=1.0): `huber`."""
    return huber(input, target, delta=delta, reduction=reduction)


def soft_margin_loss(input, target, reduction="mean"):
    """F.soft_margin_loss(x, y): log(1 + exp(−y·x)) per entry (y = ±1), softplus(−y·x) in its
    stable form, then ``reduction=``."""
    x, y = T._tensor_arg(input, "soft_margin_loss"), T.as_expr(target, "target")
    return reduce_loss(T.as_tensor(F.softplus(-y * x)), reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input, target, weight=None, reduction="mean"):
    """F.multilabel_soft_margin_loss(x, y, weight): per example the mean over the C classes of
    −[y·log σ(x) + (1 − y)·log σ(−x)] (times ``weight``), then ``reduction=`` over the examples."""
    x = T._tensor_arg(input, "multilabel_soft_margin_loss")
    if x.ndim not in (1, 2):
        raise ShapeError(f"multilabel_soft_margin_loss: input {x} has shape {T.fmt(x.shape)}; it takes (N, C) or (C,)")
    per = bce_with_logits(x, target, weight, reduction="none")
    return reduce_loss(T.mean(per, axis=-1), reduction, "multilabel_soft_margin_loss")


def hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    """F.hinge_embedding_loss(x, y, margin): x where y = 1, max(0, margin − x) where y = −1 (y real
    or integer, ±1), then ``reduction=``."""
    x, y = T._tensor_arg(input, "hinge_embedding_loss"), T.as_expr(target, "target")
    m = _number(margin, "hinge_embedding_loss", "margin")
    per = T.where(sp.Eq(y, 1), x, 0) + T.where(sp.Eq(y, -1), sp.Max(0, m - x), 0)
    return reduce_loss(T.as_tensor(per), reduction, "hinge_embedding_loss")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """F.multi_margin_loss(x, y, p=1, margin=1, weight=None): `multi_margin` (classes on the last
    axis); p = 2 and ``weight=`` are refused by name."""
    if p != 1 or isinstance(p, bool):
        raise ArgumentError(f"multi_margin_loss: p={p!r} is not supported (p=1, the hinge, is); the squared "
                            f"hinge is ((margin - s_y + s) relu'd) ** 2 written out")
    if weight is not None:
        raise ArgumentError("multi_margin_loss: weight= is not supported; multiply the per-example losses "
                            "(reduction='none') by w[y] yourself")
    return multi_margin(input, target, margin=margin, reduction=reduction)


# -- activations -------------------------------------------------------------------------------------

def celu(x, alpha=1.0, inplace=False):
    """F.celu(x, alpha): max(0, x) + min(0, α·(exp(x/α) − 1))."""
    a = _number(alpha, "celu", "alpha", positive=True)
    x = T.as_expr(x, "the argument of celu")
    out = sp.Max(0, x) + sp.Min(0, a * (sp.exp(x / a) - 1))
    return T.as_tensor(out) if T.is_tensor_expr(x) else out


def softshrink(x, lambd=0.5):
    """F.softshrink(x, λ): x − λ where x > λ, x + λ where x < −λ, else 0."""
    lam = _number(lambd, "softshrink", "lambd")
    x = T._tensor_arg(x, "softshrink")
    return T.where(x > lam, x - lam, T.where(x < -lam, x + lam, 0))


def hardshrink(x, lambd=0.5):
    """F.hardshrink(x, λ): x where |x| > λ, else 0."""
    lam = _number(lambd, "hardshrink", "lambd")
    x = T._tensor_arg(x, "hardshrink")
    return T.where(x > lam, x, T.where(x < -lam, x, 0))


def tanhshrink(x):
    """F.tanhshrink(x): x − tanh(x)."""
    x = T._tensor_arg(x, "tanhshrink")
    return T.as_tensor(x - F.tanh(x))


def threshold(x, threshold, value, inplace=False):
    """F.threshold(x, threshold, value): x where x > threshold, else value."""
    t = _number(threshold, "threshold", "threshold")
    v = _number(value, "threshold", "value")
    x = T._tensor_arg(x, "threshold")
    return T.where(x > t, x, v)


def softmin(x, dim=None, *, axis=None):
    """F.softmin(x, dim): softmax(−x) over the axis."""
    return softmax(-T._tensor_arg(x, "softmin"), axis=axis, dim=dim)


# -- shapes and a bilinear form ---------------------------------------------------------------------

def flatten(x, start_dim=0, end_dim=-1):
    """torch.flatten(x, start_dim=0, end_dim=-1) — torchvision's ``x = torch.flatten(x, 1)`` before
    the classifier: ``x.flatten(start_dim, end_dim)``."""
    return T._tensor_arg(x, "flatten").flatten(start_dim, end_dim)


def pixel_unshuffle(x, downscale_factor):
    """F.pixel_unshuffle(x, r): (N, C, H·r, W·r) → (N, C·r², H, W), the inverse of pixel_shuffle."""
    x = T._tensor_arg(x, "pixel_unshuffle")
    r = downscale_factor
    if isinstance(r, bool) or not isinstance(r, int) or r < 1:
        raise ArgumentError(f"pixel_unshuffle: downscale_factor must be a positive integer, got {r!r}")
    if x.ndim != 4 or not all(isinstance(d, int) and d % r == 0 for d in x.shape[2:]):
        raise ShapeError(f"pixel_unshuffle: x {x} has shape {T.fmt(x.shape)}; it takes (N, C, H, W) with H and W "
                         f"divisible by {r}")
    n, c, h, w = x.shape
    y = T.reshape(x, (n, c, h // r, r, w // r, r))
    return T.reshape(T.permute(y, (0, 1, 3, 5, 2, 4)), (n, c * r * r, h // r, w // r))


def channel_shuffle(x, groups):
    """F.channel_shuffle(x, g) (ShuffleNet): (N, C, …) with the channels read as (g, C/g) and
    transposed to (C/g, g)."""
    x = T._tensor_arg(x, "channel_shuffle")
    c = x.shape[1] if x.ndim >= 3 else None
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or not isinstance(c, int) or c % groups:
        raise ShapeError(f"channel_shuffle: x {x} (shape {T.fmt(x.shape)}) and groups={groups!r}: it takes (N, C, …) "
                         f"with C a multiple of the groups")
    rest = tuple(x.shape[2:])
    y = T.reshape(x, (x.shape[0], groups, c // groups) + rest)
    return T.reshape(y.swapaxes(1, 2), x.shape)


def bilinear(input1, input2, weight, bias=None):
    """F.bilinear(x1, x2, W, b) (``nn.Bilinear``): out[…, o] = Σ_ij x1[…, i]·W[o, i, j]·x2[…, j] + b[o]."""
    x1, x2 = T._tensor_arg(input1, "bilinear"), T._tensor_arg(input2, "bilinear")
    w = T._tensor_arg(weight, "bilinear")
    if w.ndim != 3:
        raise ShapeError(f"bilinear: the weight {w} has shape {T.fmt(w.shape)}; it is (out, in1, in2)")
    out = einsum("...i,oij,...j->...o", x1, w, x2)
    return out if bias is None else T.as_tensor(out + bias)
