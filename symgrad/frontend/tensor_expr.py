"""The core of the N-d tensors: the `TensorExpr` node with its NumPy and torch methods, the `Tensor`
symbol, `Ewise` (elementwise SymPy algebra over tensors), broadcasting and shape rules, and ``@``.

The array functions the methods call live in modules by topic (`tensor_reduce`,
`tensor_movement`, `tensor_index`), which import this one; `symgrad.frontend.tensor` gathers
them all and is the module to import.
"""
from __future__ import annotations

import builtins
import functools
import numbers
import operator

import numpy as np
import sympy as sp
from sympy import Expr, Tuple
from sympy.core.parameters import distribute
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.tensor.array.expressions import ArraySymbol

from .array_refusal import numpy_array_refusal   # a NumPy array in a declaration
from .keywords import TORCH_SPELLINGS, check_flag, check_keywords, keywords   # x.max(dim=1): an error that names axis=
from .parse import _arange_values, as_expr     # user text is parsed, never evaluated
from .torch_tensor_methods import TorchMethods   # x.clone(), x.add(y), x.movedim(...): other spellings
from ..errors import (ArgumentError, AxisError, BroadcastError, IntegerTensorError, MixedArrayError,
                      ReshapeError, ShapeError, UnsupportedError)

__all__ = ["Tensor", "TensorExpr", "tensor", "as_tensor", "is_tensor_expr", "shape_of", "Ewise",
           "TensorMatMul", "broadcast_shapes", "normalize_axis", "reduced_shape", "elementwise", "matmul"]


# ===================================================================================================
# Shapes


def _dim(d):
    if d is None:              # Keras's and ONNX's "any batch size"
        raise ShapeError("a dimension is None: a size that varies (the batch) is an integer symbol, "
                         "N = sp.Symbol('N', integer=True, positive=True), then sg.tensor('x', (N, 3)); "
                         "the program takes any N at run time")
    d = as_expr(d)
    if d.is_Integer:
        if d < 0:
            raise ShapeError(f"a dimension must be ≥ 0, got {d}")
        return int(d)
    if not (d.is_integer is not False and d.free_symbols):
        raise ShapeError(f"a dimension must be a non-negative integer or an integer symbol "
                         f"(sp.Symbol('N', integer=True, positive=True)), got {d!r}")
    loose = sorted((s for s in d.free_symbols if s.is_integer is not True), key=str)
    if loose:                  # sp.Symbol("M"): may be 2.5 for all SymPy knows (sizes, reshapes, ...)
        m = loose[0]
        raise ShapeError(f"a dimension must be a non-negative integer or an integer symbol, got {d} "
                         f"where {m} is a symbol with no integer assumption: declare it "
                         f"sp.Symbol({str(m)!r}, integer=True, positive=True)")
    return d


def dims_equal(a, b) -> bool:
    if a == b:
        return True
    if isinstance(a, int) and isinstance(b, int):
        return False
    return sp.expand(as_expr(a) - as_expr(b)) == 0


