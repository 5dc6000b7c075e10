"""The reference interpreter: evaluate graph variables for one example in float64 NumPy.

Slow and simple on purpose: it is the oracle the compiled backends are compared with, and what the
teaching views use to put numbers on the graph.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import sympy as sp

from . import rules as R
from ..errors import ArgumentError, LabelRangeError, ShapeError, SymgradError, show_value
from ..frontend.parse import as_expr
from ..frontend.tensor import TensorExpr
from .ir import Graph, Var, format_shape


def lookup(values: Mapping, sym):
    """The value of ``sym`` in ``values``, keyed by the symbol itself or by its name."""
    if not isinstance(values, Mapping):
        raise ArgumentError(f"values must be a dict keyed by symbol or name, got {values!r}")
    if sym in values:
        return values[sym]
    name = getattr(sym, "name", str(sym))
    if name in values:
        return values[name]
    raise SymgradError(f"no value given for {name!r}; values are keyed by the SymPy symbol or its name")


def _number(sym, v) -> float:
    if isinstance(v, (bool, str, bytes, complex, np.complexfloating)) or v is None:  # float() drops 1j of NumPy
        raise ArgumentError(f"the value of {sym} must be a real number, got {show_value(v)}")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ArgumentError(f"the value of {sym} must be a real number, got {show_value(v)}") from None


def _array(sym, v) -> np.ndarray:
    if isinstance(v, sp.MatrixBase):            # a SymPy user's at={X: sp.Matrix([[2, 1], [0, 3]])}
        try:
            return np.array(v.tolist(), dtype=float)
        except (TypeError, ValueError):         # a symbol or a complex entry
            raise ArgumentError(f"the value of {sym} must be a matrix of real numbers, got {v!r}") from None
    a = np.asarray(v)
    if a.dtype.kind not in "biuf":              # None would become NaN, text fail in NumPy
        raise ArgumentError(f"the value of {sym} must be an array of real numbers, got {v!r}")
    return a.astype(float)


def evaluate(graph: Graph, outs: Sequence[Var], values: Mapping, frozen: Mapping | None = None) -> list:
    """The values of ``outs`` (floats for scalars, 2-D arrays for matrices). ``frozen`` (var id ->
    value) holds those variables at the values given instead of computing them: a stop_gradient's
    value at another point (`symgrad.core.stop_gradients.frozen_values`)."""
    env: dict[int, object] = {}
    if not isinstance(values, Mapping):
        raise ArgumentError(f"values must be a dict keyed by symbol or name, got {values!r}")
    eqns = graph.ancestors(list(outs))
    dims = _bind_dims(eqns, values)            # N of a tensor's shape, from its array
    for eqn in eqns:
        if frozen and eqn.out.id in frozen:
            env[eqn.out.id] = frozen[eqn.out.id]
            continue
        if eqn.prim is R.param_p or eqn.prim is R.input_p:
            sym, shape = eqn.params
            if sym in dims:                    # a size (N) inside a formula: mean = Σ / N
                env[eqn.out.id] = float(dims[sym])
                continue
            v = lookup(values, sym)
            if isinstance(sym, TensorExpr):
                env[eqn.out.id] = _array(sym, v)
            elif shape == ():
                env[eqn.out.id] = _number(sym, v)
            else:
                a = _array(sym, v)
                if a.ndim == 1 and shape[1] == 1:
                    a = a.reshape(-1, 1)
                if a.shape != tuple(int(d) for d in shape):
                    raise ShapeError(f"value of {sym} has shape {a.shape}, expected {_as_tuple(shape)}")
                env[eqn.out.id] = a
        else:
            params = _substitute(eqn.params, dims) if dims else eqn.params
            try:
                env[eqn.out.id] = eqn.prim.impl([env[u.id] for u in eqn.inputs], params)
            except TypeError:
                _refuse_unbound_sizes(eqn, dims)
                raise
            except LabelRangeError as e:
                raise LabelRangeError(f"{e}{_whose_labels(graph, eqn)}") from None
    return [env[v.id] for v in outs]


def _whose_labels(graph: Graph, eqn) -> str:
    """' — a value of y': the integer tensors given by the user that a label or an index of ``eqn``
    is computed from (the error named one_hot or take, the IR's operations, not the labels)."""
    names = sorted({str(e.params[0]) for e in graph.ancestors(list(eqn.inputs))
                    if (e.prim is R.param_p or e.prim is R.input_p)
                    and getattr(e.params[0], "is_integer_tensor", False)})
    return f" — a value of {' or '.join(names)}" if names else ""


def _refuse_unbound_sizes(eqn, dims) -> None:
    """A size (N) that no array given fixes, where an equation needs its value — ``sg.arange(N)``,
    ``sg.ones((N, 3))`` with no tensor of N among the values (``s * 0`` is 0 to SymPy, and takes s's
    N with it): a ShapeError naming it, where NumPy's int() of a symbol said "Cannot convert symbols
    to int"."""
    unbound = sorted({str(f) for d in eqn.out.shape for f in sp.sympify(d).free_symbols} - {str(k) for k in dims})
    if unbound:
        names = ", ".join(unbound)
        raise ShapeError(f"the size {names} (in the shape {format_shape(eqn.out.shape)}) has no value: no array "
                         f"among the values has it in its shape; give it by value, {{..., {unbound[0]}: 4}}") from None


def _as_tuple(shape) -> str:
    """A declared shape written as the value's shape beside it is, a Python tuple: (N,), not (N)."""
    return format_shape(shape) if len(shape) != 1 else f"({shape[0]},)"


def _bind_dims(eqns, values) -> dict:
    """The symbolic dimensions of the tensor leaves, bound from the arrays given for them; a
    ShapeError when an array does not fit its declared shape (a fixed size, or N seen twice)."""
    # a size given by value ({N: 4}) counts too: a gradient may mention N in a shape only
    dims: dict = {k: sp.Integer(int(v)) for k, v in values.items()
                  if isinstance(k, sp.Symbol) and k.is_integer and np.ndim(v) == 0}
    for eqn in eqns:
        if not (eqn.prim is R.param_p or eqn.prim is R.input_p) or not isinstance(eqn.params[0], TensorExpr):
            continue
        sym, shape = eqn.params
        a = np.shape(lookup(values, sym))
        if len(a) != len(shape):
            raise ShapeError(f"value of {sym} has shape {a}, expected {_as_tuple(shape)}")
        for d, n in zip(shape, a):
            d = sp.sympify(d)
            if d.is_Symbol and d not in dims:
                dims[d] = sp.Integer(n)
    for eqn in eqns:
        if (eqn.prim is R.param_p or eqn.prim is R.input_p) and isinstance(eqn.params[0], TensorExpr):
            sym, shape = eqn.params
            a = np.shape(lookup(values, sym))
            want = tuple(sp.sympify(d).xreplace(dims) for d in shape)
            if any(w.is_Integer and int(w) != n for w, n in zip(want, a)):
                raise ShapeError(f"value of {sym} has shape {a}, expected {_as_tuple(shape)}"
                                 + (f" with {', '.join(f'{k} = {v}' for k, v in dims.items())}" if dims else ""))
    return dims


def _substitute(params, dims):
    """params with the symbolic dimensions replaced by their values (ints where they become numbers)."""
    if isinstance(params, tuple):
        return tuple(_substitute(p, dims) for p in params)
    if isinstance(params, sp.Basic) and params.free_symbols & dims.keys():
        v = params.xreplace(dims)
        return int(v) if v.is_Integer else v
    return params


def numeric(expr, values: Mapping):
    """Evaluate a SymPy expression (scalar or matrix, symgrad's own nodes included) at ``values``
    by lowering it: the same path as the compiler, so it needs no explicit-matrix algebra."""
    from .lower import lower
    from .stable_logs import log_softmax_rewrite
    known = [k for k in values if isinstance(k, sp.Basic)] if isinstance(values, Mapping) else []
    graph, low, out = lower(as_expr(expr, "expr", symbols=known))
    (out,) = log_softmax_rewrite(graph, [out])      # log(softmax(z)) finite, as log_softmax(z)
    return evaluate(graph, [out], values)[0]
