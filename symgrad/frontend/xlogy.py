"""x·log y with 0·log 0 = 0 (`xlogy`, `xdivy`, and `XLogY` entry by entry of matrices): what
entropies and cross-entropies mean (lim_{x→0} x log x = 0), so a one-hot target gives a finite KL
divergence and BCE (the naive product is 0·(−∞) = NaN).

>>> import sympy as sp
>>> xlogy(0, sp.Symbol("y"))
0
"""
from __future__ import annotations

import sympy as sp
from sympy import Function, MatrixExpr, S
from sympy.printing.precedence import PRECEDENCE

from ..errors import ShapeError
from .elementwise_map import Map
from .activations import sigmoid, softplus
from .matrix_functions import _hadamard


class xlogy(Function):
    """xlogy(x, y) = x·log y, and 0 where x = 0 (torch.xlogy, scipy.special.xlogy);
    ∂/∂x = log y, ∂/∂y = x/y. Of a sigmoid it is written stably: xlogy(x, σ(z)) = −x·softplus(−z),
    xlogy(x, 1 − σ(z)) = −x·softplus(z).

    >>> import sympy as sp, symgrad as sg
    >>> x, y, z = sp.symbols("x y z")
    >>> xlogy(0, y), sp.diff(xlogy(x, y), y), xlogy(x, 1 - sg.sigmoid(z))
    (0, xdivy(x, y), -x*softplus(z))
    """

    nargs = 2
    is_real = True

    @classmethod
    def eval(cls, x, y):
        if x.is_zero:
            return S.Zero
        if isinstance(y, sigmoid):
            return -x * softplus(-y.args[0])
        if isinstance(1 - y, sigmoid):
            return -x * softplus((1 - y).args[0])
        if y == 1 and x.is_finite:
            return S.Zero

    def fdiff(self, argindex=1):
        x, y = self.args
        return sp.log(y) if argindex == 1 else xdivy(x, y)

    def _numpycode(self, printer):
        x, y = self.args
        return "(%s*numpy.log(numpy.where(%s == 0, 1, %s)))" % (printer.parenthesize(x, PRECEDENCE["Mul"]), printer._print(x),
                                                               printer._print(y))

    def _eval_evalf(self, prec):
        x, y = self.args
        return S.Zero if x.is_zero else (x * sp.log(y))._eval_evalf(prec)

    def _latex(self, printer):
        x, y = self.args
        return r"%s \log{\left(%s \right)}" % (printer.parenthesize(x, PRECEDENCE["Mul"]), printer._print(y))


class xdivy(Function):
    """xdivy(x, y) = x/y, and 0 where x = 0: ∂xlogy(x, y)/∂y, so that a target of 0 where the
    prediction is 0 adds nothing to the gradient (not 0/0).

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> xdivy(0, 0), xdivy(x, 2)
    (0, x/2)
    """

    nargs = 2
    is_real = True

    @classmethod
    def eval(cls, x, y):
        if x.is_zero:
            return S.Zero
        if y.is_number and y.is_nonzero:
            return x / y

    def fdiff(self, argindex=1):
        x, y = self.args
        return 1 / y if argindex == 1 else -xdivy(x, y ** 2)

    def _numpycode(self, printer):
        x, y = self.args
        return "(%s/numpy.where(%s == 0, 1, %s))" % (printer.parenthesize(x, PRECEDENCE["Mul"]), printer._print(x),
                                                    printer._print(y))

    def _eval_evalf(self, prec):
        x, y = self.args
        return S.Zero if x.is_zero else (x / y)._eval_evalf(prec)

    def _latex(self, printer):
        return r"\frac{%s}{%s}" % tuple(map(printer._print, self.args))


class XLogY(MatrixExpr):
    """xlogy(X, Y) entry by entry of two matrices of one shape."""

    def __new__(cls, X, Y):
        if X.shape != Y.shape:
            raise ShapeError(f"xlogy of matrices of shapes {X.shape} and {Y.shape}")
        # of a sigmoid, stably (as the scalar xlogy): X∘log σ(Z) = −X∘softplus(−Z), and
        # X∘log(1 − σ(Z)) = −X∘softplus(Z); the gradient is then σ(Z) − ..., never 1/σ(Z)
        z = _sigmoid_argument(Y)
        if z is not None:
            return -_hadamard(X, Map(softplus, -z))
        z = _sigmoid_argument(sp.MatAdd(sp.OneMatrix(*Y.shape), -Y).doit())
        if z is not None:
            return -_hadamard(X, Map(softplus, z))
        return MatrixExpr.__new__(cls, X, Y)

    shape = property(lambda self: self.args[0].shape)

    def _entry(self, i, j, **kwargs):
        return xlogy(self.args[0]._entry(i, j, **kwargs), self.args[1]._entry(i, j, **kwargs))

    def doit(self, **hints):
        X, Y = (a.doit(**hints) for a in self.args)
        if isinstance(X, sp.MatrixBase) and isinstance(Y, sp.MatrixBase):
            return sp.ImmutableMatrix(*X.shape, lambda i, j: xlogy(X[i, j], Y[i, j]))
        return XLogY(X, Y)

    def _sympystr(self, printer):
        return "xlogy(%s, %s)" % tuple(map(printer._print, self.args))

    def _latex(self, printer):
        return r"%s \circ \log{\left(%s \right)}" % (printer.parenthesize(self.args[0], PRECEDENCE["Mul"]),
                                                      printer._print(self.args[1]))


def _sigmoid_argument(M):
    """Z when M is σ(Z) entry by entry, else None."""
    if isinstance(M, Map):
        (var,) = M.function.variables
        if M.function.expr == sigmoid(var):
            return M.expr
    return None