def fmt(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def broadcast_shapes(*shapes, names=None):
    """NumPy's broadcasting rule, right-aligned: equal dimensions, or one of them 1. A symbolic N
    against 3 does not broadcast (N may be anything at run time): `BroadcastError`.

    >>> broadcast_shapes((4, 1, 3), (5, 1))
    (4, 5, 3)
    """
    nd = builtins.max((len(s) for s in shapes), default=0)
    out = []
    for k in range(nd):
        d = 1
        for j, s in enumerate(shapes):
            i = len(s) - nd + k
            if i < 0:
                continue
            e = s[i]
            if dims_equal(e, 1):
                continue
            if dims_equal(d, 1) or dims_equal(d, e):
                d = e
                continue
            names = names() if callable(names) else names   # lazy: printing a deep network is slow
            who = (" and ".join(f"{n} {fmt(s)}" for n, s in zip(names, shapes)) if names
                   else " and ".join(fmt(s) for s in shapes))
            raise BroadcastError(f"cannot broadcast {who}: dimension {d} against {e} (NumPy's rule: "
                                 f"trailing dimensions must be equal or 1)")
        out.append(d)
    return tuple(out)


def normalize_axis(axis, ndim, who="", x=None) -> int:
    """An axis in range(ndim), negative axes counted from the end; `AxisError` otherwise."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):    # 1.5 or "1" is not an axis
        if isinstance(axis, (tuple, list)):      # a reduction's tuple is split before it comes here
            raise AxisError(f"{who}: axis must be one integer here, got {axis!r}; {who} works along one "
                            f"axis (reshape to merge axes first, x.reshape(..., -1))")
        raise AxisError(f"{who}: axis must be an integer (or a tuple of integers), got {axis!r}")
    a = int(axis)
    if not -ndim <= a < ndim:
        of = f" for {x}, which has" if x is not None else " for a tensor with"
        raise AxisError(f"{who}: axis {axis} is out of range{of} {ndim} dimension(s) "
                        f"(valid: {-ndim} … {ndim - 1})")
    return a % ndim


def _axes(axis, ndim, who, x=None) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list, Tuple)):
        axes = tuple(sorted({normalize_axis(a, ndim, who, x) for a in axis}))
        if len(axes) != len(axis):
            raise AxisError(f"{who}: repeated axis in {tuple(axis)}")
        return axes
    return (normalize_axis(axis, ndim, who, x),)


def reduced_shape(shape, axes, keepdims=False) -> tuple:
    """The shape of a reduction over ``axes`` (normalised): those axes dropped, or kept as 1.

    >>> reduced_shape((4, 3, 2), (1,)), reduced_shape((4, 3, 2), (0, 2), keepdims=True)
    ((4, 2), (1, 3, 1))
    """
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


# ===================================================================================================
# The base class and the symbol


def _is_tensor_node(e) -> bool:
    return isinstance(e, TensorExpr)


def is_tensor_expr(e) -> bool:
    """True for a tensor expression: a `TensorExpr`, or a SymPy expression with one inside
    (``sp.tanh(x)`` of a tensor x)."""
    if isinstance(e, TensorExpr):
        return True
    return isinstance(e, sp.Basic) and not isinstance(e, sp.MatrixExpr) and e.has(TensorExpr)


def shape_of(e) -> tuple:
    """The shape of a tensor expression, of a SymPy expression with tensors inside (broadcast over
    its arguments), or ``()`` of a scalar."""
    if isinstance(e, TensorExpr):
        return e.shape
    if isinstance(e, (sp.MatrixExpr, sp.MatrixBase)):
        raise MixedArrayError(f"the matrix {e} (a MatrixSymbol expression, matrix-calculus "
                              f"semantics) is used inside a tensor expression (NumPy semantics). "
                              f"The two do not mix: declare it with sg.tensor instead")
    if not isinstance(e, sp.Basic) or not e.has(TensorExpr):
        return ()
    if isinstance(e, sp.Piecewise):
        kids = [a for pair in e.args for a in pair.args]
    else:
        kids = e.args
    shapes = [shape_of(a) for a in kids]
    try:
        return broadcast_shapes(*shapes)
    except BroadcastError:                   # print the operands only now: printing is slow
        return broadcast_shapes(*shapes, names=[str(a) for a in kids])


def _integer_of(e) -> bool:
    return bool(getattr(e, "is_integer_tensor", False))


# SymPy's constructors, never Python's operators (which would come back to TensorExpr's).
def _sub(a, b):
    return sp.Add(a, sp.Mul(sp.S.NegativeOne, b))


def _div(a, b):
    return sp.Mul(a, sp.Pow(b, sp.S.NegativeOne))


# Methods whose work is done by a module that imports this one (tensor_reduce: "sum", tensor_bounds:
# "clip"), which registers it here on import (tensor.py and symgrad's __init__ import them), so that
# no import circle forms.
BY_LATER_MODULES: dict = {}


# NumPy function → what a tensor expression writes instead (see TensorExpr.__array_ufunc__)
_NUMPY_SPELLING = {
    "maximum": "sg.maximum(x, y) (sg.relu(x) for np.maximum(x, 0))",
    "minimum": "sg.minimum(x, y)", "clip": "x.clip(lo, hi) or sg.clip(x, lo, hi)", "std": "x.std(axis=...)",
    "exp": "sg.exp(x)", "log": "sg.log(x)", "sqrt": "sg.sqrt(x)", "tanh": "sg.tanh(x)",
    "absolute": "sg.abs(x)", "abs": "sg.abs(x)", "square": "x ** 2", "power": "x ** k",
    "add": "x + y", "subtract": "x - y", "multiply": "x * y", "divide": "x / y",
    "true_divide": "x / y", "negative": "-x", "matmul": "x @ y", "dot": "x @ y",
    "greater": "sg.where(x > 0, a, b)", "sum": "x.sum(axis=...) or sg.sum(x, axis=...)",
    "mean": "x.mean(axis=...)", "max": "x.max(axis=...)", "amax": "x.max(axis=...)",
    "min": "x.min(axis=...)", "amin": "x.min(axis=...)", "var": "x.var(axis=...)",
    "reshape": "x.reshape(...)", "transpose": "x.transpose(...) or x.T",
    "where": "sg.where(cond, a, b)", "concatenate": "sg.concat([a, b], axis=...)",
    "stack": "sg.stack([a, b], axis=...)", "take": "sg.take(x, idx, axis=...)",
    "take_along_axis": "sg.take_along_axis(x, idx, axis=...)",
    "broadcast_to": "sg.broadcast(x, shape)", "argmax": "x.argmax(axis=...)",
}


_NUMPY_OPERATORS = {"add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
                    "true_divide": operator.truediv, "divide": operator.truediv, "power": operator.pow,
                    "matmul": operator.matmul}


def _numpy_refusal(name: str) -> str:
    """The message for np.<name>(tensor): NumPy's functions do not take symbolic tensors.

    >>> _numpy_refusal("maximum")[:61]
    'np.maximum of a symgrad tensor: NumPy functions compute on ar'
    """
    instead = _NUMPY_SPELLING.get(name)
    how = (f"write {instead}" if instead else
           "write it with the tensor's methods (x.sum(axis=0), x.reshape(...)), operators "
           "(+ - * / ** @) and sg.* functions (sg.exp, sg.relu, sg.where, ...)")
    return (f"np.{name} of a symgrad tensor: NumPy functions compute on arrays, and a declaration is "
            f"symbolic; {how} (docs/layers.md, 'NumPy / PyTorch idiom → symgrad').")


def _operator(op, sym):
    """The pair (a ∘ b, b ∘ a) of a Python operator on tensors: NumPy broadcasting to an `Ewise`
    (`_binary`), or the plain SymPy node inside `plain_algebra`."""

    def forward(self, o):
        if op is sp.Pow and not _PLAIN and "power_of_root" in BY_LATER_MODULES:
            power = BY_LATER_MODULES["power_of_root"](self, o)     # norm(v)**2: Σ v², no root
            if power is not None:
                return power
        return op(self, o) if _PLAIN else _binary(op, self, o, sym)

    def reflected(self, o):
        return op(o, self) if _PLAIN else _binary(op, o, self, sym)

    return forward, reflected


def _torch_dim_of_var(fn):
    """x.var(dim=1) / x.std(dim=1) is torch's code, whose default is the unbiased estimate
    (correction=1); renaming dim to axis alone would silently give NumPy's biased one. So torch's
    ``dim=`` / ``keepdim=`` without a correction is an error that says both spellings; with the
    correction given (``unbiased=``, ``correction=`` or ``ddof=``) nothing is ambiguous, and torch's
    names are taken: LayerNorm by hand, ``x.var(-1, keepdim=True, unbiased=False)``."""
    @functools.wraps(fn)
    def checked(*args, **kwargs):
        torch_names = [k for k in ("dim", "keepdim") if k in kwargs]
        explicit = any(k in kwargs for k in ("correction", "ddof", "unbiased"))
        who = fn.__name__
        if torch_names and not explicit:
            name = torch_names[0]
            ours = TORCH_SPELLINGS[name]
            axis = kwargs.get("dim", args[1] if len(args) > 1 else None)
            keep = ", keepdims=True" if kwargs.get("keepdim") else ""
            raise ArgumentError(
                f"{who}() got an unknown keyword argument {name!r}; did you mean {ours!r}? (NumPy's name for "
                f"torch's {name!r}) Mind the default: symgrad's {who} has correction=0 (NumPy's, the biased "
                f"estimate) where torch's {who}(dim=...) has correction=1. For torch's result write "
                f"{who}(axis={axis!r}{keep}, correction=1); for the biased one (batch and layer norm's) "
                f"{who}(axis={axis!r}{keep}) — or keep torch's names and say which: unbiased=True / False")
        if "unbiased" in kwargs:
            unbiased = kwargs.pop("unbiased")
            if not isinstance(unbiased, (bool, np.bool_)):
                raise ArgumentError(f"{who}(unbiased={unbiased!r}): torch's unbiased is True or False "
                                    f"(correction=1 or 0)")
            if "correction" in kwargs or "ddof" in kwargs:
                raise ArgumentError(f"{who}(): unbiased= and correction= (or ddof=) are one setting; give one")
            kwargs["correction"] = 1 if unbiased else 0
        for name in torch_names:            # explicit: torch's dim / keepdim mean NumPy's axis / keepdims
            ours, position = TORCH_SPELLINGS[name], {"dim": 1, "keepdim": 2}[name]
            if ours in kwargs or len(args) > position:
                raise ArgumentError(f"{who}(): {name}= and {ours} are one setting (torch's and NumPy's "
                                    f"names); give one")
            kwargs[ours] = kwargs.pop(name)
        return fn(*args, **kwargs)
    return checked


class DefaultAxis:
    """The default of an ``axis=`` that torch's ``dim=`` may also give (``sg.concat(xs, axis=0, *,
    dim=None)``): an object of its own, so that an explicit axis equal to the default,
    ``sg.concat(xs, 0, dim=1)``, is told apart from no axis and refused with ``dim=`` (`axis_or_dim`).
    It prints as the default, so that help() shows ``axis=0``."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return repr(self.value)


