"""The tensor methods on SymPy's own nodes of tensors: ``sp.tanh(x @ W + b).mean()``.

A researcher writes ``h = sp.tanh(x @ W + b)``, ``p = sp.exp(z) / sp.exp(z).sum(axis=1,
keepdims=True)``, ``sp.Max(z, 0)``, ``sp.sqrt(v + eps)``. SymPy builds those nodes itself (its
``tanh``, ``exp``, ``Max``, ``Pow``, ``Piecewise``...), and no SymPy hook lets the argument choose the
class of the result: ``Function.__new__`` asks only the function's own ``eval``. So the node stays
SymPy's — it prints, substitutes and differentiates as before, and symgrad lowers it entry by entry
(`is_tensor_expr`) — and what it lacked was the methods: ``sp.tanh(h).mean()`` was SymPy's
``AttributeError: 'tanh' object has no attribute 'mean'``.

The hook: for each public name of a tensor's methods and properties that SymPy's ``Expr`` lacks
(``mean``, ``sum``, ``T``, ``reshape``, ``shape``, ``softmax`` ...), a descriptor on ``Expr`` that
answers ``getattr(sg.as_tensor(e), name)`` for a SymPy node with a tensor inside, and for every other
expression raises Python's own ``AttributeError`` (``hasattr(sp.tanh(a), "shape")`` is False, as
without symgrad). Any attribute of a SymPy class, and of its subclasses, is found before it, so no
existing attribute changes; ``dir()`` of an expression without a tensor lists what it listed. (It is
not a ``__getattr__`` on ``Expr``: SymPy probes missing attributes all the time, ``_argset``,
``_eval_expand_mul``, ``_sympystr``, and a Python ``__getattr__`` ran on each miss: simplify, series,
expand and lambdify took 1.1-1.5× their time, `bench/sympy_hook_cost.py`.) Two names SymPy's ``Expr``
has itself would be silently wrong on such a node — ``sp.tanh(h).transpose()`` was SymPy's transpose
of a scalar, the same (N, H) expression, and ``sp.tanh(v).expand(N, 3)`` SymPy's algebraic expand
with ``deep=N, modulus=3`` — so these two are wrapped: with a tensor inside (and, for ``expand``,
torch's sizes given, no SymPy hints) they are the tensor's; otherwise SymPy's, unchanged (their
``help()`` and signature are SymPy's). Python's operators are looked up on the class: ``sp.tanh(h) @ W``
works (``W.__rmatmul__``), ``sp.tanh(h)[:, 0]`` does not: it is an `ArgumentError` (a ``TypeError``)
that names ``sg.tanh(h)[:, 0]`` and ``sg.as_tensor(tanh(h))[:, 0]`` (eleventh session; it was Python's
bare "'tanh' object is not subscriptable"). So ``Expr`` has a ``__getitem__``, which raises for every
expression — Python's own message for one without a tensor inside — and which no subclass sees, as every
subclass that indexes (matrices, ``IndexedBase``, tensors) has its own. Indexing is not made to work:
Python would then iterate such a node by ``node[0], node[1], …``, endlessly over a symbolic N. With a
``__getitem__`` Python's ``iter()`` of any expression would succeed (its sequence fallback), so ``Expr``
also answers SymPy's ``iterable()`` probe ``_iterable`` with False where the ``__getitem__`` is this
one (elsewhere the attribute is absent, as before, and ``iterable()`` asks ``iter()``); ``len()`` is not
given a hook (a ``__len__`` would decide ``bool()`` of every expression).

>>> import sympy as sp, symgrad as sg
>>> x = sg.tensor("x", (2, 3))
>>> sp.tanh(x).sum(axis=1)
tanh(x).sum(axis=1)
"""
from __future__ import annotations

import functools

import sympy as sp

from ..errors import ArgumentError
from .tensor_expr import BY_LATER_MODULES, TensorExpr, as_tensor, is_tensor_expr


def _public_tensor_methods() -> frozenset:
    """The public methods and properties of a tensor expression that SymPy's ``Expr`` lacks."""
    names = set()
    for k in TensorExpr.__mro__:
        if k.__module__.startswith("symgrad."):
            names.update(n for n in vars(k) if not n.startswith(("_", "is_")))
    return frozenset(n for n in names if not hasattr(sp.Expr, n)) - {"precedence"}


def _is_node_of_tensors(e) -> bool:
    """True for a SymPy node (not a tensor's or a matrix's own class) with a tensor inside."""
    return not isinstance(e, (TensorExpr, sp.MatrixExpr)) and is_tensor_expr(e)


