"""The tensor methods on SymPy's own nodes of tensors: ``sp.tanh(x @ W + b).mean()``.

A researcher writes ``h = sp.tanh(x @ W + b)``, ``p = sp.exp(z) / sp.exp(z).sum(axis=1,
keepdims=True)``, ``sp.Max(z, 0)``, ``sp.sqrt(v + eps)``. SymPy builds those nodes itself (its
``tanh``, ``exp``, ``Max``, ``Pow``, ``Piecewise``...), and no SymPy hook lets the argument choose the
class of the result: ``Function.__new__`` asks only the function's own ``eval``. So the node stays
SymPy's — it prints, substitutes and differentiates as before, and symgrad lowers it entry by entry
(`is_tensor_expr`) — and what it lacked was the methods: ``sp.tanh(h).mean()`` was SymPy's
``AttributeError: 'tanh' object has no attribute 'mean'``.

The hook: one ``__getattr__`` on SymPy's ``Expr``. Python calls it only when the ordinary lookup has
failed, so no existing attribute of any SymPy object changes. For the public names of a tensor's
methods (``mean``, ``sum``, ``T``, ``reshape``, ``shape``, ``softmax`` ...) of an expression with a
tensor inside, it answers ``getattr(sg.as_tensor(e), name)``; for anything else it raises Python's
usual ``AttributeError``. Two names SymPy's ``Expr`` has itself would be silently wrong on such a
node — ``sp.tanh(h).transpose()`` was SymPy's transpose of a scalar, the same (N, H) expression, and
``sp.tanh(v).expand(N, 3)`` SymPy's algebraic expand with ``deep=N, modulus=3`` — so these two are
wrapped: with a tensor inside (and, for ``expand``, torch's sizes given, no SymPy hints) they are the
tensor's; otherwise SymPy's, unchanged. Python's operators are looked up on the class,
never through ``__getattr__``: ``sp.tanh(h) @ W`` works (``W.__rmatmul__``), ``sp.tanh(h)[:, 0]`` does
not (giving SymPy's ``Expr`` a ``__getitem__`` would make every SymPy expression iterable); index
``sg.tanh(h)[:, 0]`` or ``sg.as_tensor(sp.tanh(h))[:, 0]``.

>>> import sympy as sp, symgrad as sg
>>> x = sg.tensor("x", (2, 3))
>>> sp.tanh(x).sum(axis=1)
tanh(x).sum(axis=1)
"""
from __future__ import annotations

import sympy as sp

from .tensor_expr import TensorExpr, as_tensor, is_tensor_expr


def _public_tensor_methods() -> frozenset:
    """The public methods and properties of a tensor expression that SymPy's ``Expr`` lacks."""
    names = set()
    for k in TensorExpr.__mro__:
        if k.__module__.startswith("symgrad."):
            names.update(n for n in vars(k) if not n.startswith(("_", "is_")))
    return frozenset(n for n in names if not hasattr(sp.Expr, n)) - {"precedence"}


_TENSOR_METHODS = _public_tensor_methods()


def _tensor_method(self, name):
    """``e.<name>`` of a SymPy expression with a tensor inside: the tensor expression's (see above)."""
    if name in _TENSOR_METHODS:
        if not isinstance(self, (TensorExpr, sp.MatrixExpr)) and is_tensor_expr(self):
            return getattr(as_tensor(self), name)
    elif name[0] == "_":               # SymPy's own probes (_eval_*, _print_*...): no message to format
        raise AttributeError(name)
    # the lookup again, which raises its own error: Python's "object has no attribute", or the one a
    # property raised (x.max(axis=1).values explains itself), which Python dropped to call this hook
    return object.__getattribute__(self, name)


_sympy_transpose, _sympy_expand = sp.Expr.transpose, sp.Expr.expand


def _of_nodes(self):
    """True for a SymPy node (not a tensor's or a matrix's own class) with a tensor inside."""
    return not isinstance(self, (TensorExpr, sp.MatrixExpr)) and is_tensor_expr(self)


def _transpose(self, *axes):
    """``e.transpose(*axes)``: the tensor's (NumPy's and torch's) for a node of tensors, else SymPy's."""
    return as_tensor(self).transpose(*axes) if _of_nodes(self) else _sympy_transpose(self, *axes)


def _expand(self, *sizes, **hints):
    """``e.expand(N, -1)``: torch's broadcast for a node of tensors; SymPy's algebraic expand for
    everything else, and for SymPy's own calls (keywords, or its bool ``deep``)."""
    if sizes and not hints and not any(isinstance(a, bool) for a in sizes) and _of_nodes(self):
        return as_tensor(self).expand(*sizes)
    return _sympy_expand(self, *sizes, **hints)


if "__getattr__" not in vars(sp.Expr):      # once, however often this module is reloaded
    sp.Expr.__getattr__ = _tensor_method
    sp.Expr.transpose, sp.Expr.expand = _transpose, _expand