def axis_or_dim(who, axis, dim):
    """The axis of a function with a `DefaultAxis` default and torch's ``dim=``: ``dim`` when given
    (an axis given too, even the default's value, is an `ArgumentError` naming both), else ``axis``
    or the default."""
    if dim is not None:
        if not isinstance(axis, DefaultAxis):
            raise ArgumentError(f"{who}: give axis= or torch's dim=, not both (got axis={axis!r} and dim={dim!r})")
        return dim
    return axis.value if isinstance(axis, DefaultAxis) else axis


def torch_reduce_names(who, axis, keepdims, dim, keepdim):
    """torch's ``dim=`` / ``keepdim=`` of ``sum`` and ``mean`` (RMSNorm's ``x.pow(2).mean(-1,
    keepdim=True)``), which mean what NumPy's ``axis=`` / ``keepdims=`` do. Not taken by ``var`` / ``std``
    (torch's default correction differs: `_torch_dim_of_var`) nor ``max`` / ``min`` (torch's
    ``x.max(dim=1)`` is a pair, so ``x.max(dim=1)[0]`` would silently be the first row here)."""
    if dim is not None:
        if axis is not None:
            raise ArgumentError(f"{who}: give axis= or torch's dim=, not both (got axis={axis!r} and dim={dim!r})")
        axis = dim
    if keepdim is not None:
        if keepdims is not False:
            raise ArgumentError(f"{who}: give keepdims= or torch's keepdim=, not both")
        keepdims = keepdim
    return axis, keepdims


def _torch_pair_refusal(who, torch_keywords):
    """x.max(dim=1) is torch's (values, indices) pair, NumPy's x.max(axis=1) the values: taking dim=
    as axis= would make torch's x.max(dim=1)[0] the first row, silently. The error says both."""
    if "dim" in torch_keywords or "keepdim" in torch_keywords:
        d = torch_keywords.get("dim")
        kd = ", keepdims=True" if torch_keywords.get("keepdim") else ""
        raise ArgumentError(f"{who}(dim=...) is torch's, which returns a pair (values, indices); symgrad's {who} "
                            f"is NumPy's, the values: write x.{who}(axis={d!r}{kd}) (torch's x.{who}(dim={d!r})[0] "
                            f"or .values), x.{who}(axis={d!r}).indices for the arg-{who}, or torch's x.a{who}"
                            f"(dim={d!r}{', keepdim=True' if kd else ''})")
    check_keywords(who, torch_keywords, ["axis", "keepdims"])


class _AtRefusal:
    """What ``x.at`` gives: indexing it is an `UnsupportedError` naming the functional spellings
    (2026-12-01, twelfth session: it was "'Tensor' object has no attribute 'at'")."""

    def __init__(self, x):
        self.x = x

    def __getitem__(self, key):
        return _AtIndexed(self.x, key)


class _AtIndexed:
    """``x.at[key]``: ``.get()`` is ``x[key]``; an update (``.set``, ``.add``, ...) is refused."""

    def __init__(self, x, key):
        self.x, self.key = x, key

    def get(self, **_options):
        return self.x[self.key]

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise UnsupportedError(
            f"{self.x}.at[...].{name}: JAX's indexed update is not supported. Write it as a new expression: "
            f".set(v) on a mask as sg.where(mask, v, {self.x}) (mask a comparison or a 0/1 tensor); "
            f".add(v) at integer ids along an axis as {self.x}.index_add(axis, ids, v) (torch's, repeats add "
            f"up); .set(v) at integer ids as {self.x}.scatter(axis, ids, v); a block as sg.concat of slices "
            f"or sg.pad")


