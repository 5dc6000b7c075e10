"""How fast sg.hessian writes out a logistic regression's Hessian, as ratios measured in one run.

    python3 bench/hessian_speed.py [--rows 4]

Rows (X of shape rows×3, w of 3 entries, L = Σ y·softplus(−Xw) + (1 − y)·softplus(Xw)):
- sg.hessian(L, w): reverse over reverse in one graph, entries written out from the IR, not simplified;
- the same sweeps with every entry simplified (the way it went before the eleventh session, and the
  way still taken by a graph `explicit` cannot write out): `sp.simplify` per entry;
- SymPy's own ``sp.hessian`` of L written out over X[i, j], w[k] (a peer in the same process).
Speed claims are the ratios; the machine is shared, so the seconds say little on their own.
"""
from __future__ import annotations

import argparse
import time

import sympy as sp

import symgrad as sg
from symgrad.core import matrix_jacobian
from symgrad.errors import UnsupportedError


def logistic(n):
    X, w, y = sp.MatrixSymbol("X", n, 3), sp.MatrixSymbol("w", 3, 1), sp.MatrixSymbol("y", n, 1)
    one = sp.OneMatrix(n, 1)
    return sg.sum(sp.HadamardProduct(y, sg.softplus(-X * w)) + sp.HadamardProduct(one - y, sg.softplus(X * w))), w


def written_out(n):
    """L as one SymPy scalar over the entries X[i, j], w[k], y[i] (sg.softplus's fdiff is σ)."""
    X, w, y = sp.MatrixSymbol("X", n, 3), sp.MatrixSymbol("w", 3, 1), sp.MatrixSymbol("y", n, 1)
    z = [sum(X[i, k] * w[k, 0] for k in range(3)) for i in range(n)]
    return sp.Add(*[y[i, 0] * sg.softplus(-z[i]) + (1 - y[i, 0]) * sg.softplus(z[i]) for i in range(n)])


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def simplified(L, w):
    def refuse(graph, cells):
        raise UnsupportedError("the old way, for the bench")
    keep = matrix_jacobian._written_out
    matrix_jacobian._written_out = refuse
    try:
        return sg.hessian(L, w)
    finally:
        matrix_jacobian._written_out = keep


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=4)
    n = ap.parse_args().rows
    L, w = logistic(n)
    sg.hessian(*logistic(2))                     # imports and caches warmed before timing
    t_new, H = timed(lambda: sg.hessian(L, w))
    t_old, H_old = timed(lambda: simplified(L, w))
    ws = [w[i, 0] for i in range(3)]
    t_sympy, H_sympy = timed(lambda: sp.hessian(written_out(n), ws))
    print(f"logistic regression, X {n}x3: sg.hessian {t_new:.3f} s")
    print(f"  each entry simplified: {t_old:.2f} s  ({t_old / t_new:.0f}x sg.hessian)")
    H, H_sympy = sp.Matrix(H), sp.Matrix(H_sympy)
    from sympy.matrices.expressions.matexpr import MatrixElement
    entries = sorted(set().union(*[e.atoms(MatrixElement) for e in list(H) + list(H_sympy)]), key=str)
    pt = {s: sp.Rational(k % 7 - 3, 4) for k, s in enumerate(entries)}      # the two agree at a point
    assert max(abs(sp.N(a - b)) for a, b in zip(H.xreplace(pt), H_sympy.xreplace(pt))) < 1e-12
    print(f"  sympy.hessian of L written out: {t_sympy:.2f} s  ({t_sympy / t_new:.1f}x sg.hessian)")


if __name__ == "__main__":
    main()
