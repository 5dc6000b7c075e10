"""Metric-learning losses on pairs and triplets of embeddings, as ``torch.nn.functional`` writes
them, composed of `norm`, `relu` and `minimum` (no rule of their own):

    sg.pairwise_distance(a, b, p=2, eps=1e-6)     F.pairwise_distance: ‖a − b + eps‖ₚ over the last axis
    sg.cdist(x1, x2, p=2)                         torch.cdist: ‖x1[i] − x2[j]‖ₚ for every pair of rows, (…, P, R)
    sg.cosine_embedding_loss(x1, x2, y, margin=0)  F.cosine_embedding_loss: 1 − cos where y = 1,
                                                  max(0, cos − margin) where y = −1
    sg.margin_ranking_loss(x1, x2, y, margin=0)    F.margin_ranking_loss: max(0, −y·(x1 − x2) + margin)
    sg.triplet_margin_loss(anchor, positive, negative, margin=1, p=2, eps=1e-6, swap=False)
                                                  F.triplet_margin_loss: max(d(a, p) − d(a, n) + margin, 0),
                                                  then reduction= (the mean by default)

Contrastive losses need nothing new: InfoNCE / CLIP is ``sg.cross_entropy(za @ zb.T / tau,
sg.eye(N))``, torch's ``F.cross_entropy(logits, torch.arange(N))`` (docs/layers.md).

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> a, p, n = (sg.tensor(s, (N, 4)) for s in "apn")
>>> sg.triplet_margin_loss(a, p, n).shape, sg.pairwise_distance(a, p).shape, sg.cdist(a, p).shape
((), (N,), (N, N))
"""
from __future__ import annotations

import numbers

import sympy as sp

from . import tensor as T
from .keywords import keywords
from .activations import relu
from .tensor_bounds import minimum
from .tensor_norms import norm
from .tensor_softmax import reduce_loss
from ..errors import ArgumentError, ShapeError

__all__ = ["pairwise_distance", "cdist", "cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss"]


def _number(v, name, who, positive=False):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or (positive and not v > 0):
        raise ArgumentError(f"{who}: {name} must be a {'positive ' if positive else ''}number, got {v!r}")
    return v


@keywords()
def pairwise_distance(x1, x2, p=2, eps=1e-6, keepdim=False):
    """``F.pairwise_distance(x1, x2, p, eps, keepdim)``: the p-norm of x1 − x2 + eps over the last
    axis (torch adds eps to the difference, so two equal vectors are eps·n^(1/p) apart)."""
    a, b = T._tensor_arg(x1, "pairwise_distance"), T._tensor_arg(x2, "pairwise_distance")
    shape = T.broadcast_shapes(a.shape, b.shape, names=lambda: [str(a), str(b)])
    if not shape:
        raise ShapeError(f"pairwise_distance: {a} and {b} are scalars; it takes vectors on the last axis")
    return norm(a - b + _number(eps, "eps", "pairwise_distance"), p, axis=-1, keepdims=keepdim)


@keywords()
def cdist(x1, x2, p=2.0):
    """``torch.cdist(x1, x2, p)``: x1 (…, P, M) and x2 (…, R, M) give the (…, P, R) distances
    ‖x1[…, i, :] − x2[…, j, :]‖ₚ (the leading axes broadcast). Written as the norm of the broadcast
    difference, O(P·R·M) entries; at a zero distance the gradient is 0, as torch's. Prototypical
    networks' logits are ``-sg.cdist(queries, prototypes) ** 2``."""
    a, b = T._tensor_arg(x1, "cdist"), T._tensor_arg(x2, "cdist")
    if a.ndim < 2 or b.ndim < 2 or not T.dims_equal(a.shape[-1], b.shape[-1]):
        raise ShapeError(f"cdist: x1 {a} (shape {T.fmt(a.shape)}) and x2 {b} (shape {T.fmt(b.shape)}) must "
                         f"be (…, P, M) and (…, R, M): rows of one length M")
    diff = a.unsqueeze(-2) - b.unsqueeze(-3)                      # (…, P, R, M)
    return norm(diff, p, axis=-1)


@keywords()
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, reduction="mean"):
    """``F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction)``:
    max(d(a, p) − d(a, n) + margin, 0) with d the `pairwise_distance`; ``swap=True`` takes d(a, n) as
    min(d(a, n), d(p, n)) (the distance swap of Balntas et al.). At the hinge (a loss of exactly 0)
    the gradient is relu's, relu'(0) = 1 (torch: 0)."""
    margin = _number(margin, "margin", "triplet_margin_loss")
    if not isinstance(swap, bool):
        raise ArgumentError(f"triplet_margin_loss: swap must be True or False, got {swap!r}")
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_an = minimum(d_an, pairwise_distance(positive, negative, p, eps))
    return reduce_loss(T.as_tensor(relu(d_ap - d_an + margin)), reduction, "triplet_margin_loss")


def _pm_one_targets(x1, x2, y, who):
    """x1, x2 and the ±1 targets y as tensors (integer targets read as reals)."""
    a, b, t = (T._tensor_arg(v, who) for v in (x1, x2, y))
    if getattr(t, "is_integer_tensor", False):
        t = t.float()
    return a, b, t


@keywords()
def cosine_embedding_loss(x1, x2, y, margin=0.0, reduction="mean"):
    """``F.cosine_embedding_loss(x1, x2, y, margin, reduction)``: with cos the cosine of x1 and x2
    over the last axis (torch's: Σ x1·x2 / √((Σ x1² + 1e-12)(Σ x2² + 1e-12))), 1 − cos where y = 1,
    max(0, cos − margin) where y = −1, and 0 for any other y (as torch). y (…) real or integer."""
    who = "cosine_embedding_loss"
    a, b, t = _pm_one_targets(x1, x2, y, who)
    margin = _number(margin, "margin", who)
    eps = sp.Float(1e-12)
    cos = T.sum(a * b, axis=-1) / sp.sqrt((T.sum(a * a, axis=-1) + eps) * (T.sum(b * b, axis=-1) + eps))
    loss = T.where(sp.Eq(t, 1), 1 - cos, 0) + T.where(sp.Eq(t, -1), relu(cos - margin), 0)
    return reduce_loss(T.as_tensor(loss), reduction, who)


@keywords()
def margin_ranking_loss(x1, x2, y, margin=0.0, reduction="mean"):
    """``F.margin_ranking_loss(x1, x2, y, margin, reduction)``: max(0, −y·(x1 − x2) + margin), y = 1
    where x1 should rank higher, −1 where x2 should. At the hinge relu'(0) = 1 (torch: 0)."""
    who = "margin_ranking_loss"
    a, b, t = _pm_one_targets(x1, x2, y, who)
    margin = _number(margin, "margin", who)
    return reduce_loss(T.as_tensor(relu(-t * (a - b) + margin)), reduction, who)
