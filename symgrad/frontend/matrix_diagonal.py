"""The diagonal of a square matrix as sg.grad writes it: SymPy's ``DiagonalOf``, made to take an
explicit matrix too. SymPy's own fails there — ``DiagonalOf(Matrix(...)).shape`` is an
``AttributeError`` ('int' object has no attribute 'is_Integer') and ``.doit()`` leaves it as it is —
so a gradient ``DiagonalOf(x*x.T*W.T)`` with numbers substituted (``g.subs({W: Matrix(...)}).doit()``)
would not give a column of numbers. This subclass has the same name, prints and lowers as
SymPy's, and its ``doit`` of an explicit matrix is the column of its diagonal entries.

>>> import sympy as sp
>>> W = sp.MatrixSymbol("W", 2, 2)
>>> DiagonalOf(W).subs(W, sp.Matrix([[1, 2], [3, 4]])).doit()
Matrix([
[1],
[4]])
"""
from __future__ import annotations

import sympy as sp

__all__ = ["DiagonalOf"]


class DiagonalOf(sp.DiagonalOf):
    """SymPy's DiagonalOf(M) (a column), also of an explicit matrix M."""

    @property
    def shape(self):
        if isinstance(self.arg, sp.MatrixBase):
            return (sp.Integer(min(self.arg.shape)), sp.S.One)
        return super().shape

    def doit(self, **hints):
        arg = self.arg.doit(**hints) if hints.get("deep", True) else self.arg
        if isinstance(arg, sp.MatrixBase):
            return sp.ImmutableMatrix([[arg[i, i]] for i in range(min(arg.shape))])
        return type(self)(arg)
