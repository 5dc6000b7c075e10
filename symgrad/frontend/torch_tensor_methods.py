"""More of torch's ``Tensor`` methods on symgrad's tensors, each another spelling of what symgrad
already has (so no rule, printer or kernel of its own): code copied from a torch model reads as
written. A mixin of `symgrad.frontend.tensor_expr.TensorExpr`; it imports no front-end module: the
functions it calls are looked up at call time by ``self._later(name)`` (`BY_LATER_MODULES`).

    x.clone(), x.to(device or float dtype), x.type_as(y)   x itself (no memory, one float dtype)
    x.dim(), x.numel()                                     len(x.shape), the product of the shape
    m.bool(), m.logical_not()                              the comparisons m ≠ 0, m = 0 (masked_fill's mask)
    x.add(y, alpha=a), x.sub(y, alpha=a), x.mul(y), x.div(y), x.neg(), x.reciprocal()
    x.matmul(y), x.mm(y), x.bmm(y), x.outer(y)             @ (mm: 2-D, bmm: 3-D, as torch checks)
    x.maximum(y), x.minimum(y), x.log1p(), x.expm1(), x.sin(), x.cos(), x.erf(), x.sign()
    x.tan(), x.atan(), x.sinh(), x.cosh(), x.asinh(), x.log2(), x.log10(), x.exp2(), x.logit()
    x.lgamma(), x.digamma()                                SymPy's loggamma, digamma (probabilistic losses)
    x.xlogy(y), x.logaddexp(y)                             0·log 0 = 0; log(eˣ + eʸ) stable, torch's at ±inf
    x.view_as(y), x.reshape_as(y), x.unflatten(d, sizes), x.movedim(s, d), x.narrow(d, start, n)
    x.flip(dims), x.tril(k), x.triu(k), x.index_select(d, idx), x.argmin(d)
    x.diagonal(offset, dim1, dim2), x.diag(), x.trace()    sg.diagonal, sg.diag, sg.trace (tensor_diagonal)
    x.index_add(d, idx, src)                               sg.index_add (x.scatter_add of repeated ids too)
    x.scatter(d, idx, src)                                 src written at idx (a mixture of experts' top-k gates)
    x.new_zeros(n, D), x.new_ones(...), x.new_full(s, v)   sg.zeros, sg.ones, sg.full (new_empty: refused)

>>> import symgrad as sg
>>> x, y = sg.tensor("x", (2, 3)), sg.tensor("y", (2, 3))
>>> x.add(y, alpha=2), x.unflatten(1, (3, 1)).shape, x.numel()
(x + 2*y, (2, 3, 1), 6)
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import ArgumentError, IntegerTensorError, ShapeError


# The scalar formulas of the entrywise functions that SymPy has no one function for, written once for
# torch's methods here and NumPy's functions of the same names (`numpy_spellings`: sg.log1p, ...).
ENTRYWISE_FORMULAS = {
    "log1p": lambda a: sp.log(1 + a),
    "expm1": lambda a: sp.exp(a) - 1,
    "log2": lambda a: sp.log(a) / sp.log(2),
    "log10": lambda a: sp.log(a) / sp.log(10),
    "exp2": lambda a: sp.Integer(2) ** a,
}


def dtype_kind(a):
    """'float', 'int' or 'bool' for a dtype — torch's (torch.float32, torch.long), NumPy's (np.float64,
    np.dtype('int64')), Python's (float, int, bool) or a name ('float32') — and None for anything else
    (a device, a tensor: ``x.to(y)`` by a tensor named "points" is no integer dtype)."""
    if isinstance(a, bool) or a is None:
        return None
    if isinstance(a, type) and a in (bool, int, float):
        name = a.__name__
    elif type(a).__name__ == "dtype" or isinstance(a, (str, np.dtype)) or (isinstance(a, type)
                                                                           and a.__module__ == "numpy"):
        name = str(getattr(a, "name", None) or a)
    else:
        return None
    name = name.replace("torch.", "").lower()
    return ("bool" if "bool" in name else "int" if "int" in name or "long" in name else
            "float" if any(w in name for w in ("float", "double", "half")) else None)


def _entrywise(name: str, f, meaning: str = ""):
    """torch's ``x.name()``: ``f`` applied entry by entry (``elementwise``), a method of TorchMethods."""
    def method(self):
        return self._map(f)
    method.__name__, method.__qualname__ = name, f"TorchMethods.{name}"
    method.__doc__ = f"torch's ``x.{name}()``" + (f": {meaning}." if meaning else ", entry by entry.")
    return method


