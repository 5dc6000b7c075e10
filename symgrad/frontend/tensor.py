"""N-d tensors with NumPy semantics: `tensor`, its expressions, and the ``sg.*`` array functions.

A tensor is a SymPy object (`Tensor` subclasses SymPy's ``ArraySymbol``), so it prints, substitutes
and stays inside SymPy. Its expressions follow NumPy, as cs231n and PyTorch code write them:
``+ - * / **`` elementwise with broadcasting, ``@`` the matrix product batched over leading axes,
``x[:, 0:3]`` slicing, ``.T``, ``.reshape``, ``.sum(axis, keepdims)``... Dimensions may be symbolic
(``N = sp.Symbol("N", integer=True, positive=True)``); they are bound from the arrays at run time.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x, w, b = sg.tensor("x", (N, 3, 2)), sg.tensor("w", (6, 5)), sg.tensor("b", (5,))
>>> out = x.reshape(N, -1) @ w + b
>>> out, out.shape
(b + x.reshape(N, 6) @ w, (N, 5))
>>> sg.sum(sg.relu(out), axis=0)
relu(b + x.reshape(N, 6) @ w).sum(axis=0)

Elementwise arithmetic is SymPy's own scalar algebra with the tensors as atoms (elementwise + and *
commute), wrapped in `Ewise` so that the result keeps a shape and the NumPy methods. symgrad's own
functions (``sg.relu(x)``, ``sg.tanh(x)``, ...) give such a tensor expression too. Any other scalar
function applies entry by entry: ``sp.tanh(x)``, ``sp.Max(x, 0)`` are SymPy's own nodes whose argument
is a tensor; they answer the tensor methods (``sp.tanh(h).sum(axis=1)``, `sympy_node_methods`), but
not indexing (``sg.tanh(h)[:, 0]``, or wrap with `as_tensor`).

The two array languages do not mix: a ``MatrixSymbol`` (matrix calculus, ``*`` is the matrix
product) inside a tensor expression is a `MixedArrayError`; scalar Symbols work in both.

This module gathers them: the core (`tensor_expr`: the node, its methods, broadcasting, ``@``) and the
array functions by topic (`tensor_reduce`, `tensor_movement`, `tensor_index`); import from here.
"""
from __future__ import annotations

from .parse import as_expr             # noqa: F401 - user text is parsed, never evaluated
from .parse import register_tensor_function as _register_text
from .parse import register_tensors as _register_tensors
from .tensor_expr import (  # noqa: F401 - the names of the array functions, in one place
    BY_LATER_MODULES, _axes, _binary, _dim, _div, _integer_of, _is_tensor_node, _mask_of, _matmul_shape,
    _NUMPY_OPERATORS, _numpy_refusal, _NUMPY_SPELLING, _operator, _paren, _PLAIN, _sub,
    _tensor_arg, _torch_dim_of_var, _unwrap, as_tensor, broadcast_shapes, dims_equal,
    elementwise, Ewise, fmt, is_tensor_expr, matmul, normalize_axis, plain_algebra, torch_reduce_names, axis_or_dim, DefaultAxis,
    reduced_shape, shape_of, Tensor, tensor, TensorExpr, TensorMatMul)
from .tensor_movement import (  # noqa: F401 - the names of the array functions, in one place
    _size, broadcast, BroadcastTo, Concat, concat, Full, Permute, permute, reshape,
    Reshape, stack)
from .tensor_reduce import (  # noqa: F401 - the names of the array functions, in one place
    _ddof, _keepdims, _reduce, argmax, ArgMax, max, mean, min, Reduce, std, sum, var,
    Variance)
from .tensor_index import (  # noqa: F401 - the names of the array functions, in one place
    _bound, _int_tensor_arg, _padding_row, _refuse_masks, _slice_len, embedding,
    gather_along, Index, index, MAX_CLASSES, one_hot, OneHot, Pad, ScatterAdd, Take,
    take, take_along_axis, TakeAlong, where, Where)
from .tensor_index_add import index_add  # noqa: F401,E402 - torch's index_add (graph message passing)
from . import sympy_node_methods  # noqa: F401,E402 - sp.tanh(h).mean(): the methods on SymPy's nodes

__all__ = ["Tensor", "TensorExpr", "tensor", "as_tensor", "is_tensor_expr", "shape_of",
           "Ewise", "TensorMatMul", "Reduce", "Variance", "Reshape", "Permute", "Index", "Concat",
           "Where", "OneHot", "Take", "TakeAlong", "BroadcastTo", "Full", "ArgMax", "ScatterAdd",
           "Pad", "broadcast_shapes", "normalize_axis", "reduced_shape",
           "sum", "mean", "max", "min", "var", "std", "concat", "stack", "where", "one_hot", "take",
           "take_along_axis", "embedding", "index_add", "broadcast", "elementwise"]

_register_tensors(is_tensor_expr, Tensor)     # the text parser reads tensors (it does not import this module)
# ... and calls these of a tensor, with NumPy's keywords (their values constants of the text):
# sum(x, axis=0), one_hot(y, 4)
for _name, _build in (("sum", sum), ("mean", mean), ("max", max), ("min", min)):
    _register_text(_name, _build)
_register_text("one_hot", one_hot, (2, 2), rest=("dims_entry",), keywords={"axis": "axis"})
for _name, _build in (("std", std), ("var", var)):      # std(x, axis=0, ddof=1), var(x, 0)
    _register_text(_name, _build, keywords={"axis": "axis", "keepdims": "bool", "ddof": "number",
                                            "correction": "number"})
del _name, _build