class _TensorMethodOfNode:
    """``e.<name>`` on SymPy's ``Expr``: the tensor expression's for a node of tensors; for any other
    expression (and for the class itself) Python's usual ``AttributeError``. Only ``__get__``: an
    attribute an instance holds itself would win, as without it."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __get__(self, e, owner=None):
        if e is not None and _is_node_of_tensors(e):
            return getattr(as_tensor(e), self.name)
        if e is None:
            raise AttributeError(f"type object {owner.__name__!r} has no attribute {self.name!r}",
                                 name=self.name, obj=owner)
        raise AttributeError(f"{type(e).__name__!r} object has no attribute {self.name!r}", name=self.name, obj=e)


_sympy_transpose, _sympy_expand = sp.Expr.transpose, sp.Expr.expand


@functools.wraps(_sympy_transpose)
def _transpose(self, *axes):
    if _is_node_of_tensors(self):      # the tensor's (NumPy's and torch's), axes or none
        return as_tensor(self).transpose(*axes)
    return _sympy_transpose(self, *axes)


@functools.wraps(_sympy_expand)
def _expand(self, *sizes, **hints):
    # torch's broadcast e.expand(N, -1) for a node of tensors; SymPy's algebraic expand for everything
    # else, and for SymPy's own calls (keywords, or its bool deep)
    if sizes and not hints and not any(isinstance(a, bool) for a in sizes) and _is_node_of_tensors(self):
        return as_tensor(self).expand(*sizes)
    return _sympy_expand(self, *sizes, **hints)


def _key_text(key) -> str:
    """``key`` as it was written between the brackets: ``:, 0``, ``1:3``, ``..., None``."""
    def one(k):
        if isinstance(k, slice):
            text = ":".join("" if v is None else str(v) for v in (k.start, k.stop))
            return text + (f":{k.step}" if k.step is not None else "")
        return "..." if k is Ellipsis else str(k)
    return ", ".join(one(k) for k in key) if isinstance(key, tuple) else one(key)


def _getitem(self, key):
    """``e[key]`` of a SymPy expression that does not index itself: for a node of tensors an
    `ArgumentError` naming the spelling that indexes; for any other Python's own ``TypeError``."""
    if not _is_node_of_tensors(self):
        raise TypeError(f"{type(self).__name__!r} object is not subscriptable")
    from .activations import _ACTIVATION_NAMES, MATRIX_SPELLINGS
    name, shown, where = self.func.__name__, ", ".join(str(a) for a in self.args), _key_text(key)
    fix = MATRIX_SPELLINGS.get(name) or (name if name in _ACTIVATION_NAMES else None)
    ours = f"sg.{fix}({shown})[{where}] (symgrad's {fix} gives a tensor expression, which indexes), or " \
        if fix and isinstance(self, sp.Function) else ""
    raise ArgumentError(f"{self}[{where}]: SymPy's {name} of a tensor is SymPy's own node, which Python "
                        f"cannot index; write {ours}sg.as_tensor({self})[{where}]")


class _NotIterableProbe:
    """``Expr._iterable`` for SymPy's ``iterable()``: False for an expression whose ``__getitem__`` is
    `_getitem` (iter() of it would otherwise succeed by Python's sequence fallback); absent — an
    ``AttributeError`` — for a subclass with its own ``__getitem__`` or ``__iter__``, as before.

    The answer is a class's, found once per class and kept in `_PROBED` (``iterable()`` asks twice a
    call, ``hasattr`` then the value, and SymPy calls it thousands of times in expand, series and
    lambdify): keyed by ``id`` with the class kept beside it — a class's own hash can be SymPy's
    (``Function('f')``'s hashes its name and assumptions: 12 µs a probe) — and emptied past
    `_PROBED_MAX` classes, so classes made on the fly (``Function(f"g{i}")``) are not held for
    ever. A class given a ``__getitem__`` or ``__iter__`` after it was first probed keeps its first
    answer. `bench/iterable_probe_cost.py` times it."""
    __slots__ = ()

    def __get__(self, e, owner=None):
        k = owner if e is None else type(e)
        seen, answer = _PROBED.get(id(k), _NOT_PROBED)
        if seen is not k:
            answer = getattr(k, "__getitem__", None) is _getitem and getattr(k, "__iter__", None) is None
            if len(_PROBED) >= _PROBED_MAX:
                _PROBED.clear()
            _PROBED[id(k)] = (k, answer)
        if answer:
            return False
        raise AttributeError("_iterable")


_PROBED: dict = {}              # id(class) → (class, whether iterable() says False for it)
_PROBED_MAX = 4096
_NOT_PROBED = (None, None)


class _MaskOfComparison:
    """``(x > 0).float()`` / ``.double()`` on SymPy's comparison of tensors: torch's bool tensor made
    real, the 0/1 mask ``where(x > 0, 1, 0)`` (what ``(x > 0) * x`` multiplies by already);
    ``.bool()`` the comparison itself and ``.logical_not()`` its negation. On a comparison without a
    tensor, Python's ``AttributeError``, as without symgrad."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __get__(self, c, owner=None):
        if c is not None and any(is_tensor_expr(a) for a in c.args):
            if self.name == "bool":                  # (x > 0).bool(): already the condition
                return lambda: c
            if self.name == "logical_not":
                return lambda: ~c
            return lambda: BY_LATER_MODULES["where"](c, 1.0, 0.0)
        what = f"type object {owner.__name__!r}" if c is None else f"{type(c).__name__!r} object"
        raise AttributeError(f"{what} has no attribute {self.name!r}", name=self.name, obj=c)


def _dir(self):
    """dir() of an expression: without the tensor names unless it is a node of tensors (they would
    only raise AttributeError there)."""
    names = object.__dir__(self)
    return names if _is_node_of_tensors(self) else [n for n in names if n not in _TENSOR_METHODS]


_TENSOR_METHODS = _public_tensor_methods()

if "_symgrad_tensor_methods" not in vars(sp.Expr):      # once, however often this module is reloaded
    for _name in _TENSOR_METHODS:
        setattr(sp.Expr, _name, _TensorMethodOfNode(_name))
    sp.Expr._symgrad_tensor_methods = _TENSOR_METHODS
    sp.Expr.transpose, sp.Expr.expand, sp.Expr.__dir__ = _transpose, _expand, _dir
    sp.Expr.__getitem__, sp.Expr._iterable = _getitem, _NotIterableProbe()
    for _name in ("float", "double", "bool", "logical_not"):
        setattr(sp.core.relational.Relational, _name, _MaskOfComparison(_name))
