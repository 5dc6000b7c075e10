"""Diagonals of tensors as torch and NumPy write them, through `sg.einsum`'s diagonal (x ⊙ I summed),
so their gradients need no rule (twelfth session: each was an AttributeError):

    sg.diagonal(x, offset=0, dim1=0, dim2=1)   torch.diagonal / np.diagonal: the (offset) diagonal of
                                               the axes dim1, dim2, as a last axis (NumPy's axis1=, axis2=)
    sg.diag(x, diagonal=0)                     torch.diag / np.diag: of a vector the square matrix with
                                               it on the diagonal, of a matrix its diagonal
    sg.trace(x)                                torch.trace: the sum of a matrix's diagonal

and the methods ``x.diagonal()``, ``x.diag()``, ``x.trace()``. CLIP's and InfoNCE's positives are
``logits.diagonal()`` (``-logits.diag().mean() + logits.logsumexp(1).mean()``); a KL between full
Gaussians has a trace. Of a matrix expression (MatrixSymbol), ``sg.diag`` is SymPy's DiagMatrix of a
column or row and DiagonalOf of a square matrix (as the text grammar's ``diag``), ``sg.trace`` SymPy's
Trace.

>>> import symgrad as sg
>>> s = sg.tensor("s", (4, 4))
>>> s.diagonal().shape, sg.diag(sg.tensor("v", (3,))).shape, s.trace().shape
((4,), (3, 3), ())
"""
from __future__ import annotations

import numbers

import sympy as sp

from ..errors import ArgumentError, ShapeError
from . import tensor as T
from .matrix_diagonal import DiagonalOf
from .tensor_einsum import einsum

__all__ = ["diagonal", "diag", "trace"]


def _offset(k, who):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ArgumentError(f"{who}: the diagonal's offset must be an integer, got {k!r}")
    return int(k)


def diagonal(x, offset=0, dim1=0, dim2=1, *, axis1=None, axis2=None):
    """torch.diagonal(x, offset, dim1, dim2) / np.diagonal(x, offset, axis1, axis2): the entries
    x[..., i, ..., i + offset, ...] of the two axes, as a new last axis (the other axes kept in order)."""
    x = T._tensor_arg(x, "diagonal")
    dim1, dim2 = (dim1 if axis1 is None else axis1), (dim2 if axis2 is None else axis2)
    if x.ndim < 2:
        raise ShapeError(f"diagonal of {x} with shape {T.fmt(x.shape)}: it takes two axes or more "
                         f"(sg.diag(v) makes the diagonal matrix of a vector)")
    a, b = (T.normalize_axis(d, x.ndim, "diagonal", x) for d in (dim1, dim2))
    if a == b:
        raise ArgumentError(f"diagonal: dim1 and dim2 are the same axis ({dim1}, {dim2})")
    k = _offset(offset, "diagonal")
    rest = tuple(i for i in range(x.ndim) if i not in (a, b))
    x = T.permute(x, rest + (a, b))
    n, m = x.shape[-2], x.shape[-1]
    lead = (slice(None),) * len(rest)
    if k or not T.dims_equal(n, m):
        if not all(isinstance(d, int) for d in (n, m)):
            raise ShapeError(f"diagonal: an offset diagonal, or one of axes of unequal sizes ({n}, {m}), "
                             f"needs their sizes as numbers")
        length = max(0, min(n - max(-k, 0), m - max(k, 0)))
        if length == 0:
            raise ShapeError(f"diagonal: the offset {k} leaves no entry of the ({n}, {m}) axes")
        x = x[lead + (slice(max(-k, 0), max(-k, 0) + length), slice(max(k, 0), max(k, 0) + length))]
    return einsum("...ii->...i", x)


def diag(x, diagonal=0):
    """torch.diag / np.diag: of a vector v (n,), the (n, n) matrix with v on its diagonal
    (``v[:, None] * sg.eye(n)``); of a matrix (2-D), its diagonal (`diagonal`). Of a SymPy matrix
    expression: DiagMatrix of a column or row, DiagonalOf of a square matrix."""
    if isinstance(x, sp.MatrixExpr) and not T.is_tensor_expr(x):
        if diagonal != 0:
            raise ArgumentError("diag of a matrix expression: the main diagonal only (diagonal=0)")
        r, c = x.shape
        if r == 1 or c == 1:
            return sp.DiagMatrix(x)
        if r != c:
            raise ShapeError(f"diag of {x} with shape ({r}, {c}): a column, a row or a square matrix")
        return DiagonalOf(x)
    x = T._tensor_arg(x, "diag")
    k = _offset(diagonal, "diag")
    if x.ndim == 2:
        return _diagonal(x, k)
    if x.ndim != 1:
        raise ShapeError(f"diag of {x} with shape {T.fmt(x.shape)}: of a vector (a diagonal matrix) or of a "
                         f"matrix (its diagonal); sg.diagonal(x, dim1=, dim2=) takes any two axes")
    if k:
        raise ArgumentError(f"diag({x}, {k}): the diagonal matrix of a vector on the main diagonal only; "
                            f"pad it (sg.pad) for another")
    from .tensor_tri import eye
    return x[:, None] * eye(x.shape[0])


_diagonal = diagonal       # for diag, whose parameter ``diagonal=`` (torch's name) hides the function


def trace(x):
    """torch.trace(x): the sum of the diagonal of a matrix (2-D); of a SymPy matrix expression, Trace."""
    if isinstance(x, sp.MatrixExpr) and not T.is_tensor_expr(x):
        return sp.Trace(x)
    x = T._tensor_arg(x, "trace")
    if x.ndim != 2:
        raise ShapeError(f"trace of {x} with shape {T.fmt(x.shape)}: torch's trace takes a matrix; "
                         f"sg.diagonal(x, dim1=-2, dim2=-1).sum(axis=-1) is a batch of traces")
    return T.sum(diagonal(x))


for _name, _f in (("diagonal", diagonal), ("diag", diag), ("trace", trace)):
    T.BY_LATER_MODULES[_name] = _f
del _name, _f
