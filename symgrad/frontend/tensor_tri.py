"""Triangular masks and constant tensors, for attention: ``sg.tril``, ``sg.triu``, ``sg.ones``,
``sg.zeros``, ``sg.full``, and ``sg.swapaxes`` (torch's two-axis ``transpose``).

A causal self-attention masks the scores above the diagonal, as nanoGPT writes it with
``torch.tril(torch.ones(T, T))``:

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> s = sg.tensor("s", (N, 2, 4, 4))                 # q @ k.swapaxes(-2, -1) / sqrt(Dh)
>>> mask = sg.tril(sg.ones((4, 4)))
>>> mask
tril(ones((4, 4)))
>>> sg.where(mask > 0, s, float("-inf")).shape
(N, 2, 4, 4)

``tril(x, k)`` keeps the entries x[..., i, j] with j ≤ i + k and zeroes the others (``triu``: j ≥ i
+ k), on the last two axes, as NumPy's and torch's. It is linear, and its own adjoint: the gradient
of ``tril(x)`` is ``tril(ḡ)`` (one row of the rule table, `symgrad.core.tri_rules`).

A NumPy array in a declaration is refused (`numpy_array_refusal`): a declaration is symbolic, and a
constant array would have to be copied into the generated code. The refusal
(`symgrad.frontend.array_refusal`) names the array's shape and the way to write it:
``sg.tril(sg.ones((T, T)))`` for a causal mask, or a tensor (``sg.tensor``) given with the other
values.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Tuple

from ..errors import ArgumentError, AxisError, ShapeError
from . import tensor as T
from .parse import register_tensor_constructor as _register_constructor
from .parse import register_tensor_function as _register_text

__all__ = ["Tri", "tril", "triu", "ones", "zeros", "eye", "full", "swapaxes"]


class Tri(T.TensorExpr):
    """tril(x, k) (``upper`` false) or triu(x, k) (``upper`` true) on the last two axes."""

    _data = (0,)

    @property
    def x(self):
        return self.args[0]

    @property
    def k(self) -> int:
        return int(self.args[1])

    @property
    def upper(self) -> bool:
        return bool(self.args[2])

    @property
    def shape(self):
        return tuple(self.x.shape)

    @property
    def is_integer_tensor(self):
        return T._integer_of(self.x)

    def _sympystr(self, printer):
        k = f", {self.k}" if self.k else ""
        return f"{'triu' if self.upper else 'tril'}({printer._print(self.x)}{k})"


def _tri(x, k, upper, who):
    x = T._tensor_arg(x, who)
    if x.ndim < 2:
        raise AxisError(f"{who} of {x}: it takes a tensor of at least 2 axes (its last two are the "
                        f"matrix), got shape {T.fmt(x.shape)}")
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise ArgumentError(f"{who}: the diagonal k must be an integer (0 the main diagonal, 1 above, "
                            f"-1 below), got {k!r}")
    return Tri(x, sp.Integer(int(k)), sp.true if upper else sp.false)


def tril(x, k=0, *, diagonal=None):
    """np.tril(x, k) / torch.tril(x, diagonal=k): x[..., i, j] where j ≤ i + k, 0 above (last two axes)."""
    return _tri(x, _offset("tril", k, diagonal), False, "tril")


def triu(x, k=0, *, diagonal=None):
    """np.triu(x, k) / torch.triu(x, diagonal=k): x[..., i, j] where j ≥ i + k, 0 below (last two axes);
    a causal mask as Llama writes it, ``torch.triu(torch.full((T, T), float("-inf")), diagonal=1)``."""
    return _tri(x, _offset("triu", k, diagonal), True, "triu")


def _offset(who, k, diagonal):
    """The diagonal's offset, NumPy's k (also positional) or torch's diagonal=; both given is an error."""
    if diagonal is None:
        return k
    if k != 0:
        raise ArgumentError(f"{who}: give the offset once, k={k} (NumPy's) or diagonal={diagonal} (torch's)")
    return diagonal


