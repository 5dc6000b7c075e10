"""Newton's method as the notes write it, W ← W − H⁻¹∇J: one step at a point, with the gradient g,
the Hessian H and the step H⁻¹g written out symbolically and in numbers.

>>> import sympy as sp
>>> w1, w2 = sp.symbols('w1 w2')
>>> J = (3 * w1**2 + 2 * w1 * w2 + 2 * w2**2) / 2 - w1 + w2      # ½wᵀAw − bᵀw, A = [[3, 1], [1, 2]]
>>> print(newton_step(J, [w1, w2], {w1: 5, w2: -7}).render("text"))       # doctest: +NORMALIZE_WHITESPACE
Newton step w <- w - H^-1g (notes: W <- W - H(J)^-1grad J):
  g = [[w2 + 3*w1 - 1], [1 + w1 + 2*w2]] = [[7], [-8]]
  H = [[3, 1], [1, 2]] = [[3, 1], [1, 2]]
  H^-1*g = [[22/5], [-31/5]] = [[4.4], [-6.2]]
  w <- w - H^-1*g = [[0.6], [-0.8]]
"""
from __future__ import annotations

import sympy as sp

from ..core.differentiate import grad, hessian
from ..errors import ArgumentError
from .equations import Equations


def newton_step(f, wrt, at) -> Equations:
    """One Newton step on the scalar ``f`` of the scalar symbols ``wrt`` from the point ``at``
    ({symbol: number}): g = ∇f, H = ∇²f (`sg.hessian`), the step H⁻¹g and the new point."""
    wrt = list(wrt)
    missing = [w for w in wrt if w not in at]
    if missing:
        raise ArgumentError(f"newton_step: at gives no value for {', '.join(map(str, missing))}")
    n = len(wrt)
    g_expr = sp.Matrix(grad(f, wrt))
    H_expr = sp.Matrix(hessian(f, wrt))
    point = {w: sp.nsimplify(at[w]) for w in wrt}
    g0, H0 = g_expr.subs(point), H_expr.subs(point)
    if H0.det() == 0:
        raise ArgumentError(f"newton_step: the Hessian at {at} is singular, so H⁻¹g does not exist")
    step = H0.LUsolve(g0)
    w0 = sp.Matrix([point[w] for w in wrt])
    g, H, w = sp.MatrixSymbol("g", n, 1), sp.MatrixSymbol("H", n, n), sp.MatrixSymbol("w", n, 1)
    Hg = sp.MatMul(sp.Inverse(H), g)
    return Equations("Newton step w ← w − H⁻¹g (notes: W ← W − H(J)⁻¹∇J)", [
        (g, g_expr, "=", _floats(g0)),
        (H, H_expr, "=", _floats(H0)),
        (Hg, sp.ImmutableMatrix(step), "=", _floats(step)),
        (w, sp.MatAdd(w, -Hg, evaluate=False), "←", _floats(w0 - step)),
    ])


def _floats(m):
    import numpy as np
    return np.array(m.evalf(), dtype=float)
