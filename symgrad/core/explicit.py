"""Graph variables written out entry by entry as SymPy scalars: the entries of a tensor's Jacobian.

`evaluate` runs the IR in float64; `explicit` runs it on NumPy arrays of SymPy expressions
(``dtype=object``), a tensor leaf x of shape (2, 3) being the array of its entries x[0, 0] …
x[1, 2] (SymPy's ``ArrayElement``, which ``sympy.diff`` takes as a variable). The structural
primitives (reshape, permute, slice, pad, concat, expand, sums, the matrix product) are NumPy's
own on such arrays; ``ewise`` substitutes the entries into its SymPy body. Primitives whose entries
depend on the values — a max over an axis (which entry is largest), one_hot / take of integer labels,
the windows of a convolution — are refused with an `UnsupportedError` that names them.

>>> import sympy as sp, symgrad as sg
>>> from symgrad.core.ir import Graph
>>> from symgrad.core.lower import Lowering
>>> x = sg.tensor("x", (2,))
>>> g = Graph(); low = Lowering(g, params=[x]); v = low(sg.sum(x ** 2))
>>> explicit(g, [v])[0]
x[0]**2 + x[1]**2
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import sympy as sp
from sympy.tensor.array.expressions import ArrayElement

from . import array_rules as A
from . import diag_rules as DR
from . import rules as R
from ..errors import ShapeError, UnsupportedError
from ..frontend.tensor import TensorExpr
from .ir import Graph, Var, format_shape
from .placeholders import placeholders


def _objects(a) -> np.ndarray:
    return np.asarray(a, dtype=object)


def _leaf(sym, shape):
    """A leaf's value: a scalar symbol itself, a tensor or matrix the array of its entries."""
    if shape == ():
        return sym
    if any(not isinstance(d, int) for d in shape):
        raise ShapeError(f"{sym} has the symbolic shape {format_shape(shape)}: its entries can be "
                         f"written out only at concrete sizes")
    out = np.empty(tuple(shape), dtype=object)
    for idx in np.ndindex(*shape):
        out[idx] = ArrayElement(sym, idx) if isinstance(sym, TensorExpr) else sym[idx]
    return out


def _const(args, params):
    v, shape = params
    if isinstance(v, (sp.MatrixExpr, sp.MatrixBase)):
        m = v if isinstance(v, sp.MatrixBase) else v.as_explicit()
        return _objects(m.tolist())
    return sp.sympify(v) if shape == () else np.full(tuple(int(d) for d in shape), sp.sympify(v), dtype=object)


def _ewise(args, params):
    body, shape = params
    ph = placeholders(len(args))
    if shape == ():
        return body.xreplace(dict(zip(ph, args)))
    out = np.empty(tuple(shape), dtype=object)      # a scalar operand (b·1 of a column) broadcast too
    arrays = [np.broadcast_to(_objects(a), out.shape) for a in args]
    for idx in np.ndindex(*out.shape):
        out[idx] = body.xreplace(dict(zip(ph, [a[idx] for a in arrays])))
    return out


def _pad(args, params):
    shape, items = params
    z = np.full(A._ints(shape), sp.S.Zero, dtype=object)
    z[A._slices(items)] = args[0]
    return z


def _lse(args, params):
    x, ax = _objects(args[0]), params[0]
    return np.vectorize(sp.log, otypes=[object])(np.sum(np.vectorize(sp.exp, otypes=[object])(x),
                                                        axis=ax, keepdims=True))


def _logsumexp(args, params):
    """The matrix language's logsumexp over every entry (softmax(z) of a MatrixSymbol z)."""
    x = _objects(args[0])
    return sp.log(sp.Add(*[sp.exp(e) for e in x.ravel()])) if x.ndim else x.item()


def _sum(args, params):
    if params[0] is None:
        return sp.Add(*_objects(args[0]).ravel())
    return np.sum(_objects(args[0]), axis=params[0], keepdims=True)


# {primitive: its evaluation on object arrays}; the rest of the structural primitives use their
# own NumPy ``impl``, which works on object arrays unchanged
OBJECT_IMPLS = {
    R.const_p: _const,
    R.ewise_p: _ewise,
    R.sum_p: _sum,
    R.broadcast_p: lambda args, params: np.broadcast_to(_objects(args[0]), params[0]).copy(),
    A.pad_p: _pad,
    A.lse_p: _lse,
    R.logsumexp_p: _logsumexp,
    A.rsum_p: lambda args, params: np.sum(_objects(args[0]), axis=params[0], keepdims=True),
}
AS_IMPL = {R.matmul_p, R.transpose_p, A.reshape_p, A.permute_p, A.expand_p, A.slice_p, A.concat_p,
           A.bmatmul_p, DR.diag_p, DR.diagonal_p}


def explicit(graph: Graph, outs: Sequence[Var], memo: dict | None = None) -> list:
    """The values of ``outs`` as SymPy expressions (a scalar) or object arrays of them, over the
    entries of the leaves. ``memo`` (var id -> value) is shared between calls on one graph."""
    env = {} if memo is None else memo
    for eqn in graph.ancestors(list(outs)):
        if eqn.out.id in env:
            continue
        if eqn.prim is R.param_p or eqn.prim is R.input_p:
            env[eqn.out.id] = _leaf(*eqn.params)
            continue
        args = [env[u.id] for u in eqn.inputs]
        if eqn.prim in OBJECT_IMPLS:
            env[eqn.out.id] = OBJECT_IMPLS[eqn.prim](args, eqn.params)
        elif eqn.prim in AS_IMPL:
            env[eqn.out.id] = eqn.prim.impl([_objects(a) for a in args], eqn.params)
        else:
            raise UnsupportedError(
                f"the entries of this Jacobian cannot be written out: it goes through "
                f"{getattr(eqn.prim, 'rule', None) or eqn.prim.name}, whose entries depend on the "
                f"values (which entry is largest, which label), not on a formula; written out are "
                f"elementwise functions, sums, products, reshapes, transposes, slices, concatenation, "
                f"diagonals and log-sum-exp. Take sg.grad of a reduction (sg.sum(F * u)) instead, or "
                f"sg.numeric at a point")
    return [env[v.id] for v in outs]


__all__ = ["explicit"]