def full(shape, value=None, *, fill_value=None, dtype=None, device=None):
    """np.full(shape, value) / torch.full(size, fill_value): a constant tensor (``value`` a number or a
    scalar expression). A float ``dtype`` is taken (one per program: sg.compile's dtype=); ``device=``
    changes nothing."""
    if (value is None) == (fill_value is None):
        raise ArgumentError("full: give the value once, full(shape, value) (NumPy's fill_value= or torch's)")
    value = fill_value if value is None else value
    _size("full", (), shape, dtype)          # (an integer or bool dtype refused, as ones' is)
    if isinstance(shape, (int, np.integer, sp.Basic)) and not isinstance(shape, Tuple):
        shape = (shape,)
    shape = tuple(T._dim(d) for d in shape)
    v = sp.sympify(value) if isinstance(value, (int, float, np.number)) else T.as_expr(value)
    if T.is_tensor_expr(v):
        raise ArgumentError(f"full: the value must be a number or a scalar, got the tensor {v}; use "
                            f"sg.broadcast(x, shape) to repeat a tensor")
    return T.Full(v, Tuple(*shape))


def _size(who, size, shape, dtype):
    """The shape of np.ones(shape) / torch.ones(2, 3) / torch.ones((2, 3)) / ones(shape=(2, 3)); a
    float ``dtype`` (torch's) is taken — a declaration has one, sg.compile's dtype= — an integer one
    refused."""
    if dtype is not None and any(w in str(dtype) for w in ("int", "long", "bool")):
        raise ArgumentError(f"{who}(..., dtype={dtype}): symgrad's constants are real (sg.compile's dtype=); "
                            f"integer labels or indices are inputs, sg.tensor(name, shape, integer=True)")
    if shape is not None:
        if size:
            raise ArgumentError(f"{who}: give the size or shape=, not both")
        return shape
    if not size:
        raise ArgumentError(f"{who}() needs a shape: {who}((N, 2)) or torch's {who}(N, 2)")
    return size[0] if len(size) == 1 else size


def ones(*size, shape=None, dtype=None, device=None):
    """np.ones(shape) / torch.ones(2, 3) (the size as several arguments too): ``sg.tril(sg.ones((T,
    T)))`` is a causal mask."""
    return full(_size("ones", size, shape, dtype), 1)


def zeros(*size, shape=None, dtype=None, device=None):
    """np.zeros(shape) / torch.zeros(n, D)."""
    return full(_size("zeros", size, shape, dtype), 0)


def _like(x, who, dtype):
    """x's shape, for zeros_like(x) & co. (``dtype`` checked as `_size` does)."""
    x = T.as_expr(x)
    if not T.is_tensor_expr(x):
        raise ArgumentError(f"{who}: of a tensor (sg.tensor), got {x}; of a scalar write 0 or 1")
    return _size(who, (), T.as_tensor(x).shape, dtype)


def zeros_like(x, *, dtype=None, device=None):
    """torch.zeros_like(x) / np.zeros_like(x): zeros of x's shape (a graph layer's
    ``torch.zeros_like(x).index_add(0, dst, msg)``), real: of an integer tensor too (a degree count's
    ``torch.ones_like(dst, dtype=torch.float)``)."""
    return full(_like(x, "zeros_like", dtype), 0)


def ones_like(x, *, dtype=None, device=None):
    """torch.ones_like(x) / np.ones_like(x): ones of x's shape."""
    return full(_like(x, "ones_like", dtype), 1)


def full_like(x, value, *, dtype=None, device=None):
    """torch.full_like(x, value) / np.full_like(x, value): ``value`` everywhere, x's shape."""
    return full(_like(x, "full_like", dtype), value)


def _size_args(size):
    """torch's ``x.new_zeros(2, 3)`` and ``x.new_zeros((2, 3))``: the shape."""
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list, Tuple)) else size


class Eye(T.TensorExpr):
    """np.eye(n, m, k) as one node: it prints ``eye(3)``, ``eye(N)``, ``eye(3, 4, k=1)`` (twelfth
    session: ``tril(ones((N, N)))*triu(ones((N, N)))``, so CLIP's gradient read ``softmax(s, axis=1)/N
    - tril(ones((N, N)))*triu(ones((N, N)))/N``), and lowers to what it is, `parts`:
    tril(ones, k) ⊙ triu(ones, k) (`symgrad.core.tri_rules`)."""

    _data = ()                   # n, m, k are sizes, not symbols of the data
    is_number = False            # its arguments are numbers, but it is an array, not a scalar constant

    @property
    def shape(self):
        return tuple(int(d) if d.is_Integer else d for d in self.args[:2])

    def parts(self):
        """(tril(ones, k), triu(ones, k)), whose product this is."""
        square, k = full(self.shape, 1), int(self.args[2])
        return Tri(square, sp.Integer(k), sp.false), Tri(square, sp.Integer(k), sp.true)

    def _sympystr(self, printer):
        n, m, k = self.args
        return "eye(" + printer._print(n) + (f", {printer._print(m)}" if m != n or k else "") + \
            (f", k={k}" if k else "") + ")"

    def _latex(self, printer):
        n, m, k = self.args
        inside = printer._print(n) + (", " + printer._print(m) if m != n or k else "") + (f", k={k}" if k else "")
        return r"\operatorname{eye}\left(%s\right)" % inside