class TensorExpr(TorchMethods, Expr):
    """An N-d array expression with NumPy semantics: ``shape``, broadcasting arithmetic, ``@``,
    indexing, and the NumPy methods."""

    @staticmethod
    def _later(name):
        """A function of a module after this one (``BY_LATER_MODULES``), for `TorchMethods`."""
        return BY_LATER_MODULES[name]

    _op_priority = 12.0          # above MatrixExpr: x + tanh(y) reaches our __radd__
    _iterable = False
    is_commutative = True        # elementwise products commute
    is_real = True
    is_integer_tensor = False

    @property
    def shape(self) -> tuple:    # pragma: no cover - each node defines it
        raise NotImplementedError

    @property
    def ndim(self) -> int:
        return len(self.shape)

    _data = None                 # indices of the args that hold data (not shapes, axes, sizes)
    _passes_infinities = False   # see tensor_index._finite_masks
    _tuple_is_data = False       # a Tuple arg is a shape or axes (Concat's: its parts)

    @property
    def free_symbols(self):
        """The symbols of the data: a symbolic dimension (N) is not a free symbol of ``x.sum(0)``."""
        out = set()
        for i, a in enumerate(self.args):
            if self._data is not None and i not in self._data:
                continue
            if isinstance(a, Tuple) and not self._tuple_is_data:
                continue
            if isinstance(a, sp.Basic):
                out |= a.free_symbols
        return out

    # -- elementwise arithmetic, NumPy broadcasting ---------------------------------------------
    __add__, __radd__ = _operator(sp.Add, "+")
    __sub__, __rsub__ = _operator(_sub, "-")
    __mul__, __rmul__ = _operator(sp.Mul, "*")
    __truediv__, __rtruediv__ = _operator(_div, "/")
    __pow__, __rpow__ = _operator(sp.Pow, "**")

    def _eval_power(self, e):
        """SymPy's hook for sp.Pow(self, e) built directly (not through ``**``): norm(v)'s even powers
        fold to Σ v² there too, as `_operator`'s ``**`` does (the same IR, no safe-at-zero root)."""
        if _PLAIN or "power_of_root" not in BY_LATER_MODULES:
            return None
        return BY_LATER_MODULES["power_of_root"](self, e)

    def __neg__(self):
        if _PLAIN:
            return sp.Mul(sp.S.NegativeOne, self)
        return _binary(sp.Mul, sp.S.NegativeOne, self, "-")

    def __pos__(self):
        return self

    def __abs__(self):
        """abs(x), Python's builtin on a tensor expression: |x| elementwise (as on a NumPy array and a
        torch tensor), a tensor expression like sg.abs(x) — SymPy's Abs of it had no .sum()."""
        return sp.Abs(self) if _PLAIN else elementwise(sp.Abs, self)

    def __matmul__(self, o):
        return matmul(self, o)

    def __rmatmul__(self, o):
        return matmul(o, self)

    # -- indexing and movement ------------------------------------------------------------------
    def __getitem__(self, key):
        return BY_LATER_MODULES["index"](self, key)

    @property
    def T(self):
        return self.transpose()

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list, Tuple)):
            axes = tuple(axes[0])
        elif len(axes) == 2 == self.ndim and \
                tuple(normalize_axis(a, 2, "transpose", self) for a in axes) == (0, 1):
            # W.transpose(0, 1), k.transpose(-2, -1): NumPy's identity, torch's swap — silently
            # different models; neither is assumed
            raise AxisError(f"{self}.transpose({axes[0]}, {axes[1]}) of a 2-D tensor: NumPy reads it as the "
                            f"identity permutation (no change), torch as a swap of the two axes; write "
                            f"{self}.T (or .mT, .t(), .swapaxes({axes[0]}, {axes[1]})) for the swap")
        elif len(axes) == 2 < self.ndim and all(isinstance(a, (int, np.integer)) for a in axes):
            # q.view(N, T, H, Dh).transpose(1, 2), k.transpose(-2, -1): torch's swap of two axes. NumPy
            # refuses two axes of a tensor of more (not a permutation), so this reading is the only one
            return self.swapaxes(*axes)
        return BY_LATER_MODULES["permute"](self, axes or None)

    def swapaxes(self, a, b):            # NumPy's; torch's x.transpose(a, b)
        axes = list(range(self.ndim))
        a, b = (normalize_axis(i, self.ndim, "swapaxes", self) for i in (a, b))
        axes[a], axes[b] = axes[b], axes[a]
        return BY_LATER_MODULES["permute"](self, tuple(axes))

    @property
    def mT(self):                         # the last two axes swapped (NumPy 2, torch)
        return self.swapaxes(-2, -1)

    def masked_fill(self, mask, value):  # torch's: value where mask is true, where(mask, value, x)
        return BY_LATER_MODULES["where"](mask, value, self)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, Tuple)):
            shape = tuple(shape[0])
        return BY_LATER_MODULES["reshape"](self, shape)

    # -- torch's spellings of the same moves (a layer copied from a torch model runs as written)
    def permute(self, *dims):             # torch's x.permute(0, 2, 1): NumPy's x.transpose(0, 2, 1)
        if len(dims) == 1 and isinstance(dims[0], (tuple, list, Tuple)):
            dims = tuple(dims[0])
        return BY_LATER_MODULES["permute"](self, dims or None)

    def view(self, *shape):               # torch's x.view(N, -1): a reshape (no aliasing here)
        return self.reshape(*shape)

    def size(self, dim=None):             # torch's x.size() / x.size(0): the shape (NumPy: x.shape)
        """``x.size()`` is ``x.shape``, ``x.size(d)`` its d-th entry, as torch's (NumPy's
        ``x.size``, the number of entries, is ``math.prod(x.shape)``)."""
        if dim is None:
            return self.shape
        return self.shape[normalize_axis(dim, self.ndim, "size", self)]

    # -- len(x), iter(x), bool(x), np.asarray(x): Python's protocols on a declaration -------------
    def __len__(self):
        """``len(x)`` is the first axis' length when it is a number, as NumPy's and torch's; of a
        symbolic one (N) no Python int exists, so it is an `ArgumentError` naming ``x.shape[0]``."""
        if not self.shape:
            raise ArgumentError(f"len({self}) of a 0-d tensor (shape ()): it has no first axis, as "
                                f"torch's and NumPy's 0-d arrays; x.shape is ()")
        d = self.shape[0]
        if isinstance(d, int):
            return d
        raise ArgumentError(f"len({self}): its first axis has the symbolic size {d}, which is not a "
                            f"Python int until run time; write {self}.shape[0] (or .size(0)), the "
                            f"SymPy size {d}, which works in shapes and formulas (x.reshape({d}, -1), "
                            f"s.sum() / {d})")

    def __iter__(self):
        """``for row in x`` / ``a, b = x``: x[0], x[1], … over a first axis of a fixed size (torch's
        iteration over dim 0); a symbolic one has no end (it was an endless loop)."""
        d = self.shape[0] if self.shape else None
        if self.shape and not isinstance(d, int):
            raise ArgumentError(f"iterating over {self} (for row in x, a, b = x, list(x)): its first axis has "
                                f"the symbolic size {d}, so the loop has no end; write the operation over "
                                f"the axis (x.sum(axis=0), x @ W), or index rows x[i] or slices x[:k]")
        if not self.shape:
            raise ArgumentError(f"iterating over {self}, a 0-d tensor (shape ()): it has no first axis, "
                                f"as torch's and NumPy's 0-d arrays")
        return (self[i] for i in range(d))

    def __bool__(self):
        # defined because __len__ is: Python would otherwise take len(x) == 0 for falsity, and
        # raise for a symbolic first axis; an expression is true, as any SymPy expression
        return True

    def _no_value(self, how):
        """torch code's ``loss.item()``, ``float(loss)``, ``math.exp(x)`` in a declaration:
        it is symbolic and has no value yet (SymPy's own message was "Cannot convert expression to
        float", or an AttributeError)."""
        return ArgumentError(f"{how} of {self}: a declaration is symbolic, with no value until it runs; its "
                             f"value comes from sg.numeric(f, values) or a compiled program (prog.loss(values, "
                             f"batch)). Inside a declaration write the function of the tensor (sg.exp(x), "
                             f"sg.log(x), not math's)")

    def __float__(self):
        raise self._no_value("float()")

    def item(self):
        raise self._no_value(".item()")

    def __array__(self, dtype=None, copy=None):
        # np.asarray(x): the expression as a 0-d object array, as before __len__ existed (NumPy
        # would otherwise read x as a sequence of x[0], x[1], ... since it has __len__ now)
        out = np.empty((), dtype=object)
        out[()] = self
        return out if dtype is None else out.astype(dtype)

    def flatten(self, start_dim=0, end_dim=-1):
        """torch's ``x.flatten(start_dim, end_dim)``: the axes start_dim … end_dim merged into one
        (``x.flatten(1)`` of an (N, C, H, W) map is ``x.reshape(N, C*H*W)``)."""
        s, e = (normalize_axis(d, self.ndim, "flatten", self) for d in (start_dim, end_dim))
        if s > e:
            raise ShapeError(f"x.flatten({start_dim}, {end_dim}) of a tensor of shape {self.shape}: "
                             f"start_dim comes after end_dim")
        shape = tuple(self.shape)
        return self.reshape(shape[:s] + (sp.Mul(*shape[s:e + 1]),) + shape[e + 1:])

    def unsqueeze(self, dim):             # torch's x.unsqueeze(d): a new axis of size 1 at d
        d = normalize_axis(dim, self.ndim + 1, "unsqueeze", self)
        shape = tuple(self.shape)
        return self.reshape(shape[:d] + (1,) + shape[d:])

    def squeeze(self, dim=None, *, axis=None):
        """torch's ``x.squeeze(d)`` (NumPy's ``x.squeeze(axis=d)``): the axes of size 1 removed —
        all of them, or those of ``dim`` (an int or a tuple) that have size 1 (another is kept, as
        torch keeps it)."""
        dim = axis if dim is None else dim
        shape = tuple(self.shape)
        if dim is None:
            picked = set(range(len(shape)))
        else:
            picked = {normalize_axis(d, self.ndim, "squeeze", self)
                      for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
        kept = tuple(s for i, s in enumerate(shape) if not (i in picked and dims_equal(s, 1)))
        return self if kept == shape else self.reshape(kept)

    def contiguous(self, *args, **kwargs):  # torch's: a memory-layout request; a declaration has none
        return self

    def expand(self, *sizes, **hints):
        """torch's ``x.expand(N, H, T, T)`` (or a tuple; ``-1`` keeps that axis's size): a broadcast,
        ``sg.broadcast(x, shape)``. Called as SymPy calls it (no sizes, or ``deep`` as a bool) it is
        SymPy's algebraic ``expand``."""
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list, Tuple)):
            sizes = tuple(sizes[0])
        if not sizes or hints or any(isinstance(s, (bool, np.bool_)) for s in sizes):
            return super().expand(*sizes, **hints)
        shape = tuple(self.shape)
        lead = len(sizes) - len(shape)
        if lead < 0:
            raise ShapeError(f"{self}.expand{tuple(sizes)}: {len(sizes)} sizes for a tensor of shape "
                             f"{fmt(shape)}; give one size per axis (new axes go first)")
        want = [shape[i - lead] if (i >= lead and as_expr(s) == -1) else s for i, s in enumerate(sizes)]
        return BY_LATER_MODULES["broadcast"](self, want)

    def expand_as(self, other):           # torch's x.expand_as(y): broadcast to y's shape
        return BY_LATER_MODULES["broadcast"](self, shape_of(as_expr(other)))

    def t(self):
        """torch's ``x.t()``: the transpose of a tensor of at most 2 axes (``x.mT`` swaps the last two
        of any)."""
        if self.ndim > 2:
            raise AxisError(f"{self}.t() transposes a tensor of at most 2 axes; this one has shape "
                            f"{fmt(self.shape)}: write x.mT (the last two axes swapped) or x.permute(...)")
        return self.T

    def split(self, split_size_or_sections, dim=0):
        """torch's ``x.split(size, dim)`` (pieces of ``size`` along ``dim``, the last one shorter when
        it does not divide) or ``x.split([s0, s1, ...], dim)`` (pieces of those sizes): a tuple of
        slices, as torch returns (NumPy's ``np.split`` counts sections instead: write
        ``x.chunk(k, dim)`` for k equal pieces)."""
        d = normalize_axis(dim, self.ndim, "split", self)
        n = self._split_length(d, "split")
        if isinstance(split_size_or_sections, (list, tuple, Tuple)):
            sizes = [int(s) for s in split_size_or_sections]
            if any(s < 0 for s in sizes) or builtins.sum(sizes) != n:
                raise ShapeError(f"{self}.split({list(sizes)}, dim={dim}): the sizes must be >= 0 and add "
                                 f"up to the axis's size {n}")
        else:
            size = as_expr(split_size_or_sections)
            if not size.is_Integer or size <= 0:
                raise ShapeError(f"{self}.split({split_size_or_sections}, dim={dim}): the size of a piece "
                                 f"must be a positive integer")
            size = int(size)
            sizes = [builtins.min(size, n - s) for s in range(0, n, size)]
        out, start = [], 0
        for s in sizes:
            out.append(self[(slice(None),) * d + (slice(start, start + s),)])
            start += s
        return tuple(out)

    def chunk(self, chunks, dim=0):
        """torch's ``x.chunk(k, dim)``: ``k`` pieces along ``dim`` of size ⌈n/k⌉ each, the last one
        shorter (and fewer than k when ⌈n/k⌉ pieces cover the axis), as torch splits an LSTM's fused
        gates: ``i, f, g, o = gates.chunk(4, dim=1)``."""
        k = as_expr(chunks)
        if not k.is_Integer or k <= 0:
            raise ShapeError(f"{self}.chunk({chunks}): the number of chunks must be a positive integer")
        d = normalize_axis(dim, self.ndim, "chunk", self)
        n = self._split_length(d, "chunk")
        return self.split(builtins.max(1, -(-n // int(k))), d)

    def unbind(self, dim=0):
        """torch's ``x.unbind(dim)``: the slices along ``dim``, that axis removed (``for x_t in
        x.unbind(1)`` runs over the steps of an (N, T, D) sequence)."""
        d = normalize_axis(dim, self.ndim, "unbind", self)
        n = self._split_length(d, "unbind")
        return tuple(self[(slice(None),) * d + (i,)] for i in range(n))

    def _split_length(self, d: int, who: str) -> int:
        n = as_expr(self.shape[d])
        if not n.is_Integer:
            raise ShapeError(f"{self}.{who}(...) along axis {d}, of symbolic size {n}: the pieces must have "
                             f"sizes that are numbers; split an axis of fixed size (slice x[:, a:b] "
                             f"otherwise)")
        return int(n)

    # -- reductions -----------------------------------------------------------------------------
    @keywords()
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return BY_LATER_MODULES["sum"](self, axis, keepdims, dim=dim, keepdim=keepdim)

    @keywords()
    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return BY_LATER_MODULES["mean"](self, axis, keepdims, dim=dim, keepdim=keepdim)

    def max(self, axis=None, keepdims=False, **torch_keywords):
        _torch_pair_refusal("max", torch_keywords)
        return BY_LATER_MODULES["max"](self, axis, keepdims)

    def min(self, axis=None, keepdims=False, **torch_keywords):
        _torch_pair_refusal("min", torch_keywords)
        return BY_LATER_MODULES["min"](self, axis, keepdims)

    @_torch_dim_of_var
    @keywords()
    def var(self, axis=None, keepdims=False, correction=0, ddof=None):
        return BY_LATER_MODULES["var"](self, axis, keepdims, correction=correction, ddof=ddof)

    @_torch_dim_of_var
    @keywords()
    def std(self, axis=None, keepdims=False, correction=0, ddof=None):
        return BY_LATER_MODULES["std"](self, axis, keepdims, correction=correction, ddof=ddof)

    def clip(self, lo=None, hi=None):
        """x.clip(lo, hi), NumPy's: see `symgrad.frontend.tensor_bounds.clip`."""
        return BY_LATER_MODULES["clip"](self, lo, hi)

    def clamp(self, min=None, max=None):  # noqa: A002 - torch's names
        """x.clamp(min, max), torch's spelling of x.clip(lo, hi)."""
        return BY_LATER_MODULES["clip"](self, min, max)

    def argmax(self, axis=DefaultAxis(-1), *, dim=None, keepdim=False):
        """NumPy's ``x.argmax(axis)``, torch's ``x.argmax(dim, keepdim)``: the first arg-max, an
        integer tensor."""
        ax = axis_or_dim("argmax", axis, dim)
        out = BY_LATER_MODULES["argmax"](self, ax)
        if keepdim is not False:
            check_flag("argmax", "keepdim", keepdim)
            s = list(out.shape)
            s.insert(normalize_axis(ax, self.ndim, "argmax", self), 1)
            out = BY_LATER_MODULES["reshape"](out, s)
        return out

    def topk(self, k, dim=DefaultAxis(-1), largest=True, sorted=True, *, axis=None):  # noqa: A002 - torch's names
        """torch's ``x.topk(k, dim)``: ``sg.topk`` (`symgrad.frontend.tensor_topk`), (values, indices)."""
        return BY_LATER_MODULES["topk"](self, k, dim, largest, sorted, axis=axis)

    # -- torch's activation methods: s.softmax(-1), h.relu(), x.pow(2) (the sg.* functions) ----
    def softmax(self, dim=None, *, axis=None):
        """torch's ``s.softmax(dim)``: ``sg.softmax(s, axis=dim)``."""
        return BY_LATER_MODULES["softmax"](self, axis=axis if dim is None else dim)

    def log_softmax(self, dim=None, *, axis=None):
        """torch's ``s.log_softmax(dim)``: ``sg.log_softmax(s, axis=dim)``."""
        return BY_LATER_MODULES["log_softmax"](self, axis=axis if dim is None else dim)

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """torch's ``x.logsumexp(dim, keepdim)``: ``sg.logsumexp(x, axis=dim, keepdims=keepdim)``."""
        return BY_LATER_MODULES["logsumexp"](self, axis=axis if dim is None else dim,
                                             keepdims=keepdim if keepdims is None else keepdims)

    def cumsum(self, dim=None, *, axis=None):
        """``x.cumsum(1)``, NumPy's and torch's: ``sg.cumsum(x, axis=1)``."""
        return BY_LATER_MODULES["cumsum"](self, axis=axis if dim is None else dim)

    def cumprod(self, dim=None, *, axis=None):
        """``x.cumprod(1)``, NumPy's and torch's: ``sg.cumprod(x, axis=1)``."""
        return BY_LATER_MODULES["cumprod"](self, axis=axis if dim is None else dim)

    def prod(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """``x.prod(1)``, NumPy's and torch's: ``sg.prod(x, axis=1)``."""
        return BY_LATER_MODULES["prod"](self, axis=axis if dim is None else dim,
                                        keepdims=keepdim if keepdims is None else keepdims)

    def norm(self, p=2, dim=None, keepdim=False):
        """torch's ``x.norm(p, dim, keepdim)``: ``sg.norm(x, p, axis=dim, keepdims=keepdim)``."""
        return BY_LATER_MODULES["norm"](self, p, axis=dim, keepdims=keepdim)

    def gather(self, dim, index):
        """torch's ``x.gather(dim, index)``: ``sg.take_along_axis(x, index, axis=dim)``."""
        return BY_LATER_MODULES["gather_along"](self, dim, index)

    def take_along_dim(self, indices, dim):
        """torch's ``x.take_along_dim(indices, dim)``: ``sg.take_along_axis(x, indices, axis=dim)``."""
        return BY_LATER_MODULES["take_along_axis"](self, indices, dim)

    def relu(self):
        return BY_LATER_MODULES["relu"](self)

    def sigmoid(self):
        return BY_LATER_MODULES["sigmoid"](self)

    def tanh(self):
        return elementwise(sp.tanh, self)

    def pow(self, exponent):              # torch's x.pow(2): x ** 2
        return self ** exponent

    # torch's elementwise methods: x.exp(), x.log(), x.abs(), x.sqrt(), x.rsqrt(), x.square()
    def exp(self):
        return elementwise(sp.exp, self)

    def log(self):
        return elementwise(sp.log, self)

    def abs(self):
        return elementwise(sp.Abs, self)

    def sqrt(self):
        return elementwise(sp.sqrt, self)

    def rsqrt(self):
        return elementwise(lambda a: 1 / sp.sqrt(a), self)

    def square(self):
        return self ** 2

    @property
    def at(self):
        """JAX's ``x.at[idx].set(v)`` / ``.add(v)``: refused when indexed, naming symgrad's spellings."""
        return _AtRefusal(self)

    def detach(self):
        """torch's ``x.detach()``: the same values, with no gradient through them
        (``sg.stop_gradient(x)``). An integer tensor has none to stop: it is itself."""
        if _integer_of(self):
            return self
        from .stop_gradient import stop_gradient
        return stop_gradient(self)

    # torch's dtype casts: a declaration has one float dtype (the program's), so .float() / .double()
    # of a real tensor is itself and of an integer one its values as reals; .long() / .int() keep an
    # integer tensor and refuse a real one (rounding has no gradient)
    def float(self):
        return self if not _integer_of(self) else Ewise(sp.Mul(sp.Float(1.0), _unwrap(self), evaluate=False),
                                                          Tuple(*self.shape))

    double = float

    def astype(self, dtype):
        """NumPy's / jax's ``x.astype(dtype)``: as torch's ``x.to(dtype)`` — a float dtype is x
        itself (one float dtype per program: sg.compile's dtype=), an integer one is ``.long()``."""
        return self.to(dtype)

    def ravel(self):
        """NumPy's ``x.ravel()``: ``x.reshape(-1)``."""
        return self.reshape(-1)

    def long(self):
        if not _integer_of(self):
            raise IntegerTensorError(f"{self}.long(): {self} is a real tensor; rounding to integers has no "
                                     f"gradient. Integer labels and indices are declared sg.tensor(name, "
                                     f"shape, integer=True) and given with the inputs")
        return self

    int = long

    def amax(self, dim=None, keepdim=False):   # torch's; a tie's gradient split evenly, as torch's
        return BY_LATER_MODULES["amax"](self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return BY_LATER_MODULES["amin"](self, dim, keepdim)

    def clamp_min(self, min):  # noqa: A002 - torch's names
        return BY_LATER_MODULES["clip"](self, min, None)

    def clamp_max(self, max):  # noqa: A002
        return BY_LATER_MODULES["clip"](self, None, max)

    def repeat(self, *sizes):
        """torch's ``x.repeat(2, 1)`` (NumPy's ``np.tile``): see `symgrad.frontend.tensor_shapes.repeat`."""
        return BY_LATER_MODULES["repeat"](self, *sizes)

    def repeat_interleave(self, repeats, dim=None):
        """torch's ``x.repeat_interleave(2, dim=1)`` (NumPy's ``np.repeat``)."""
        return BY_LATER_MODULES["repeat_interleave"](self, repeats, dim)

    def roll(self, shifts, dims=None):
        """torch's ``x.roll(1, 2)`` (NumPy's ``np.roll``)."""
        return BY_LATER_MODULES["roll"](self, shifts, dims)

    def dot(self, o):
        """x.dot(w), NumPy's spelling of x @ w (cs231n's scores = X.dot(W))."""
        return matmul(self, o)

    # -- symgrad's own elementwise functions (functions.py) call this with f(x) for an argument
    # with this tensor inside: sg.relu(x @ w + b) is a tensor with the methods, as sg.as_tensor
    # makes it; within plain_algebra (rebuilding the bodies of elementwise nodes) it stays f(x).
    def _elementwise_result(self, applied):
        return applied if _PLAIN or not isinstance(applied, sp.Basic) else as_tensor(applied)

    # -- NumPy's own functions: refused, naming the spelling that works -------------------------
    # A student writes the forward as in NumPy: np.maximum(x, 0), np.exp(x), np.sum(x, axis=0).
    # NumPy would call into SymPy and fail with "cannot determine truth value of Relational" or
    # "loop of ufunc does not support argument 0"; these hooks say what to write instead.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # np.float64(2.0) * x reaches here too (NumPy scalars defer to this hook): a NumPy scalar
        # or 0-d array is a number, and the operator is ours, as before the hook existed
        op = _NUMPY_OPERATORS.get(ufunc.__name__)
        if op is not None and method == "__call__" and not kwargs and len(inputs) == 2:
            a, b = (v.item() if isinstance(v, (np.generic, np.ndarray)) and np.ndim(v) == 0
                    else as_expr(v) if _arange_values(v) is not None else v     # np.arange(3) + x
                    for v in inputs)
            if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
                return op(a, b)
            raise UnsupportedError(f"a NumPy array of shape {np.shape(a if isinstance(a, np.ndarray) else b)} "
                                   f"in a tensor declaration: declare it as a tensor (sg.tensor) and give "
                                   f"its value with the others, or use a number")
        raise UnsupportedError(_numpy_refusal(ufunc.__name__))

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in _NUMPY_SPELLING:
            raise UnsupportedError(_numpy_refusal(func.__name__))
        return func._implementation(*args, **kwargs)     # np.shape, np.ndim, ...: NumPy's own, as before

    # printing: a method call binds tighter than any operator
    precedence = PRECEDENCE["Atom"]


class Tensor(ArraySymbol, TensorExpr):
    """An N-d symbol: ``Tensor("x", (N, 3))``; ``integer=True`` for labels and indices (never
    differentiated, fed with integers). `tensor` is the public constructor."""

    def __new__(cls, name, shape, integer=False):
        name = name.name if isinstance(name, (sp.Symbol, sp.core.symbol.Str)) else str(name)
        shape = Tuple(*[_dim(d) for d in shape])
        return Expr.__new__(cls, sp.core.symbol.Str(name), shape, sp.true if integer else sp.false)

    __getitem__ = TensorExpr.__getitem__      # NumPy indexing, not ArraySymbol's element access

    @property
    def name(self) -> str:
        return self.args[0].name

    @property
    def shape(self) -> tuple:
        return tuple(int(d) if d.is_Integer else d for d in self.args[1])

    @property
    def is_integer_tensor(self) -> bool:
        return bool(self.args[2])

    @property
    def free_symbols(self):
        return {self}

    @property
    def _diff_wrt(self):
        # SymPy's sp.diff(f, W) asks this of W first; its answer was False, and its error "Can't
        # calculate derivative wrt W." named no way out. SymPy asks it only of a variable of
        # differentiation, so only that is refused.
        raise ArgumentError(f"sp.diff(f, {self.name}): SymPy differentiates by scalar symbols, and "
                            f"{self.name} is an sg.tensor of shape {fmt(self.shape)}; write "
                            f"sg.grad(f, {self.name}) (the gradient of a scalar f, of {self.name}'s shape), "
                            f"sg.jacobian(F, {self.name}) or sg.derive(f, {self.name}) (the steps)")

    def _hashable_content(self):
        return self.args

    def _sympystr(self, printer):
        return self.name

    def _latex(self, printer):
        return printer._print(sp.Symbol(self.name))


def tensor(name: str, shape, integer: bool = False) -> Tensor:
    """An N-d symbol with NumPy semantics. ``shape`` is a tuple of ints or integer SymPy symbols
    (bound from the arrays at run time); ``integer=True`` declares labels or indices.

    >>> import sympy as sp, symgrad as sg
    >>> N = sp.Symbol("N", integer=True, positive=True)
    >>> y = sg.tensor("y", (N,), integer=True)
    >>> y.shape, y.is_integer_tensor
    ((N,), True)
    """
    if not isinstance(name, str) or not name.strip():
        raise ArgumentError(f"a tensor's name must be a non-empty string, got {name!r}")
    if not isinstance(shape, (tuple, list, Tuple)):
        raise ShapeError(f"tensor {name!r}: shape must be a tuple, got {shape!r}")
    if not isinstance(integer, (bool, np.bool_)):
        raise ArgumentError(f"tensor {name!r}: integer= must be True or False, got {integer!r}")
    return Tensor(name, shape, bool(integer))


# ===================================================================================================
# Elementwise expressions


class Ewise(TensorExpr):
    """An elementwise expression: a SymPy scalar expression whose atoms include tensors, broadcast
    to ``shape``. Prints as the expression itself: ``b + x @ w``."""
    _passes_infinities = True     # a −inf entry reaches the output as it is (see tensor_index._finite_masks)

    def __new__(cls, expr, shape):
        expr, shape = as_expr(expr), Tuple(*shape)
        # never nested: SymPy's algebra (expand distributing 2·(a + b)) applies Python operators to
        # the tensors inside, which make Ewise nodes of their own
        while isinstance(expr, Ewise) and expr.args[1] == shape:
            expr = expr.args[0]
        if isinstance(expr, TensorExpr) and Tuple(*expr.shape) == shape:
            return expr
        return Expr.__new__(cls, expr, shape)

    @property
    def expr(self):
        return self.args[0]

    @property
    def shape(self):
        return tuple(int(d) if d.is_Integer else d for d in self.args[1])

    @property
    def is_integer_tensor(self):
        """Integer arithmetic of integer tensors is an integer tensor, as NumPy's and torch's:
        ``sg.arange(N) + N``, ``N - 1 - ids``, ``2 * ids`` (NT-Xent's labels); a division, a float or
        a real tensor anywhere makes it real. (Until the eleventh session every Ewise was real, and
        ``sg.cross_entropy(sim, sg.concat([sg.arange(N) + N, sg.arange(N)]))`` took the labels for
        probabilities.)"""
        stand_ins, todo = {}, [self.expr]
        while todo:
            e = todo.pop()
            if isinstance(e, TensorExpr):
                if not _integer_of(e):
                    return False
                stand_ins[e] = sp.Dummy(integer=True)
            else:
                todo.extend(e.args)
        return bool(stand_ins) and self.expr.xreplace(stand_ins).is_integer is True

    @property
    def precedence(self):
        return precedence(self.expr)

    def _sympystr(self, printer):
        return printer._print(self.expr)

    def _latex(self, printer):
        return printer._print(self.expr)


def _unwrap(e):
    return e.expr if isinstance(e, Ewise) and tuple(shape_of(e.expr)) == tuple(e.shape) else e


def as_tensor(e, shape=None):
    """A tensor expression with methods (``.sum``, ``.reshape``, ...) for ``e``: a tensor is
    returned as it is, a SymPy expression of tensors (``sp.tanh(x)``) is wrapped in `Ewise`.

    >>> import sympy as sp, symgrad as sg
    >>> x = sg.tensor("x", (2, 3))
    >>> sg.as_tensor(sp.tanh(x)).sum(axis=1)
    tanh(x).sum(axis=1)
    """
    if isinstance(e, sp.NDimArray):
        raise numpy_array_refusal(e, "sg.as_tensor")
    e = as_expr(e)
    if isinstance(e, TensorExpr) and (shape is None or tuple(e.shape) == tuple(shape)):
        return e
    s = shape_of(e)
    if shape is not None:
        s = broadcast_shapes(s, tuple(shape))
    return Ewise(_unwrap(e), s)


# While _binary builds the SymPy expression, SymPy's own algebra may apply Python operators to the
# tensors inside (distributing −1 over a sum): they must build plain SymPy nodes then, not Ewise.
_PLAIN = []


class plain_algebra:
    """Within it, Python operators on tensors build plain SymPy nodes (for code that assembles
    elementwise bodies with tensors in them, as the conversion from the IR does)."""

    def __enter__(self):
        _PLAIN.append(True)

    def __exit__(self, *exc):
        _PLAIN.pop()


def _binary(op, a, b, sym):
    # np.arange(0, 8, 2) / torch.arange(T) of whole numbers in steps: sg.arange of them (same values)
    a, b = (as_expr(v) if _arange_values(v) is not None else v for v in (a, b))
    for v in (a, b):                  # s + (1 - mask) * -1e9 with mask a NumPy array (or a SymPy one)
        if isinstance(v, np.ndarray) and v.ndim or isinstance(v, sp.NDimArray):
            raise numpy_array_refusal(v, f"'{sym}'")
    for v in (a, b):                  # (ids != 0) * x: a tensor's == and != are SymPy's structural ones
        if isinstance(v, (bool, np.bool_, sp.logic.boolalg.BooleanAtom)):
            raise ArgumentError(
                f"'{sym}' of a tensor and the bool {v}: a tensor's == and != compare the expressions "
                f"(SymPy's ==, a Python bool), not the entries — (ids != 0) * x is not a mask. Write "
                f"sp.Ne(ids, 0) * x or sp.Eq(ids, 0) * x (a 0/1 mask, as NumPy's), or ids > 0")
    a, b = _mask_of(a), _mask_of(b)
    a, b = as_expr(a), as_expr(b)
    if any(v.is_number and v.is_extended_real is False for v in (a, b)):
        # I*x: SymPy's own probe of an argument (floor's eval asks whether (I*x).is_real, to take an
        # imaginary part apart). An Ewise would answer True (a tensor expression is real), and
        # sp.floor(x) became floor(0)·I = 0; the plain node answers False. symgrad has no complex
        # tensors, so the plain product is only ever such a probe.
        return op(_unwrap(a), _unwrap(b))
    sa, sb = shape_of(a), shape_of(b)
    try:
        shape = broadcast_shapes(sa, sb)
    except BroadcastError:
        raise BroadcastError(f"{a} {sym} {b}: cannot broadcast {fmt(sa)} with {fmt(sb)} (NumPy's "
                             f"rule: trailing dimensions must be equal or 1)") from None
    _PLAIN.append(True)
    try:
        with distribute(False):
            expr = op(_unwrap(a), _unwrap(b))
    finally:
        _PLAIN.pop()
    if isinstance(expr, TensorExpr) and tuple(expr.shape) == shape:
        return expr
    return Ewise(expr, shape)


def _mask_of(c):
    """A comparison of tensors in arithmetic is NumPy's boolean array: its 0/1 mask, where(c, 1, 0) —
    so ``(x > 0) * x`` is relu, as in NumPy (SymPy itself refuses a relational in a product). A
    comparison of plain scalars is left to SymPy."""
    if isinstance(c, sp.core.relational.Relational) and any(is_tensor_expr(a) for a in c.args):
        return BY_LATER_MODULES["where"](c, 1, 0)
    return c


def elementwise(f, x):
    """``f`` (a SymPy function class, or a callable of one scalar) applied to every entry of the
    tensor (or matrix) ``x``. For tensors, ``f(x)`` is the same thing; this wraps it so that it
    has the NumPy methods.

    >>> import sympy as sp, symgrad as sg
    >>> x = sg.tensor("x", (2, 3))
    >>> sg.elementwise(sp.tanh, x).max(axis=1)
    tanh(x).max(axis=1)
    """
    if is_tensor_expr(x):
        return as_tensor(f(_unwrap(x)), shape_of(x))
    from .functions import elementwise as matrix_elementwise
    return matrix_elementwise(f, x)


# ===================================================================================================
# Nodes with a shape rule of their own


def _tensor_arg(x, who):
    x = as_expr(x)
    if isinstance(x, (sp.MatrixExpr, sp.MatrixBase)):
        shape_of(x)                          # raises MixedArrayError
    if not is_tensor_expr(x):
        raise ShapeError(f"{who} takes a tensor (sg.tensor), got {x!r}")
    return as_tensor(x)


def _paren(printer, x):
    s = printer._print(x)
    return f"({s})" if precedence(x) < PRECEDENCE["Func"] else s   # f(x).sum() needs none


class TensorMatMul(TensorExpr):
    """a @ b, NumPy's matmul: batched over leading axes (broadcast), a 1-D operand a vector."""

    precedence = PRECEDENCE["Mul"]

    @property
    def shape(self):
        a, b = self.args[0].shape, self.args[1].shape
        return _matmul_shape(a, b)

    def _sympystr(self, printer):
        a, b = self.args
        pa = printer.parenthesize(a, PRECEDENCE["Mul"], strict=True)    # (a*b) @ c reads a*b @ c
        pb = printer.parenthesize(b, PRECEDENCE["Mul"], strict=False)   # a @ (b*c) needs them
        return f"{pa} @ {pb}"

    def _latex(self, printer):
        a, b = self.args
        return "%s %s" % (printer.parenthesize(a, PRECEDENCE["Mul"]), printer.parenthesize(b, PRECEDENCE["Mul"]))


def _matmul_shape(a, b, names=("a", "b")):
    if len(a) == 0 or len(b) == 0:
        raise ShapeError(f"@: a scalar operand ({names[0] if not a else names[1]}); use * for scalars")
    a2 = (1,) + tuple(a) if len(a) == 1 else tuple(a)
    b2 = tuple(b) + (1,) if len(b) == 1 else tuple(b)
    if not dims_equal(a2[-1], b2[-2]):
        raise ShapeError(f"{names[0]} @ {names[1]}: inner dimensions differ: {fmt(a)} @ {fmt(b)} "
                         f"({a2[-1]} vs {b2[-2]})")
    batch = broadcast_shapes(a2[:-2], b2[:-2], names=[f"the batch axes of {n}" for n in names])
    out = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def matmul(a, b):
    a, b = _tensor_arg(a, "@"), _tensor_arg(b, "@")
    try:
        _matmul_shape(a.shape, b.shape)
    except ShapeError:     # print the operands only now: printing a deep residual network is slow
        # operands in parentheses where the product prints them (TensorMatMul._sympystr):
        # x.T @ (1 - h**2), not x.T @ 1 - h**2
        _matmul_shape(a.shape, b.shape, (f"({a})" if precedence(a) < PRECEDENCE["Mul"] else str(a),
                                         f"({b})" if precedence(b) <= PRECEDENCE["Mul"] else str(b)))
    return TensorMatMul(a, b)


# what TorchMethods (torch_tensor_methods.py, which imports no front-end module) calls from here
BY_LATER_MODULES.update(as_tensor=as_tensor, as_expr=as_expr, elementwise=elementwise, shape_of=shape_of,
                        normalize_axis=normalize_axis, binary=_binary, broadcast_shapes=broadcast_shapes)


def _in_place(name):
    """torch's in-place ``x.name_(...)``: refused, naming ``x.name(...)`` (it was "no attribute 'name_'")."""
    def method(self, *args, **kwargs):
        raise BY_LATER_MODULES["in_place_refusal"](self, name)
    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"torch's in-place ``x.{name}_(...)``: refused; write ``x = x.{name}(...)``."
    return method


# (methods, not a __getattr__: SymPy probes missing attributes all the time, see sympy_node_methods)
for _name in ("add", "sub", "mul", "div", "pow", "neg", "abs", "exp", "log", "sqrt", "rsqrt", "sigmoid", "tanh",
              "relu", "clamp", "clamp_min", "clamp_max", "masked_fill", "square", "reciprocal", "log1p", "expm1",
              "sin", "cos", "floor", "ceil", "round", "t", "transpose", "unsqueeze", "squeeze", "tril", "triu"):
    if hasattr(TensorExpr, _name) and not hasattr(TensorExpr, _name + "_"):
        setattr(TensorExpr, _name + "_", _in_place(_name))