class TorchMethods:
    """torch's Tensor methods that are other spellings (see the module docstring)."""

    # -- no-ops in a declaration -----------------------------------------------------------------
    def clone(self, memory_format=None):
        """torch's ``x.clone()``: a copy of the memory; a declaration has none, so x itself."""
        return self

    def to(self, *args, **kwargs):
        """torch's ``x.to(device)`` / ``x.to(torch.float32)``: a declaration has no device and one float
        dtype (sg.compile's dtype=), so x itself, and an integer tensor made real (``.float()``, as
        torch's); an integer dtype of a real tensor is refused as ``.long()`` is (rounding has no
        gradient)."""
        for a in list(args) + list(kwargs.values()):
            kind = dtype_kind(a)
            if kind in ("int", "bool"):
                return self.long()
            if kind == "float":
                return self.float()
        return self

    def type_as(self, other):
        """torch's ``x.type_as(y)``: y's dtype — real (``.float()``) or integer (``.long()``)."""
        return self.long() if getattr(other, "is_integer_tensor", False) else self.float()

    def bool(self):
        """torch's ``mask.bool()``: the comparison ``mask ≠ 0``, entry by entry (a condition for
        ``masked_fill`` / ``sg.where``; in arithmetic its 0/1 mask)."""
        return sp.Ne(self, 0)

    def logical_not(self):
        """torch's ``mask.logical_not()``: the comparison ``mask = 0``, entry by entry."""
        return sp.Eq(self, 0)

    def dim(self):
        return self.ndim

    def numel(self):
        n = sp.Mul(*[sp.sympify(d) for d in self.shape])
        return int(n) if n.is_Integer else n

    # -- arithmetic --------------------------------------------------------------------------------
    def add(self, other, alpha=1):
        return self + alpha * other if alpha != 1 else self + other

    def sub(self, other, alpha=1):
        return self - alpha * other if alpha != 1 else self - other

    def mul(self, other):
        return self * other

    def div(self, other, rounding_mode=None):
        if rounding_mode is not None:
            raise ArgumentError(f"div(rounding_mode={rounding_mode!r}): rounding has no gradient; symgrad "
                                f"divides exactly (rounding_mode=None)")
        return self / other

    def neg(self):
        return -self

    def reciprocal(self):
        return 1 / self

    def matmul(self, other):
        return self @ other

    def mm(self, other):
        if self.ndim != 2 or self._later("as_tensor")(other).ndim != 2:
            raise ShapeError(f"{self}.mm(...): torch's mm takes two matrices; use @ (matmul) for batches")
        return self @ other

    def bmm(self, other):
        if self.ndim != 3 or self._later("as_tensor")(other).ndim != 3:
            raise ShapeError(f"{self}.bmm(...): torch's bmm takes two 3-D tensors; use @ (matmul) otherwise")
        return self @ other

    def outer(self, other):
        o = self._later("as_tensor")(other)
        if self.ndim != 1 or o.ndim != 1:
            raise ShapeError(f"{self}.outer({o}): torch's outer takes two vectors")
        return self[:, None] * o[None, :]

    def maximum(self, other):
        return self._later("maximum")(self, other)

    def minimum(self, other):
        return self._later("minimum")(self, other)

    # -- elementwise functions -----------------------------------------------------------------------
    def _map(self, f):
        return self._later("elementwise")(f, self)

    log1p = _entrywise("log1p", ENTRYWISE_FORMULAS["log1p"])
    expm1 = _entrywise("expm1", ENTRYWISE_FORMULAS["expm1"])
    sin, cos, tan = _entrywise("sin", sp.sin), _entrywise("cos", sp.cos), _entrywise("tan", sp.tan)
    atan = arctan = _entrywise("atan", sp.atan)
    sinh, cosh = _entrywise("sinh", sp.sinh), _entrywise("cosh", sp.cosh)
    asinh = arcsinh = _entrywise("asinh", sp.asinh)
    erf, sign = _entrywise("erf", sp.erf), _entrywise("sign", sp.sign)
    log2 = _entrywise("log2", ENTRYWISE_FORMULAS["log2"])
    log10 = _entrywise("log10", ENTRYWISE_FORMULAS["log10"])
    exp2 = _entrywise("exp2", ENTRYWISE_FORMULAS["exp2"])
    lgamma = _entrywise("lgamma", sp.loggamma, "log |Γ(x)|, SymPy's ``loggamma`` (its gradient digamma)")
    digamma = _entrywise("digamma", sp.digamma)

    def logit(self, eps=None):
        """torch's ``x.logit()``: log(x / (1 − x)), σ⁻¹; ``eps`` clamps x to [eps, 1 − eps] first."""
        x = self if eps is None else self._later("clip")(self, eps, 1 - eps)
        return x._map(lambda a: sp.log(a) - sp.log(1 - a))

    def xlogy(self, other):
        """torch's ``x.xlogy(y)``: x·log y, 0 where x = 0 (broadcast), symgrad's `xlogy` entry by entry."""
        a, b = self._broadcast_pair(other)
        return self._later("binary")(self._later("xlogy"), a, b, "xlogy")

    def _broadcast_pair(self, other):
        """self and other broadcast to their common shape, NumPy's rule (a function of two tensors
        lowers entry by entry of equal shapes)."""
        o = self._later("as_tensor")(other)
        shape = self._later("broadcast_shapes")(self.shape, o.shape)
        return tuple(self._later("broadcast")(v, shape) for v in (self, o))

    def logaddexp(self, other):
        """torch's ``x.logaddexp(y)``: log(eˣ + eʸ) entry by entry, broadcast (`log_add_exp.logaddexp`:
        finite where eˣ overflows, torch's values and gradients at ±inf)."""
        return self._later("logaddexp")(*self._broadcast_pair(other))

    # -- shapes --------------------------------------------------------------------------------------
    def view_as(self, other):
        return self.reshape(*self._later("shape_of")(self._later("as_expr")(other)))

    reshape_as = view_as

    def unflatten(self, dim, sizes):
        """torch's ``x.unflatten(dim, sizes)``: axis ``dim`` split into ``sizes`` (one may be -1)."""
        d = self._later("normalize_axis")(dim, self.ndim, "unflatten", self)
        s = list(self.shape)
        return self.reshape(*(s[:d] + list(sizes) + s[d + 1:]))

    def movedim(self, source, destination):
        """torch's ``x.movedim(source, destination)`` (NumPy's ``np.moveaxis``), one axis or tuples."""
        src = (source,) if isinstance(source, int) else tuple(source)
        dst = (destination,) if isinstance(destination, int) else tuple(destination)
        if len(src) != len(dst):
            raise ArgumentError(f"movedim: {len(src)} source axes but {len(dst)} destinations")
        src = [self._later("normalize_axis")(a, self.ndim, "movedim", self) for a in src]
        dst = [self._later("normalize_axis")(a, self.ndim, "movedim", self) for a in dst]
        order = [a for a in range(self.ndim) if a not in src]
        for d, a in sorted(zip(dst, src)):
            order.insert(d, a)
        return self.transpose(*order)

    def narrow(self, dim, start, length):
        """torch's ``x.narrow(dim, start, length)``: ``x[..., start:start + length, ...]`` on ``dim``."""
        d = self._later("normalize_axis")(dim, self.ndim, "narrow", self)
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def flip(self, dims):
        return self._later("flip")(self, dims)

    def tril(self, diagonal=0):
        return self._later("tril")(self, diagonal)

    def triu(self, diagonal=0):
        return self._later("triu")(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """torch's ``x.diagonal(offset, dim1, dim2)``: `symgrad.frontend.tensor_diagonal.diagonal`."""
        return self._later("diagonal")(self, offset, dim1, dim2)

    def diag(self, diagonal=0):
        """torch's ``x.diag()``: of a vector the diagonal matrix, of a matrix its diagonal."""
        return self._later("diag")(self, diagonal)

    def trace(self):
        """torch's ``x.trace()``: the sum of a matrix's diagonal."""
        return self._later("trace")(self)

    def index_select(self, dim, index):
        """torch's ``x.index_select(dim, idx)``: ``sg.take(x, idx, axis=dim)`` (idx an integer vector)."""
        return self._later("take")(self, index, dim)

    # -- new tensors of a given size, torch's x.new_zeros(n, D) -----------------------------------
    def new_zeros(self, *size, dtype=None, device=None):
        """torch's ``x.new_zeros(n, D)``: ``sg.zeros((n, D))`` (no device; one float dtype)."""
        return self._later("full")(size, 0)

    def new_ones(self, *size, dtype=None, device=None):
        return self._later("full")(size, 1)

    def new_full(self, size, fill_value, dtype=None, device=None):
        return self._later("full")((size,), fill_value)

    def new_empty(self, *size, **kwargs):
        raise ArgumentError(f"{self}.new_empty(...): a declaration has no uninitialised memory; write "
                            f"{self}.new_zeros(...). A random mask (DropPath's new_empty(...).bernoulli_(keep)) "
                            f"is an input: declare mask = sg.tensor('mask', shape) and give fresh 0/1 values "
                            f"with each batch (or sg.dropout, which draws its own)")

    def bernoulli_(self, *args, **kwargs):
        raise ArgumentError(f"{self}.bernoulli_(...): a declaration draws no noise; declare the mask as an "
                            f"input (sg.tensor('mask', shape)) and give fresh 0/1 values with each batch, or "
                            f"use sg.dropout, which draws its own")

    bernoulli = bernoulli_

    def index_add(self, dim, index, source, alpha=1):
        """torch's ``x.index_add(dim, idx, src)``: `symgrad.frontend.tensor_index_add.index_add`."""
        return self._later("index_add")(self, dim, index, source, alpha=alpha)

    def index_add_(self, *args, **kwargs):
        raise self._later("in_place_refusal")(self, "index_add")

    def scatter_add(self, dim, index, src):
        """torch's ``x.scatter_add(dim, index, src)`` with 1-D ids repeated over the other axes:
        `symgrad.frontend.tensor_index_add.scatter_add` (x.index_add(dim, ids, src))."""
        return self._later("scatter_add")(self, dim, index, src)

    def index_reduce(self, dim, index, source, reduce, *, include_self=True):
        """torch's ``x.index_reduce(dim, ids, source, "mean", include_self=)``:
        `symgrad.frontend.tensor_index_add.index_reduce`."""
        return self._later("index_reduce")(self, dim, index, source, reduce, include_self=include_self)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        """torch's ``x.scatter_reduce(dim, index, src, "sum" | "mean", include_self=)`` with 1-D ids
        repeated over the other axes: `symgrad.frontend.tensor_index_add.scatter_reduce`."""
        return self._later("scatter_reduce")(self, dim, index, src, reduce, include_self=include_self)

    def bincount(self, weights=None, minlength=None):
        """torch's ``ids.bincount(minlength=n)``: `symgrad.frontend.tensor_index_add.bincount`."""
        return self._later("bincount")(self, weights, minlength)

    def index_reduce_(self, *args, **kwargs):
        raise self._later("in_place_refusal")(self, "index_reduce")

    def scatter_reduce_(self, *args, **kwargs):
        raise self._later("in_place_refusal")(self, "scatter_reduce")

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        """torch's ``x.scatter(dim, index, src)``: `symgrad.frontend.tensor_scatter.scatter`."""
        return self._later("scatter")(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self, *args, **kwargs):
        raise self._later("in_place_refusal")(self, "scatter")

    def scatter_add_(self, *args, **kwargs):
        raise self._later("in_place_refusal")(self, "scatter_add")

    def argmin(self, dim=-1):
        if getattr(self, "is_integer_tensor", False):
            raise IntegerTensorError(f"{self}.argmin(): of a real tensor")
        return (-self).argmax(dim)