def eye(n, m=None, k=0):
    """np.eye(n, m, k) / torch.eye(n, m): ones on the k-th diagonal, zeros elsewhere; n and m may be
    the batch size N. ``tril(ones) * triu(ones)``, so it needs no primitive of its own. InfoNCE /
    CLIP's positives on the diagonal: ``sg.cross_entropy(za @ zb.T / tau, sg.eye(N))`` is torch's
    ``F.cross_entropy(za @ zb.T / tau, torch.arange(N))`` (or write ``sg.arange(N)`` as torch does).

    >>> import sympy as sp, symgrad as sg
    >>> N = sp.Symbol("N", integer=True, positive=True)
    >>> sg.eye(N).shape, sg.eye(3, 4, k=1).shape
    ((N, N), (3, 4))
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise ArgumentError(f"eye: k= (the diagonal) must be an integer, got {k!r}")
    shape = _size("eye", (n, n if m is None else m), None, None)
    shape = tuple(T._dim(d) for d in shape)
    return Eye(sp.sympify(shape[0]), sp.sympify(shape[1]), sp.Integer(int(k)))


def swapaxes(x, a, b):
    """np.swapaxes(x, a, b), torch's ``x.transpose(a, b)``: two axes exchanged (negative ones count
    from the end), e.g. ``k.swapaxes(-2, -1)`` for the keys in ``q @ kᵀ``."""
    return T._tensor_arg(x, "swapaxes").swapaxes(a, b)


# The text (string claims, the command line) reads ones((N, 2)), full((N, 2), c), tril(x, k)
for _name, _build in (("ones", ones), ("zeros", zeros)):
    _register_constructor(_name, _build)
_register_constructor("full", full, value=True)
_register_text("tril", tril, (1, 2), rest=("diagonal",), keywords={})
_register_text("triu", triu, (1, 2), rest=("diagonal",), keywords={})


def cumsum(x, axis=None, *, dim=None):
    """np.cumsum(x, axis) / torch.cumsum(x, dim): running sums along ``axis`` (a fixed size L; None:
    of the flattened x, as NumPy). Written as the product with the upper-triangular ones,
    x @ triu(ones((L, L))) along that axis, so its gradient is ḡ @ tril(ones((L, L))), the running
    sums from the end. O(L²) work: meant for sequences and small axes.

    >>> import symgrad as sg
    >>> sg.cumsum(sg.tensor("x", (2, 3)), axis=1)
    x @ triu(ones((3, 3)))
    """
    axis, _ = T.torch_reduce_names("cumsum", axis, False, dim, None)   # torch.cumsum(x, dim=1): the same axis
    x = T._tensor_arg(x, "cumsum")
    if axis is None:
        x, axis = x.reshape(-1), 0
    if x.ndim == 0:
        raise AxisError(f"cumsum of the scalar {x}: it takes a tensor with an axis")
    ax = T.normalize_axis(axis, x.ndim, "cumsum", x)
    L = x.shape[ax]
    if not isinstance(L, int):
        raise ShapeError(f"cumsum along axis {ax} of {x} (shape {T.fmt(x.shape)}): the axis has the symbolic "
                         f"size {L}; a running sum needs a fixed size")
    upper = triu(ones((L, L)))
    last = x.ndim - 1
    if ax == last:
        return x @ upper
    return (x.swapaxes(ax, last) @ upper).swapaxes(ax, last)

T.BY_LATER_MODULES["cumsum"] = cumsum          # x.cumsum(dim)
T.BY_LATER_MODULES.update(tril=tril, triu=triu)   # torch's x.tril(k), x.triu(k)
T.BY_LATER_MODULES.update(full=lambda size, value: full(_size_args(size), value))   # torch's x.new_zeros(...)
