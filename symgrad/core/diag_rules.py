"""diag and its adjoint, the diagonal: two primitives of the matrix language, one row each,
registered into the rule table of `rules.py`.

    diag(v)        V = diag(v), the n×n matrix with the column v on its diagonal    vjp: v̄ = diagonal(V̄)
    diagonal(M)    d = the diagonal of a square M, as a column                      vjp: M̄ = diag(d̄)

Each is the other's adjoint (as slice ↔ pad), and each is linear, so its tangent map is itself.
``sp.DiagMatrix(v)`` and ``sp.DiagonalOf(M)`` lower to them where a derivation is recorded
(`symgrad.core.differentiate`: sg.grad, sg.derive, sg.hessian, sg.check), so the steps read one
``u₂ = diag(v)`` and its gradient ``diag(∂L/∂u₂)``, as a lecture writes them, and sg.grad returns
``DiagonalOf(x*x.T*W.T)``, not ``HadamardProduct(x*x.T*W.T, I)*OneMatrix(3, 1)``. Elsewhere (the
compiler's lowering) they are what they compute, v repeated along the rows times the identity and
M ⊙ I summed along each row (`symgrad.core.lower`), which every backend prints already.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import rules as R
from .ir import Graph, Primitive, Var
from ..frontend.matrix_diagonal import DiagonalOf


def _prim(name: str, rule: str) -> Primitive:
    p = Primitive(name)
    p.rule = rule
    R.PRIMITIVES[name] = p
    return p


diag_p = _prim("diag", "diagonal matrix: ∇v is the diagonal of δ (no other entry holds v)")
diagonal_p = _prim("diagonal", "diagonal: the gradient is diag(δ), 0 off the diagonal")


def diag(graph: Graph, v: Var) -> Var:
    """diag(v) of a column v (n, 1); diag(diagonal(M)) stays (it is not M)."""
    return graph.bind(diag_p, (v,))


def diagonal(graph: Graph, m: Var) -> Var:
    """The diagonal of a square m as a column; diagonal(diag(v)) is v."""
    e = graph.producer[m.id]
    if e.prim is diag_p:
        return e.inputs[0]
    return graph.bind(diagonal_p, (m,))


def _diag_impl(args, params):
    """diag of (..., n, 1) (leading axes: points); NumPy's arrays of SymPy entries too (`explicit`)."""
    v = np.asarray(args[0])
    out = np.zeros(v.shape[:-1] + (v.shape[-2],), dtype=v.dtype if v.dtype == object else float)
    if v.dtype == object:
        out[...] = sp.S.Zero
    i = np.arange(v.shape[-2])
    out[..., i, i] = v[..., 0]
    return out


def _diagonal_impl(args, params):
    m = np.asarray(args[0])
    return np.diagonal(m, axis1=-2, axis2=-1)[..., None].copy()


diag_p.shape = lambda shapes, params: (shapes[0][0], shapes[0][0])
diag_p.impl = _diag_impl
diag_p.vjp = lambda graph, eqn, g, want: [diagonal(graph, g)]
diag_p.jvp = lambda graph, eqn, t: None if t[0] is None else diag(graph, t[0])
diag_p.to_sympy = lambda args, params, shape: sp.DiagMatrix(args[0])

diagonal_p.shape = lambda shapes, params: (shapes[0][0], 1)
diagonal_p.impl = _diagonal_impl
diagonal_p.vjp = lambda graph, eqn, g, want: [diag(graph, g)]
diagonal_p.jvp = lambda graph, eqn, t: None if t[0] is None else diagonal(graph, t[0])
diagonal_p.to_sympy = lambda args, params, shape: DiagonalOf(args[0])   # also of an explicit matrix

__all__ = ["diag_p", "diagonal_p", "diag", "diagonal"]
