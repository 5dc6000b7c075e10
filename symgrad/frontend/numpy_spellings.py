"""``jax.numpy`` / NumPy's names for what symgrad has, as functions of ``sg``: a researcher who
writes ``jnp.matmul(x, W)``, ``jnp.log1p(p)``, ``jnp.concatenate([a, b], axis=-1)`` writes them as
``sg.matmul``, ``sg.log1p``, ``sg.concatenate`` (2026-12-01, twelfth session: each was an
AttributeError). Each is the same function under NumPy's name and NumPy's keywords (``axis=``,
``keepdims=``, ``ord=``); where NumPy's function differs from symgrad's of that name
(``np.repeat``), the error names symgrad's spelling instead. ``sg.linalg.norm`` is
``jnp.linalg.norm`` for vector norms and the Frobenius norm.

>>> import symgrad as sg
>>> x, w = sg.tensor("x", (3, 4)), sg.tensor("w", (4,))
>>> sg.matmul(x, w).shape, sg.outer(w, w).shape, sg.moveaxis(x, 0, -1).shape
((3,), (4, 4), (4, 3))
>>> [p.shape for p in sg.split(x, [1], axis=0)]
[(1, 4), (2, 4)]
"""
from __future__ import annotations

import numbers

import sympy as sp

from . import tensor as T
from .parse import as_expr
from .tensor_shapes import tile  # noqa: F401 - np.tile, defined beside torch's repeat
from .tensor_reduce import amax as _amax, amin as _amin
from .activations import hardtanh, silu, softsign
from .torch_activations import hardsigmoid, hardswish, logsigmoid
from .torch_tensor_methods import ENTRYWISE_FORMULAS
from .tensor_norms import norm as _norm
from .tensor_layers import standardized
from .log_add_exp import logaddexp as _logaddexp
from ..errors import ArgumentError, AxisError, UnsupportedError

__all__ = ["matmul", "dot", "vdot", "inner", "outer", "square", "power", "log1p", "expm1", "logaddexp",
           "concatenate", "hstack", "vstack", "split", "reshape", "transpose", "moveaxis", "expand_dims", "squeeze",
           "broadcast_to", "tile", "amax", "amin", "linalg", "exp2", "log2", "log10", "negative", "ravel", "rsqrt", "chunk", "log_sigmoid", "swish", "hard_tanh", "hard_sigmoid", "hard_swish", "soft_sign",
           "standardize"]

# jax.nn's names of symgrad's activations (the same functions)
log_sigmoid, swish, hard_tanh, soft_sign = logsigmoid, silu, hardtanh, softsign


def hard_sigmoid(x):
    """``jax.nn.hard_sigmoid(x)``: relu6(x + 3)/6, torch's `hardsigmoid`."""
    return hardsigmoid(x)


def hard_swish(x):
    """``jax.nn.hard_swish(x)``: x·relu6(x + 3)/6, torch's `hardswish`."""
    return hardswish(x)


def standardize(x, axis=-1, epsilon=1e-5):
    """``jax.nn.standardize(x, axis, epsilon=)``: (x − mean)/sqrt(var + ε) over ``axis`` (biased
    variance), a layer norm without its scale and shift."""
    return standardized(_t(x, "standardize"), axis, epsilon)


def _t(x, who):
    return T._tensor_arg(x, who)


def matmul(a, b):
    """``jnp.matmul(a, b)``: ``a @ b`` (batched over the leading axes; a 1-d operand is a vector)."""
    return as_expr(a, "a") @ as_expr(b, "b")


def _number_or_vectors(a, b, who):
    """What ``dot`` and ``inner`` share: ``(a, b, result)`` with the result where either is a number
    (a scalar times the other entry by entry) or both are vectors (Σ aᵢ·bᵢ), else None and the two
    tensors for the caller's own rule."""
    a, b = as_expr(a, "a"), as_expr(b, "b")
    if not (T.is_tensor_expr(a) and T.is_tensor_expr(b)):
        return a, b, a * b
    a, b = _t(a, who), _t(b, who)
    if a.ndim == 0 or b.ndim == 0:
        return a, b, a * b
    if a.ndim == 1 and b.ndim == 1:
        return a, b, T.sum(a * b)
    return a, b, None


