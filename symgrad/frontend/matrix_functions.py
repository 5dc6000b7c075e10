"""Functions of a whole matrix: `sum` (`Total`), `logsumexp`, `softmax` and `log_softmax` of a
column vector — small SymPy classes of their own, explicit once the matrix's entries are known.

>>> import sympy as sp, symgrad as sg
>>> sg.softmax(sp.MatrixSymbol("z", 3, 1)).shape
(3, 1)
"""
from __future__ import annotations

import sympy as sp
from sympy import Expr, MatrixExpr

from ..errors import ArgumentError, ShapeError, UnsupportedError
from .parse import as_expr
from .parse import register as _register_text


def _matrix_arg(M, who):
    text = isinstance(M, str)
    M = as_expr(M, f"the argument of {who}")
    if not isinstance(M, MatrixExpr):
        raise ArgumentError(f"{who} takes a matrix expression (e.g. a MatrixSymbol), got {M!r}"
                            + (_TEXT_IS_SCALAR if text else ""))
    return M


# Said when text stood where a matrix was wanted: the parser reads names as scalar Symbols.
_TEXT_IS_SCALAR = (" (text is parsed into scalar symbols — it declares no matrix shapes; pass the "
                   "MatrixSymbol itself)")


def _pair(who, names, a, b):
    """The two arguments of a loss, read (text through the parser) and checked to be both scalars
    or both matrices of one shape; the message names each with its shape."""
    texts = [isinstance(v, str) for v in (a, b)]
    a, b = as_expr(a, names[0]), as_expr(b, names[1])
    kinds = [f"{v.shape[0]}x{v.shape[1]} matrix" if isinstance(v, MatrixExpr) else "scalar"
             for v in (a, b)]
    said = (f"{who}: {names[0]} {sp.sstr(a)!r} is a {kinds[0]} and {names[1]} {sp.sstr(b)!r} is a "
            f"{kinds[1]}")
    if isinstance(a, MatrixExpr) != isinstance(b, MatrixExpr):
        raise ArgumentError(f"{said}; give both as matrices of the same shape, or both as scalars"
                            + (_TEXT_IS_SCALAR if any(texts) else ""))
    if isinstance(a, MatrixExpr) and a.shape != b.shape and all(
            sp.sympify(d).is_Integer for d in (*a.shape, *b.shape)):
        raise ShapeError(f"{said}; they must have the same shape")
    return a, b


class _ScalarOfMatrix(Expr):
    """A scalar function of one matrix (`Total`, `LogSumExp`): written out over the entries once the
    matrix has no symbolic matrix in it (`_explicit`), kept whole otherwise."""

    is_commutative = True
    name = ""                  # its text and printed name
    latex_name = ""

    def __new__(cls, M):
        return Expr.__new__(cls, _matrix_arg(M, cls.name))

    @property
    def arg(self):
        return self.args[0]

    def of_entries(self, entries):     # pragma: no cover - each subclass defines it
        raise NotImplementedError

    def doit(self, **hints):
        M = self.arg.doit(**hints) if hints.get("deep", True) else self.arg
        if _explicit(M):
            return self.of_entries(list(M.as_explicit()))
        return type(self)(M)

    def _eval_evalf(self, prec):
        d = self.doit()
        return None if isinstance(d, type(self)) else d._eval_evalf(prec)

    def _sympystr(self, printer):
        return "%s(%s)" % (self.name, printer._print(self.arg))

    def _latex(self, printer):
        return r"%s\left(%s\right)" % (self.latex_name, printer._print(self.arg))


class Total(_ScalarOfMatrix):
    """sum(M): the sum of all entries of a matrix, a scalar. ``sg.sum(M)`` builds it."""

    name, latex_name = "sum", r"\textstyle\sum"

    def of_entries(self, entries):
        return sp.Add(*entries)


class LogSumExp(_ScalarOfMatrix):
    """logsumexp(z) = log Σᵢ exp(zᵢ), a scalar; its gradient is softmax(z)."""

    name, latex_name = "logsumexp", r"\operatorname{logsumexp}"

    def of_entries(self, entries):
        return sp.log(sp.Add(*[sp.exp(v) for v in entries]))


