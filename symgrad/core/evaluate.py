"""The reference interpreter: evaluate graph variables for one example in float64 NumPy.

Slow and simple on purpose: it is the oracle the compiled backends are compared with, and what the
teaching views use to put numbers on the graph.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import sympy as sp

from . import rules as R
from ..errors import ArgumentError, ShapeError, SymgradError
from ..frontend.parse import as_expr
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
    if isinstance(v, (bool, str, bytes)) or v is None:
        raise ArgumentError(f"the value of {sym} must be a real number, got {v!r}")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ArgumentError(f"the value of {sym} must be a real number, got {v!r}") from None


def evaluate(graph: Graph, outs: Sequence[Var], values: Mapping) -> list:
    """The values of ``outs`` (floats for scalars, 2-D arrays for matrices)."""
    env: dict[int, object] = {}
    for eqn in graph.ancestors(list(outs)):
        if eqn.prim is R.param_p or eqn.prim is R.input_p:
            sym, shape = eqn.params
            v = lookup(values, sym)
            if shape == ():
                env[eqn.out.id] = _number(sym, v)
            else:
                a = np.asarray(v)
                if a.dtype.kind not in "biuf":          # None would become NaN, text fail in NumPy
                    raise ArgumentError(f"the value of {sym} must be an array of real numbers, got {v!r}")
                a = a.astype(float)
                if a.ndim == 1 and shape[1] == 1:
                    a = a.reshape(-1, 1)
                if a.shape != tuple(int(d) for d in shape):
                    raise ShapeError(f"value of {sym} has shape {a.shape}, expected {format_shape(shape)}")
                env[eqn.out.id] = a
        else:
            env[eqn.out.id] = eqn.prim.impl([env[u.id] for u in eqn.inputs], eqn.params)
    return [env[v.id] for v in outs]


def numeric(expr, values: Mapping):
    """Evaluate a SymPy expression (scalar or matrix, symgrad's own nodes included) at ``values``
    by lowering it: the same path as the compiler, so it needs no explicit-matrix algebra."""
    from .lower import lower
    known = [k for k in values if isinstance(k, sp.Basic)] if isinstance(values, Mapping) else []
    graph, low, out = lower(as_expr(expr, "expr", symbols=known))
    return evaluate(graph, [out], values)[0]