def dot(a, b):
    """``jnp.dot(a, b)``: for vectors Σ aᵢ·bᵢ, ``a @ b`` where b is a matrix or a vector (a of any
    rank), a scalar times either entry by entry. NumPy's dot by a b of three axes or more (the last
    axis of a with the second-to-last of b, every other axis of both kept) is refused, naming ``a @ b``
    and ``sg.einsum``."""
    a, b, done = _number_or_vectors(a, b, "dot")
    if done is not None:
        return done
    if b.ndim <= 2:                       # a's last axis against b's only (or first) one: a @ b
        return a @ b
    raise UnsupportedError(f"dot of {a} {tuple(a.shape)} and {b} {tuple(b.shape)}: NumPy's dot of arrays of "
                           f"higher rank contracts a's last axis with b's second-to-last and keeps every "
                           f"other axis of both; write a @ b (batched over the leading axes) or say which "
                           f"axes with sg.einsum")


def vdot(a, b):
    """``jnp.vdot(a, b)``: Σ of the entries of a·b, both flattened (real values: no conjugate)."""
    a, b = _t(a, "vdot"), _t(b, "vdot")
    return T.sum(T.reshape(a, (-1,)) * T.reshape(b, (-1,)))


def inner(a, b):
    """``jnp.inner(a, b)``: Σ over the last axes of both, the other axes of a then those of b; with
    a number, the product."""
    a, b, done = _number_or_vectors(a, b, "inner")
    if done is not None:
        return done
    a = T.reshape(a, tuple(a.shape[:-1]) + (1,) * (b.ndim - 1) + (a.shape[-1],))
    return T.sum(a * b, axis=-1)


def outer(a, b):
    """``jnp.outer(a, b)``: aᵢ·bⱼ of both flattened, shape (a.size, b.size)."""
    a, b = T.reshape(_t(a, "outer"), (-1,)), T.reshape(_t(b, "outer"), (-1,))
    return a[:, None] * b[None, :]


def _entrywise(x, body):
    """body(x) of a scalar or a tensor; of a matrix expression (MatrixSymbol), entry by entry, where
    SymPy's own ``log(1 + W*x)`` or ``2**M`` would be a matrix function or an error."""
    x = as_expr(x, "x")
    if isinstance(x, sp.MatrixExpr):
        return T.elementwise(body, x)
    return T.as_tensor(body(x)) if T.is_tensor_expr(x) else body(x)


def square(x):
    """``jnp.square(x)``: x², entry by entry (of a matrix too: not the matrix power W·W)."""
    return power(x, 2)


def power(x, p):
    """``jnp.power(x, p)``: xᵖ, entry by entry (``x ** p``; of a matrix sp.HadamardPower, not the
    matrix power)."""
    x, p = as_expr(x, "x"), as_expr(p, "p")
    if isinstance(x, sp.MatrixExpr):
        return sp.HadamardPower(x, p)
    return x ** p


def log1p(x):
    """``jnp.log1p(x)``: log(1 + x), entry by entry."""
    return _entrywise(x, ENTRYWISE_FORMULAS["log1p"])


def expm1(x):
    """``jnp.expm1(x)``: eˣ − 1, entry by entry."""
    return _entrywise(x, ENTRYWISE_FORMULAS["expm1"])


def logaddexp(a, b):
    """``jnp.logaddexp(a, b)``: log(eᵃ + eᵇ), entry by entry with broadcasting; its gradient is
    (σ(a − b), σ(b − a)). Of tensors it is torch's ``a.logaddexp(b)``; of scalars and tensors alike
    `log_add_exp.logaddexp`: it neither overflows nor loses the smaller term, and has torch's values
    and gradients at ±inf (b and (0, 1) where a = −inf, −inf where both are)."""
    a, b = as_expr(a, "a"), as_expr(b, "b")
    if T.is_tensor_expr(a) or T.is_tensor_expr(b):
        T.broadcast_shapes(T.shape_of(a), T.shape_of(b), names=[str(a), str(b)])
        return T.as_tensor(a).logaddexp(b)
    return _logaddexp(a, b)


