"""Tensors moved without arithmetic: ``reshape``, ``permute`` (transposes), ``concat``, ``stack``,
``broadcast`` (np.broadcast_to) and the constant `Full` (ones, zeros).

>>> import symgrad as sg
>>> sg.stack([sg.tensor("a", (2,)), sg.tensor("b", (2,))], axis=1).shape
(2, 2)
"""
from __future__ import annotations

import sympy as sp
from sympy import Tuple
from sympy.printing.precedence import PRECEDENCE

from .keywords import keywords
from ..errors import AxisError, BroadcastError, ReshapeError, ShapeError
from .tensor_expr import (BY_LATER_MODULES, as_expr, as_tensor, broadcast_shapes, _dim, dims_equal, fmt, _integer_of,
                          normalize_axis, _paren, shape_of, _tensor_arg, Tensor, TensorExpr, axis_or_dim, DefaultAxis,
                          _unwrap)


class Reshape(TensorExpr):
    _passes_infinities = True     # a −inf entry reaches the output as it is (see tensor_index._finite_masks)
    @property
    def shape(self):
        return tuple(int(d) if d.is_Integer else d for d in self.args[1])

    @property
    def is_integer_tensor(self):
        return _integer_of(self.args[0])

    def _sympystr(self, printer):
        return f"{_paren(printer, self.args[0])}.reshape({', '.join(map(str, self.shape))})"


def _size(shape):
    return sp.Mul(*shape) if shape else sp.S.One


def reshape(x, shape):
    """x.reshape(shape) (one entry may be -1), as NumPy's."""
    x = _tensor_arg(x, "reshape")
    shape = [as_expr(d) for d in shape]
    n = _size(x.shape)
    holes = [i for i, d in enumerate(shape) if d == -1]
    if len(holes) > 1:
        raise ReshapeError(f"reshape of {x}: at most one -1 in {tuple(shape)}")
    if holes:
        rest = _size([d for d in shape if d != -1])
        q = sp.simplify(n / rest)
        if not (q.is_Integer or (q.is_integer and q.free_symbols)) and q.is_integer is not True:
            raise ReshapeError(f"reshape of {x} {fmt(x.shape)} ({n} entries) to {tuple(shape)}: "
                               f"{n} is not a multiple of {rest}")
        shape[holes[0]] = q
    shape = tuple(_dim(d) for d in shape)
    if not dims_equal(_size(shape), n):
        raise ReshapeError(f"cannot reshape {x} of shape {fmt(x.shape)} ({n} entries) to "
                           f"{fmt(shape)} ({_size(shape)} entries)")
    if tuple(shape) == tuple(x.shape):
        return x
    if isinstance(x, Reshape):
        x = x.args[0]
    return Reshape(x, Tuple(*shape))


class Permute(TensorExpr):
    _passes_infinities = True     # a −inf entry reaches the output as it is (see tensor_index._finite_masks)
    @property
    def axes(self):
        return tuple(int(a) for a in self.args[1])

    @property
    def shape(self):
        s = self.args[0].shape
        return tuple(s[a] for a in self.axes)

    @property
    def is_integer_tensor(self):
        return _integer_of(self.args[0])

    def _sympystr(self, printer):
        if self.axes == tuple(reversed(range(len(self.axes)))):
            return f"{_paren(printer, self.args[0])}.T"
        return f"{_paren(printer, self.args[0])}.transpose({', '.join(map(str, self.axes))})"

    def _latex(self, printer):      # ᵀ reverses every axis; another order is written out, as the text does
        if self.axes == tuple(reversed(range(len(self.axes)))):
            return "%s^{T}" % printer.parenthesize(self.args[0], PRECEDENCE["Pow"])
        return r"%s.\operatorname{transpose}\left(%s\right)" % (
            printer.parenthesize(self.args[0], PRECEDENCE["Atom"], strict=True), ", ".join(map(str, self.axes)))


def permute(x, axes=None):
    """x.transpose(axes) (None reverses the axes, as ``x.T``)."""
    x = _tensor_arg(x, "transpose")
    nd = x.ndim
    raw = axes or ()
    axes = tuple(reversed(range(nd))) if axes is None else tuple(normalize_axis(a, nd, "transpose", x)
                                                                 for a in axes)
    if sorted(axes) != list(range(nd)):
        two = (f"; torch's x.transpose({', '.join(map(str, raw))}) swaps two axes: write "
               f"x.swapaxes({', '.join(map(str, raw))})" if len(raw) == 2 and nd > 2 else "")
        raise AxisError(f"transpose of {x}: {axes} is not a permutation of its {nd} axes{two}")
    if axes == tuple(range(nd)):
        return x
    return Permute(x, Tuple(*axes))


