"""An ``ewise`` body written back as a SymPy matrix expression: Add as MatAdd, Mul as HadamardProduct
or a scalar times a matrix, Pow as HadamardPower, one-operand functions with ``applyfunc`` (`Map`), and
`Elementwise` for a body of several matrices that no SymPy matrix node expresses. So a gradient reads
``2*(W*x - y)*x.T``.
"""
from __future__ import annotations

from typing import Sequence

import sympy as sp

from ..frontend.functions import Map
from .placeholders import placeholders


def _is_mat(x) -> bool:
    return isinstance(x, (sp.MatrixExpr, sp.MatrixBase))


class Elementwise(sp.MatrixExpr):
    """f(A, B, ...) applied entry by entry to matrices of one shape: the fallback form of an
    elementwise body with several matrix operands that no SymPy matrix node expresses."""

    def __new__(cls, function: sp.Lambda, *mats):
        return sp.MatrixExpr.__new__(cls, function, *mats)

    @property
    def function(self):
        return self.args[0]

    @property
    def shape(self):
        return self.args[1].shape

    def _entry(self, i, j, **kw):
        return self.function(*[m[i, j] if _is_mat(m) else m for m in self.args[1:]])

    def doit(self, **hints):
        mats = [m.doit(**hints) for m in self.args[1:]]
        if all(isinstance(m, sp.MatrixBase) or not _is_mat(m) for m in mats):
            rows, cols = self.shape
            return sp.ImmutableMatrix(rows, cols, lambda i, j: self.function(
                *[m[i, j] if _is_mat(m) else m for m in mats]))
        return Elementwise(self.function, *mats)

    def _sympystr(self, printer):
        return "%s.(%s)" % (printer._print(self.function), ", ".join(printer._print(m) for m in self.args[1:]))


def ewise_to_matrix_expr(body: sp.Expr, args: Sequence, shape) -> sp.Basic:
    """Write an elementwise body over matrix (and scalar) arguments as a SymPy matrix expression."""
    sub = dict(zip(placeholders(len(args)), args))

    def conv(e):
        if e in sub:
            return sub[e]
        if not e.free_symbols & set(sub):
            return e
        kids = [conv(a) for a in e.args]
        if not any(_is_mat(k) for k in kids):
            return e.func(*kids)
        mats = [k for k in kids if _is_mat(k)]
        scal = [k for k in kids if not _is_mat(k)]
        if e.is_Add:
            total = sp.MatAdd(*mats).doit(deep=False) if len(mats) > 1 else mats[0]
            if scal:
                total = total + sp.Add(*scal) * sp.OneMatrix(*shape)
            return total
        if e.is_Mul:
            prod = sp.HadamardProduct(*mats).doit(deep=False) if len(mats) > 1 else mats[0]
            if not scal:
                return prod
            # MatMul, not *: c * (A + B) would distribute into c*A + c*B; keep 2*(W*x - y).
            return sp.MatMul(sp.Mul(*scal), prod) if isinstance(prod, sp.MatAdd) else sp.Mul(*scal) * prod
        if e.is_Pow and not _is_mat(kids[1]):
            return sp.HadamardPower(kids[0], kids[1])
        if len(mats) == 1:
            t = sp.Dummy("t", real=True)
            k = kids.index(mats[0])
            f = sp.Lambda(t, e.func(*[t if j == k else a for j, a in enumerate(kids)]))
            if len(kids) == 1 and isinstance(e.func, sp.FunctionClass):
                f = e.func
            return Map(f, mats[0])
        ts = [sp.Dummy(f"t{i}", real=True) for i in range(len(mats))]
        it = iter(ts)
        lam = sp.Lambda(tuple(ts), e.func(*[next(it) if _is_mat(k) else k for k in kids]))
        return Elementwise(lam, *mats)

    out = conv(body)
    # A body of scalar operands only (ḡ·s of s·B, with ḡ all ones) still has the equation's matrix
    # shape: the scalar broadcasts, s·𝟙. Returned bare, a transpose or sum of it would fail.
    return out if _is_mat(out) else sp.MatMul(out, sp.OneMatrix(*shape))