class _VectorFunction(MatrixExpr):
    """A matrix-valued function of one matrix, with the argument's shape."""

    name = ""

    def __new__(cls, z):
        return MatrixExpr.__new__(cls, _matrix_arg(z, cls.name))

    @property
    def arg(self):
        return self.args[0]

    @property
    def shape(self):
        return self.arg.shape

    def doit(self, **hints):
        z = self.arg.doit(**hints)
        if _explicit(z):
            return self._explicit(z.as_explicit())
        return type(self)(z)

    def _entry(self, i, j, **kwargs):
        # z of numeric shape has explicit entries z[k, 0] even when z is a MatrixSymbol (the
        # Jacobian of softmax(z), so sg.hessian(logsumexp(z), z), needs them)
        if all(isinstance(d, (int, sp.Integer)) for d in self.arg.shape):
            return self._explicit(self.arg.as_explicit())[i, j]
        raise UnsupportedError(f"{self.name}({self.arg}) of symbolic shape {self.arg.shape} has no "
                               f"explicit entries; give the matrix numeric dimensions")

    def _sympystr(self, printer):
        return "%s(%s)" % (self.name, printer._print(self.arg))

    def _latex(self, printer):
        return r"\operatorname{%s}\left(%s\right)" % (self.name.replace("_", r"\_"), printer._print(self.arg))


class Softmax(_VectorFunction):
    """softmax(z)ᵢ = exp(zᵢ) / Σⱼ exp(zⱼ), over all entries of z (a column vector)."""

    name = "softmax"

    @staticmethod
    def _explicit(z):
        e = z.applyfunc(sp.exp)
        return e / sp.Add(*e)


class LogSoftmax(_VectorFunction):
    """log_softmax(z) = z − logsumexp(z)."""

    name = "log_softmax"

    @staticmethod
    def _explicit(z):
        lse = sp.log(sp.Add(*[sp.exp(v) for v in z]))
        return z.applyfunc(lambda v: v - lse)


def _explicit(M):
    """True when M has no symbolic matrix in it (so its entries can be written out)."""
    if isinstance(M, sp.MatrixBase):
        return True
    if not isinstance(M, MatrixExpr):
        return False
    return not M.atoms(sp.MatrixSymbol) and all(isinstance(d, (int, sp.Integer)) for d in M.shape)


def sum(M):  # noqa: A001 - sg.sum, as in numpy/torch
    """The sum of all entries of a matrix expression (a scalar); a scalar is returned as it is."""
    M = as_expr(M, "the argument of sum")
    return Total(M) if isinstance(M, MatrixExpr) else M


def _vector_arg(z, who):
    """z, a column (n, 1) or a row (1, n): a softmax without an axis normalises over every entry,
    which for an (N, C) matrix of scores is never what was meant (each row is its own distribution)."""
    z = _matrix_arg(z, who)
    m, n = z.shape
    if not (sp.sympify(m) == 1 or sp.sympify(n) == 1):
        from ..errors import AxisError
        raise AxisError(f"{who}({z}): {z} is a {m}×{n} matrix, not a vector, and {who} without an axis "
                        f"would normalise over all its entries. Per column: {who} of each column "
                        f"vector; per row of (N, C) scores: declare them with sg.tensor and call "
                        f"sg.{who}(S, axis=-1)")
    return z


def softmax(z):
    """softmax of a column vector z (n, 1) (or a row): a MatrixExpr of the same shape. A matrix
    that is not a vector is an `AxisError`: use a tensor and ``axis=``."""
    return Softmax(_vector_arg(z, "softmax"))


def log_softmax(z):
    """log softmax of a column vector z (n, 1) (or a row), computed as z − logsumexp(z)."""
    return LogSoftmax(_vector_arg(z, "log_softmax"))


def logsumexp(z):
    """log Σ exp(zᵢ) over the entries of z: a scalar."""
    return LogSumExp(z)



def _is_matrix(*xs):
    # xs are already SymPy objects (read by as_expr): sympify of a str would run SymPy's parser.
    return any(isinstance(x, MatrixExpr) for x in xs)


def _hadamard(a, b):
    return sp.HadamardProduct(a, b)


def text_norm(M):
    """The text's norm(x) of a matrix or a scalar (a tensor's is `sg.norm`, with p= and axis=): the
    Frobenius norm sqrt(Trace(Mᵀ·M)) — a vector's length, ‖x‖ of a column x —, so that its gradient
    reads M/‖M‖, 1/sqrt(Trace(x.T*x))*x (not an explicit matrix of entries); |x| of a scalar. Of a
    matrix as written, 0·∞ at the zero matrix (a tensor's `sg.norm` is torch's 0 there)."""
    if isinstance(M, MatrixExpr):
        return sp.sqrt(sp.Trace(M.T * M))
    if isinstance(M, sp.MatrixBase):
        return sp.sqrt(sp.Trace(M.T * M).doit())
    return sp.Abs(M)


# The names user text may call (symgrad/frontend/parse.py)
for _name, _fn in (("softmax", softmax), ("log_softmax", log_softmax), ("logsumexp", logsumexp), ("sum", sum),
                   ("norm", text_norm)):
    _register_text(_name, _fn)
del _name, _fn