class Concat(TensorExpr):
    _passes_infinities = True     # a −inf entry reaches the output as it is (see tensor_index._finite_masks)
    _tuple_is_data = True      # its parts, a Tuple of tensors

    @property
    def axis(self):
        return int(self.args[1])

    @property
    def shape(self):
        xs = self.args[0]
        s = list(xs[0].shape)
        s[self.axis] = _dim(sp.Add(*[x.shape[self.axis] for x in xs]))
        return tuple(s)

    @property
    def is_integer_tensor(self):
        """A concat of integer tensors — labels (sg.concat([y1, y2]), torch.cat of two batches' labels)
        or indices computed by argmax and stacked (sg.topk's) — is an integer tensor. (Until the ninth
        session a concat of label inputs was not: the compiled label check, 0 … n − 1 in
        symgrad/compiling/batch_kind.py, did not follow a label through a concat; it does now.)"""
        return all(_integer_of(x) for x in self.args[0])

    def _sympystr(self, printer):
        return "concat([%s], axis=%d)" % (", ".join(printer._print(x) for x in self.args[0]), self.axis)


@keywords()
def concat(xs, axis=DefaultAxis(0), *, dim=None):
    """np.concatenate(xs, axis) / torch.cat(xs, dim): the tensors must agree on every other axis."""
    axis = axis_or_dim("concat", axis, dim)
    xs = [_tensor_arg(x, "concat") for x in xs]
    if not xs:
        raise ShapeError("concat of no tensors")
    nd = xs[0].ndim
    ax = normalize_axis(axis, nd, "concat", xs[0])
    for x in xs[1:]:
        if x.ndim != nd or any(not dims_equal(a, b) for i, (a, b) in enumerate(zip(x.shape, xs[0].shape))
                               if i != ax):
            raise ShapeError(f"concat along axis {ax}: {x} has shape {fmt(x.shape)} but {xs[0]} has "
                             f"{fmt(xs[0].shape)}; every other axis must agree")
    if len(xs) == 1:
        return xs[0]
    return Concat(Tuple(*xs), sp.Integer(ax))


@keywords()
def stack(xs, axis=DefaultAxis(0), *, dim=None):
    """np.stack(xs, axis) / torch.stack(xs, dim): a new axis; the tensors must have one shape."""
    axis = axis_or_dim("stack", axis, dim)
    xs = [_tensor_arg(x, "stack") for x in xs]
    if not xs:
        raise ShapeError("stack of no tensors")
    nd = xs[0].ndim
    ax = normalize_axis(axis, nd + 1, "stack", xs[0])
    for x in xs[1:]:
        if x.ndim != nd or any(not dims_equal(a, b) for a, b in zip(x.shape, xs[0].shape)):
            raise ShapeError(f"stack: {x} has shape {fmt(x.shape)} but {xs[0]} has {fmt(xs[0].shape)}")
    parts = []
    for x in xs:
        s = list(x.shape)
        s.insert(ax, 1)
        parts.append(reshape(x, s))
    return concat(parts, ax)


class BroadcastTo(TensorExpr):
    _passes_infinities = True     # a −inf entry reaches the output as it is (see tensor_index._finite_masks)

    @property
    def shape(self):
        return tuple(int(d) if d.is_Integer else d for d in self.args[1])

    @property
    def is_integer_tensor(self):
        """Labels repeated (``y.unsqueeze(0).expand(T, N)``) are labels; until the tenth session they
        were not, and cross_entropy refused them. (The compiled label check follows a broadcast:
        symgrad/compiling/batch_kind.py.)"""
        return _integer_of(self.args[0])

    def _sympystr(self, printer):
        return f"broadcast_to({printer._print(self.args[0])}, {fmt(self.shape)})"


def broadcast(x, shape):
    """np.broadcast_to(x, shape)."""
    x = as_expr(x)
    shape = tuple(_dim(d) for d in shape)
    s = shape_of(x)
    if broadcast_shapes(s, shape, names=lambda: [str(x), "the target"]) != shape:
        raise BroadcastError(f"cannot broadcast {x} of shape {fmt(s)} to {fmt(shape)}")
    if tuple(s) == shape:
        return as_tensor(x)
    return BroadcastTo(_unwrap(x), Tuple(*shape))


class Full(TensorExpr):
    """A tensor of ``shape`` with every entry ``value``; prints ``ones((N, 3))`` and the like."""

    @property
    def shape(self):
        return tuple(int(d) if d.is_Integer else d for d in self.args[1])

    def _sympystr(self, printer):
        v = self.args[0]
        if v == 1:
            return f"ones({fmt(self.shape)})"
        if v == 0:
            return f"zeros({fmt(self.shape)})"
        return f"full({fmt(self.shape)}, {printer._print(v)})"


BY_LATER_MODULES.update(reshape=reshape, permute=permute, broadcast=broadcast)   # the methods x.reshape(...), ...
