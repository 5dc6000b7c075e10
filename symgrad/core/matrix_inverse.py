"""The matrix inverse and the determinant: three primitives of the matrix language, one row each,
registered into the rule table of `rules.py`.

    inverse   Y = X⁻¹            vjp: X̄ = −Yᵀ·Ȳ·Yᵀ          jvp: Ẏ = −Y·Ẋ·Y
    det       d = det X          vjp: X̄ = d̄·d·X⁻ᵀ            jvp: ḋ = d·tr(X⁻¹Ẋ)
    logdet    ℓ = log det X      vjp: X̄ = ℓ̄·X⁻ᵀ              jvp: ℓ̇ = tr(X⁻¹Ẋ)

``logdet`` is what ``log(det(X))`` lowers to (`symgrad.core.lower`): it is computed by
``np.linalg.slogdet``, so it neither overflows nor underflows where det X itself would (a large
matrix, or a tiny scale), and its gradient X⁻ᵀ never divides by det X. Like ``log`` of a negative
number it is NaN where det X < 0 (``log|det X|`` would be a different function).

The cotangents are written with ``inverse`` and ``transpose`` equations, so X⁻¹ is one equation
shared by the forward value and every gradient (hash-consing), and the gradient converts back to
SymPy as ``X⁻¹ᵀ`` (``X.inv().T``), the Matrix Cookbook's form.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import rules as R
from ..errors import ShapeError
from .ir import Graph, Primitive, Var, dims_equal, format_shape
from .placeholders import ph


def _prim(name: str, rule: str) -> Primitive:
    p = Primitive(name)
    p.rule = rule
    R.PRIMITIVES[name] = p
    return p


def _square(what: str, shape) -> None:
    if len(shape) != 2 or not dims_equal(shape[0], shape[1]):
        raise ShapeError(f"{what} of a non-square matrix of shape {format_shape(shape)}: the inverse "
                         f"and the determinant need a square matrix (n, n)")


inverse_p = _prim("inverse", "matrix inverse")
det_p = _prim("det", "determinant")
logdet_p = _prim("logdet", "log-determinant")


def inverse(graph: Graph, x: Var) -> Var:
    _square("inverse", x.shape)
    e = graph.producer[x.id]
    if e.prim is inverse_p:
        return e.inputs[0]                         # (X⁻¹)⁻¹ = X
    return graph.bind(inverse_p, (x,))


def det(graph: Graph, x: Var) -> Var:
    _square("determinant", x.shape)
    return graph.bind(det_p, (x,))


def logdet(graph: Graph, x: Var) -> Var:
    _square("log-determinant", x.shape)
    return graph.bind(logdet_p, (x,))


def _scaled(graph: Graph, s: Var, m: Var) -> Var:
    """s·M for a scalar s."""
    return R.ewise(graph, ph(0) * ph(1), s, m, shape=m.shape)


def _inv_t(graph: Graph, x: Var) -> Var:
    return R.transpose(graph, inverse(graph, x))


def _trace_of_inv_times(graph: Graph, x: Var, t: Var) -> Var:
    """tr(X⁻¹·Ẋ) as Σ X⁻ᵀ ∘ Ẋ (no product of n×n matrices for a scalar)."""
    return R.reduce_sum(graph, R.ewise(graph, ph(0) * ph(1), _inv_t(graph, x), t, shape=t.shape), None)


# inverse -------------------------------------------------------------------------------------------

def _inverse_vjp(graph, eqn, g, want):
    yt = R.transpose(graph, eqn.out)
    xbar = R.matmul(graph, R.matmul(graph, yt, g), yt)
    return [R.ewise(graph, -ph(0), xbar, shape=xbar.shape)]          # −Yᵀ·Ȳ·Yᵀ


def _inverse_jvp(graph, eqn, t):
    if t[0] is None:
        return None
    y = eqn.out
    d = R.matmul(graph, R.matmul(graph, y, t[0]), y)
    return R.ewise(graph, -ph(0), d, shape=d.shape)                  # −Y·Ẋ·Y


inverse_p.shape = lambda shapes, params: shapes[0]
def _inverse_impl(args, params):
    try:
        return np.linalg.inv(np.asarray(args[0], float))
    except np.linalg.LinAlgError:      # singular: not finite, like 1/0 (a check draws another point)
        return np.full(np.shape(args[0]), np.nan)


inverse_p.impl = _inverse_impl
inverse_p.to_sympy = lambda args, params, shape: sp.Inverse(args[0])
inverse_p.vjp = _inverse_vjp
inverse_p.jvp = _inverse_jvp


# det -----------------------------------------------------------------------------------------------

def _det_vjp(graph, eqn, g, want):
    x = eqn.inputs[0]
    gd = R.ewise(graph, ph(0) * ph(1), g, eqn.out, shape=())
    return [_scaled(graph, gd, _inv_t(graph, x))]                    # d̄·d·X⁻ᵀ


def _det_jvp(graph, eqn, t):
    if t[0] is None:
        return None
    return R.ewise(graph, ph(0) * ph(1), eqn.out, _trace_of_inv_times(graph, eqn.inputs[0], t[0]), shape=())


det_p.shape = lambda shapes, params: ()
det_p.impl = lambda args, params: float(np.linalg.det(np.asarray(args[0], float)))
det_p.to_sympy = lambda args, params, shape: sp.Determinant(args[0])
det_p.vjp = _det_vjp
det_p.jvp = _det_jvp


# logdet --------------------------------------------------------------------------------------------

def _logdet_impl(args, params):
    sign, value = np.linalg.slogdet(np.asarray(args[0], float))
    return float(value) if sign > 0 else float("nan")               # log of det X ≤ 0 is not real


logdet_p.shape = lambda shapes, params: ()
logdet_p.impl = _logdet_impl
logdet_p.to_sympy = lambda args, params, shape: sp.log(sp.Determinant(args[0]))
logdet_p.vjp = lambda graph, eqn, g, want: [_scaled(graph, g, _inv_t(graph, eqn.inputs[0]))]   # ℓ̄·X⁻ᵀ
logdet_p.jvp = lambda graph, eqn, t: (None if t[0] is None
                                      else _trace_of_inv_times(graph, eqn.inputs[0], t[0]))

__all__ = ["inverse", "det", "logdet", "inverse_p", "det_p", "logdet_p"]