def amax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """``jnp.amax(x, axis, keepdims)`` (torch's ``x.amax(dim, keepdim)`` too): the maximum over
    ``axis``, a tie's gradient split evenly among the tied entries, as jax and torch split it."""
    axis, keepdims = T.torch_reduce_names("amax", axis, keepdims, dim, keepdim)
    return _amax(x, axis, keepdims)


def amin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """``jnp.amin(x, axis, keepdims)``: torch's ``x.amin`` (−amax(−x), a tie's gradient split evenly)."""
    axis, keepdims = T.torch_reduce_names("amin", axis, keepdims, dim, keepdim)
    return _amin(x, axis, keepdims)


def exp2(x):
    """``jnp.exp2(x)``: 2ˣ, entry by entry."""
    return _entrywise(x, ENTRYWISE_FORMULAS["exp2"])


def log2(x):
    """``jnp.log2(x)``: log(x)/log(2), entry by entry."""
    return _entrywise(x, ENTRYWISE_FORMULAS["log2"])


def rsqrt(x):
    """``torch.rsqrt(x)`` / ``jax.lax.rsqrt(x)``: 1/√x, entry by entry (Llama's RMSNorm,
    ``h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)``); ``x.rsqrt()`` of a tensor is the same."""
    return _entrywise(x, lambda a: 1 / sp.sqrt(a))


def log10(x):
    """``jnp.log10(x)``: log(x)/log(10), entry by entry."""
    return _entrywise(x, ENTRYWISE_FORMULAS["log10"])


def negative(x):
    """``jnp.negative(x)``: −x."""
    return -as_expr(x, "x")


def ravel(x):
    """``jnp.ravel(x)``: ``x.reshape(-1)``."""
    return _t(x, "ravel").reshape(-1)


def concatenate(arrays, axis=T.DefaultAxis(0), *, dim=None):
    """``jnp.concatenate(arrays, axis)``: `sg.concat`; ``axis=None`` joins the flattened arrays, as
    NumPy's."""
    if axis is None and dim is None:
        return T.concat([_t(x, "concatenate").reshape(-1) for x in arrays], axis=0)
    return T.concat(arrays, axis, dim=dim)


def hstack(arrays):
    """``jnp.hstack(xs)``: `sg.concat` along axis 1 (axis 0 of 1-d arrays; a 0-d one is one entry)."""
    xs = [_t(x, "hstack") for x in arrays]
    xs = [T.reshape(x, (1,)) if x.ndim == 0 else x for x in xs]
    return T.concat(xs, axis=0 if xs and xs[0].ndim == 1 else 1)


def vstack(arrays):
    """``jnp.vstack(xs)``: `sg.concat` along axis 0, a 1-d array taken as one row (1, n), a 0-d one
    as (1, 1)."""
    xs = [_t(x, "vstack") for x in arrays]
    return T.concat([T.reshape(x, (1, -1)) if x.ndim <= 1 else x for x in xs], axis=0)


