"""torch's ``x.scatter(dim, index, src)``: src's entries written into x at integer positions along an
axis — a mixture of experts' gate matrix from its top-k, ``torch.zeros_like(logits).scatter(1,
topk_idx, topk_gates)`` (twelfth session: an AttributeError).

Written with what symgrad has, so it needs no rule: ``hot = one_hot(index, x.shape[dim])`` marks,
for each entry of index, the position it writes; the output is x where no entry writes, and
Σⱼ src ⊙ hot where one does:

    out = where(Σⱼ hot > 0, Σⱼ src·hot, x)       (j: index's axis ``dim``)

so src's gradient is the output's gradient taken at index, and x's is it where nothing was written.
torch leaves the result of an index repeated within one row unspecified (one of the writes wins);
here the repeated writes of src add up — topk's indices never repeat; those of ``value=`` write the
value once, as torch's. ``index`` has x's shape on every
axis but ``dim`` (torch allows a smaller one) and src index's shape; ``value=`` (a number) for src.

>>> import symgrad as sg
>>> logits = sg.tensor("logits", (4, 6))
>>> vals, idx = logits.topk(2, dim=1)
>>> sg.zeros_like(logits).scatter(1, idx, vals.softmax(-1)).shape
(4, 6)
"""
from __future__ import annotations

import sympy as sp

from ..errors import ArgumentError, IntegerTensorError, ShapeError
from . import tensor as T
from .tensor_expr import BY_LATER_MODULES, _integer_of

__all__ = ["scatter"]


def scatter(x, dim, index, src=None, *, value=None, reduce=None):
    """torch's ``x.scatter(dim, index, src)`` / ``x.scatter(dim, index, value=v)`` (see the module
    docstring); ``reduce=`` is refused (torch deprecates it: ``scatter_reduce``)."""
    x = T._tensor_arg(x, "scatter")
    if reduce is not None:
        raise ArgumentError(f"{x}.scatter(..., reduce={reduce!r}): not supported; a sum of the writes is "
                            f"x.index_add(dim, ids, src) for 1-D ids")
    if (src is None) == (value is None):
        raise ArgumentError(f"{x}.scatter(dim, index, src): give src (a tensor) or value= (a number), one of them")
    i = T.as_expr(index)
    if not (T.is_tensor_expr(i) and _integer_of(i)):
        raise IntegerTensorError(f"scatter: the index must be an integer tensor (torch's LongTensor: topk's "
                                 f"indices, sg.tensor(name, shape, integer=True)), got {index}")
    i = T.as_tensor(i)
    d = T.normalize_axis(dim, x.ndim, "scatter", x)
    same = i.ndim == x.ndim and all(k == d or T.dims_equal(a, b) for k, (a, b) in enumerate(zip(i.shape, x.shape)))
    if not same:
        raise ShapeError(f"scatter: the index {i} of shape {T.fmt(i.shape)} must have x's shape "
                         f"{T.fmt(x.shape)} on every axis but {d} (torch also takes a smaller index; symgrad "
                         f"does not)")
    if src is None:
        src = sp.sympify(value)
    else:
        src = T._tensor_arg(src, "scatter")
        if src.ndim != i.ndim or not all(T.dims_equal(a, b) for a, b in zip(src.shape, i.shape)):
            raise ShapeError(f"scatter: src {src} of shape {T.fmt(src.shape)} must have the index's shape "
                             f"{T.fmt(i.shape)}")
    hot = T.one_hot(i, x.shape[d])                       # index.shape + (C,): where each entry writes
    back = tuple(range(d)) + (x.ndim - 1,) + tuple(range(d, x.ndim - 1))   # the new last axis to d
    written = T.permute(T.sum(hot, axis=d), back)
    if not T.is_tensor_expr(src):          # value=: every write is the same number, however many there are
        return T.where(written > 0, src, x)
    values = T.permute(T.sum(hot * src[..., None], axis=d), back)
    return T.where(written > 0, values, x)


BY_LATER_MODULES["scatter"] = scatter