def split(x, indices_or_sections, axis=0, *, dim=None):
    """``jnp.split(x, k, axis)``: k equal pieces (k must divide the axis, as NumPy asks), or
    ``jnp.split(x, [i, j], axis)``: the pieces before i, from i to j, and from j on. torch's
    ``torch.split(x, size, dim=)`` means pieces *of* that size: given ``dim=`` it is torch's,
    ``x.split(size, dim=)``."""
    if dim is not None:
        return T.as_tensor(x).split(indices_or_sections, dim=dim)
    x = _t(x, "split")
    ax = T.normalize_axis(axis, x.ndim, "split", x)
    n = x.shape[ax]
    if not isinstance(n, int):
        raise AxisError(f"split: axis {ax} of {x} has the symbolic size {n}; only fixed sizes split")
    if isinstance(indices_or_sections, (numbers.Integral, sp.Integer)) and not isinstance(indices_or_sections, bool):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ArgumentError(f"split: {k} equal pieces of axis {ax} of {x} (size {n}): NumPy's split needs a "
                                f"divisor; give the split points as a list (np.split(x, [i, j], axis)) or use "
                                f"x.chunk({k}, dim={ax}) (torch's, the last piece shorter)")
        return list(x.split(n // k, dim=ax))       # torch's split gives a tuple; NumPy's a list
    cuts = [int(i) for i in indices_or_sections]
    edges = [0] + [min(max(c + n if c < 0 else c, 0), n) for c in cuts] + [n]
    head = (slice(None),) * ax
    return [x[head + (slice(lo, max(lo, hi)),)] for lo, hi in zip(edges, edges[1:])]


def chunk(x, chunks, dim=0):
    """``torch.chunk(x, k, dim=0)``: ``x.chunk(k, dim)``, k pieces of size ⌈n/k⌉, the last shorter."""
    return _t(x, "chunk").chunk(chunks, dim=dim)


def reshape(x, shape, *more):
    """``jnp.reshape(x, shape)``: `x.reshape(shape)` (one −1 stands for what is left)."""
    return _t(x, "reshape").reshape(shape, *more)


def transpose(x, axes=None):
    """``jnp.transpose(x, axes)``: the axes reversed, or put in the order ``axes``."""
    x = _t(x, "transpose")
    return T.permute(x, tuple(range(x.ndim))[::-1] if axes is None else tuple(axes))


def moveaxis(x, source, destination):
    """``jnp.moveaxis(x, source, destination)``: torch's ``x.movedim``; one axis or tuples."""
    return _t(x, "moveaxis").movedim(source, destination)


def expand_dims(x, axis):
    """``jnp.expand_dims(x, axis)``: new axes of size 1 at ``axis`` (an int or a tuple, counted in
    the result, negative ones from its end)."""
    x = _t(x, "expand_dims")
    axes = (axis,) if isinstance(axis, (numbers.Integral, sp.Integer)) else tuple(axis)
    nd = x.ndim + len(axes)
    where = sorted(T.normalize_axis(a, nd, "expand_dims", x) for a in axes)
    if len(set(where)) != len(where):
        raise AxisError(f"expand_dims: an axis given twice in {axis}")
    shape, rest = [], iter(x.shape)
    for i in range(nd):
        shape.append(1 if i in where else next(rest))
    return T.reshape(x, tuple(shape))


def squeeze(x, axis=None):
    """``jnp.squeeze(x, axis)``: the axes of size 1 removed (all, or those of ``axis``)."""
    return _t(x, "squeeze").squeeze(axis=axis)


def broadcast_to(x, shape):
    """``jnp.broadcast_to(x, shape)``: `sg.broadcast`."""
    return T.broadcast(x, shape)


class _Linalg:
    """``sg.linalg``: ``jnp.linalg``'s names that symgrad has."""

    def norm(self, x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's name
        """``jnp.linalg.norm(x, ord, axis, keepdims)``: the vector p-norm over ``axis`` (an int),
        the 2-norm of a 1-d x, the Frobenius norm of a matrix (``ord=None`` or ``'fro'``). A matrix
        norm other than Frobenius (ord=1, 2, inf, 'nuc' of a 2-d x or over two axes) is an
        `UnsupportedError` naming what to write."""
        x = _t(x, "linalg.norm")
        axes = None if axis is None else ((axis,) if isinstance(axis, (numbers.Integral, sp.Integer))
                                          else tuple(axis))
        over = x.ndim if axes is None else len(axes)
        if axes is None and x.ndim > 2 and ord is not None:
            raise ArgumentError(f"linalg.norm of {x} with shape {tuple(x.shape)} and ord={ord!r}: NumPy takes "
                                f"an ord of a 1-d or 2-d x only; say the axis (axis=-1)")
        if over == 2 and ord not in (None, "fro"):
            raise UnsupportedError(f"linalg.norm(x, ord={ord!r}) over two axes is a matrix norm, which symgrad "
                                   f"does not have; the Frobenius norm (ord=None or 'fro') is, and "
                                   f"sg.norm(x, p, axis=...) gives vector p-norms")
        if over == 1 and ord == "fro":
            raise ArgumentError("linalg.norm: ord='fro' is for matrices; of a vector write ord=None or 2")
        p = 2 if ord is None or ord == "fro" else ord
        return _norm(x, p, axis=None if axes is None else (axes[0] if len(axes) == 1 else axes),
                     keepdims=keepdims)

    def __getattr__(self, name):
        raise AttributeError(f"sg.linalg has no {name!r}: it has norm (jnp.linalg.norm's vector and "
                             f"Frobenius norms); for a MatrixSymbol A, A.inv() and sp.det(A) are SymPy's")


linalg = _Linalg()
