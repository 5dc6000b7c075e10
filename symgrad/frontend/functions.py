"""The functions people declare networks with, as SymPy objects.

Elementwise activations (`sigmoid`, `relu`, `leaky_relu`, `softplus`) are SymPy ``Function``
subclasses whose ``fdiff`` is the textbook derivative, so SymPy itself prints σ'(z) as σ(z)(1 − σ(z)).
Given a ``MatrixExpr`` they apply elementwise and return a ``MatrixExpr``.

Vector functions of a column vector (`softmax`, `log_softmax`, `logsumexp`) and the reduction `sum`
are small SymPy classes of their own; the losses (`mse`, `l1`, `hinge`, `bce`, `cross_entropy`,
`kl_div`) are compositions of these and return a scalar.

>>> import sympy as sp, symgrad as sg
>>> z = sp.Symbol('z')
>>> sp.diff(sg.sigmoid(z), z)
(1 - sigmoid(z))*sigmoid(z)
"""
from __future__ import annotations

import sympy as sp
from sympy import Expr, Function, Heaviside, Lambda, MatrixExpr, S
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from ..errors import UnsupportedError
from .parse import as_expr
from .parse import register as _register_text

__all__ = [
    "sigmoid", "relu", "leaky_relu", "softplus",
    "softmax", "log_softmax", "logsumexp", "sum", "Softmax", "LogSoftmax", "LogSumExp", "Total",
    "gather", "Gather",
    "mse", "l1", "hinge", "bce", "cross_entropy", "kl_div", "elementwise", "Map",
]

_t = sp.Dummy("t", real=True)


class Map(ElementwiseApplyFunction):
    """f applied to every entry of a matrix — SymPy's ``applyfunc`` node, printed as the slides
    write it: ``tanh(W*x + b)`` rather than ``Lambda(_d, tanh(_d)).(W*x + b)``."""

    def __new__(cls, function, expr):
        # SymPy's constructor calls function(expr) itself when expr is 1×1, and our activations
        # answer a matrix argument by building a Map: that loops. Build the node directly.
        expr = sp.sympify(expr)
        if not expr.is_Matrix:
            raise ValueError(f"{expr} must be a matrix")
        if not isinstance(function, Lambda):
            d = sp.Dummy("d")
            function = Lambda(d, function(d))
        return MatrixExpr.__new__(cls, function, expr)

    def doit(self, **hints):
        # SymPy's doit composes f(g(M)) into one ElementwiseApplyFunction, whose constructor calls
        # the composite on a 1×1 M; our activations answer a matrix with a Map again, and doit
        # recurses forever (sigmoid(sigmoid(X)) for X 1×1). Apply entrywise only when M is explicit.
        expr = self.expr.doit(**hints) if hints.get("deep", True) else self.expr
        if isinstance(expr, sp.MatrixBase):
            return expr.applyfunc(self.function)
        return Map(self.function, expr)

    def _call_form(self):
        lam = self.function
        body, (var,) = lam.expr, lam.variables
        if not isinstance(body, sp.core.function.Application):
            return None
        at = [k for k, a in enumerate(body.args) if a == var]
        if len(at) != 1 or any(a.has(var) for k, a in enumerate(body.args) if k != at[0]):
            return None
        return body.func, at[0], body.args

    def _sympystr(self, printer):
        form = self._call_form()
        if form is None:
            return "%s.(%s)" % (printer._print(self.function), printer._print(self.expr))
        f, k, args = form
        shown = [printer._print(self.expr) if j == k else printer._print(a) for j, a in enumerate(args)]
        return "%s(%s)" % (getattr(f, "__name__", str(f)), ", ".join(shown))

    def _latex(self, printer):
        form = self._call_form()
        if form is None:
            return r"\left(%s\right)_{\circ}\left(%s\right)" % (printer._print(self.function),
                                                                  printer._print(self.expr))
        f, k, args = form
        shown = [printer._print(self.expr) if j == k else printer._print(a) for j, a in enumerate(args)]
        probe = printer._print(f(*[_t if j == k else a for j, a in enumerate(args)]))
        name = probe.split(r"\left(")[0] if r"\left(" in probe else getattr(f, "__name__", str(f))
        return r"%s\left(%s\right)" % (name, ", ".join(shown))


def elementwise(f, M):
    """Apply the scalar function ``f`` (a SymPy function class or a Python callable) to each entry of
    the MatrixExpr ``M``; a scalar ``M`` is simply ``f(M)``."""
    if isinstance(M, MatrixExpr):
        return Map(f if isinstance(f, (sp.FunctionClass, Lambda)) else Lambda(_t, f(_t)), M)
    return f(M)


class _Activation(Function):
    """A scalar function of one argument that maps over matrices elementwise."""

    def __new__(cls, x, *rest, **options):
        x = as_expr(x, f"the argument of {cls.__name__}")
        if isinstance(x, MatrixExpr):
            return Map(Lambda(_t, cls(_t, *rest)), x)
        return super().__new__(cls, x, *rest, **options)

    is_real = True

    # Printers that do not know the class print its elementary form instead.
    def _numpycode(self, printer):
        # parenthesized: x**sigmoid(x) must not print as x**1/(1 + exp(-x))
        return "(" + printer._print(self.elementary()) + ")"

    _mpmathcode = _pythoncode = _lambdacode = _numpycode

    def _eval_evalf(self, prec):
        return self.elementary()._eval_evalf(prec)

    def elementary(self):  # pragma: no cover - each subclass defines it
        raise NotImplementedError


class sigmoid(_Activation):
    """σ(x) = 1 / (1 + e^−x); σ'(x) = σ(x)(1 − σ(x))."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return S.Half
        if x is S.Infinity:
            return S.One
        if x is S.NegativeInfinity:
            return S.Zero

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def elementary(self):
        return 1 / (1 + sp.exp(-self.args[0]))

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))

    def _latex(self, printer):
        return r"\sigma\left(%s\right)" % printer._print(self.args[0])


class relu(_Activation):
    """relu(x) = max(0, x); relu'(x) = 1 for x ≥ 0 (relu'(0) = 1 as in the lecture notes), else 0."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_number and x.is_real:
            return sp.Max(0, x)
        if x.is_nonnegative:
            return x
        if x.is_nonpositive:
            return S.Zero

    def fdiff(self, argindex=1):
        return Heaviside(self.args[0], 1)

    def elementary(self):
        return sp.Max(0, self.args[0])

    def _eval_rewrite_as_Max(self, x, **kwargs):
        return sp.Max(0, x)

    def _latex(self, printer):
        return r"\operatorname{relu}\left(%s\right)" % printer._print(self.args[0])


class leaky_relu(_Activation):
    """leaky_relu(x, α) = x for x ≥ 0, αx otherwise; its derivative is 1 at x = 0 (as relu's)."""

    nargs = (1, 2)

    def __new__(cls, x, alpha=sp.Rational(1, 100), **options):
        return super().__new__(cls, x, as_expr(alpha, "alpha"), **options)

    @classmethod
    def eval(cls, x, alpha):
        if x.is_number and x.is_real and alpha.is_number:
            return x if x >= 0 else alpha * x

    def fdiff(self, argindex=1):
        x, alpha = self.args
        if argindex == 1:
            return Heaviside(x, 1) + alpha * Heaviside(-x, 0)
        return x * Heaviside(-x, 0)

    def elementary(self):
        x, alpha = self.args
        return sp.Max(0, x) + alpha * sp.Min(0, x)

    def _latex(self, printer):
        return r"\operatorname{leaky\_relu}\left(%s, %s\right)" % tuple(map(printer._print, self.args))


class softplus(_Activation):
    """softplus(x) = log(1 + e^x); softplus'(x) = σ(x)."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.log(2)

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def elementary(self):
        return sp.log(1 + sp.exp(self.args[0]))

    def _eval_rewrite_as_log(self, x, **kwargs):
        return sp.log(1 + sp.exp(x))

    def _latex(self, printer):
        return r"\operatorname{softplus}\left(%s\right)" % printer._print(self.args[0])


# --------------------------------------------------------------------------------------------------
# Reductions and vector functions of matrices


def _matrix_arg(M, who):
    M = as_expr(M, f"the argument of {who}")
    if not isinstance(M, MatrixExpr):
        raise TypeError(f"{who} takes a matrix expression (e.g. a MatrixSymbol), got {M!r}")
    return M


class Total(Expr):
    """sum(M): the sum of all entries of a matrix, a scalar. ``sg.sum(M)`` builds it."""

    is_commutative = True

    def __new__(cls, M):
        return Expr.__new__(cls, _matrix_arg(M, "sum"))

    @property
    def arg(self):
        return self.args[0]

    def doit(self, **hints):
        M = self.arg.doit(**hints) if hints.get("deep", True) else self.arg
        if M.is_Matrix and not isinstance(M, MatrixExpr) or _explicit(M):
            E = M.as_explicit()
            return sp.Add(*E)
        return Total(M)

    def _eval_evalf(self, prec):
        d = self.doit()
        return None if isinstance(d, Total) else d._eval_evalf(prec)

    def _sympystr(self, printer):
        return "sum(%s)" % printer._print(self.arg)

    def _latex(self, printer):
        return r"\textstyle\sum\left(%s\right)" % printer._print(self.arg)


class LogSumExp(Expr):
    """logsumexp(z) = log Σᵢ exp(zᵢ), a scalar; its gradient is softmax(z)."""

    is_commutative = True

    def __new__(cls, z):
        return Expr.__new__(cls, _matrix_arg(z, "logsumexp"))

    @property
    def arg(self):
        return self.args[0]

    def doit(self, **hints):
        z = self.arg.doit(**hints)
        if _explicit(z):
            return sp.log(sp.Add(*[sp.exp(v) for v in z.as_explicit()]))
        return LogSumExp(z)

    def _eval_evalf(self, prec):
        d = self.doit()
        return None if isinstance(d, LogSumExp) else d._eval_evalf(prec)

    def _sympystr(self, printer):
        return "logsumexp(%s)" % printer._print(self.arg)

    def _latex(self, printer):
        return r"\operatorname{logsumexp}\left(%s\right)" % printer._print(self.arg)


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


# --------------------------------------------------------------------------------------------------
# Losses: each returns a scalar expression.


def _is_matrix(*xs):
    # xs are already SymPy objects (read by as_expr): sympify of a str would run SymPy's parser.
    return any(isinstance(x, MatrixExpr) for x in xs)


def _hadamard(a, b):
    return sp.HadamardProduct(a, b)


def mse(yhat, y):
    """½‖ŷ − y‖² (half the squared error, as in the lecture notes; not averaged over entries)."""
    yhat, y = as_expr(yhat, "yhat"), as_expr(y, "y")
    d = yhat - y
    if _is_matrix(yhat, y):
        return Total(sp.HadamardPower(d, 2)) / 2
    return d ** 2 / 2


def l1(yhat, y):
    """‖ŷ − y‖₁ = Σ |ŷᵢ − yᵢ|."""
    yhat, y = as_expr(yhat, "yhat"), as_expr(y, "y")
    d = yhat - y
    return Total(Map(sp.Abs, d)) if _is_matrix(yhat, y) else sp.Abs(d)


def hinge(score, y):
    """Σ max(0, 1 − yᵢ·scoreᵢ) with labels y ∈ {−1, +1}."""
    score, y = as_expr(score, "score"), as_expr(y, "y")
    if _is_matrix(score, y):
        m = sp.OneMatrix(*score.shape) - _hadamard(y, score)
        return Total(Map(Lambda(_t, sp.Max(0, _t)), m))
    return sp.Max(0, 1 - y * score)


def bce(p, y):
    """Binary cross-entropy −Σ [y log p + (1 − y) log(1 − p)] of probabilities p and targets y."""
    p, y = as_expr(p, "p"), as_expr(y, "y")
    if _is_matrix(p, y):
        one = sp.OneMatrix(*p.shape)
        return -Total(_hadamard(y, Map(sp.log, p)) + _hadamard(one - y, Map(sp.log, one - p)))
    return -(y * sp.log(p) + (1 - y) * sp.log(1 - p))


def cross_entropy(logits, t):
    """Softmax cross-entropy −Σ tᵢ log softmax(logits)ᵢ of a column of logits and a one-hot or
    probability column t, computed through log-sum-exp. Its gradient is softmax(logits) − t.
    When t is a scalar (an integer class label k) it is logsumexp(logits) − logits[k]."""
    logits, t = as_expr(logits, "logits"), as_expr(t, "t")
    if not _is_matrix(t):
        return LogSumExp(logits) - Gather(logits, t)
    return -Total(_hadamard(t, LogSoftmax(logits)))


class Gather(Expr):
    """gather(z, k) = z[k]: the entry of the column z at the integer class label k (a scalar)."""

    is_commutative = True

    def __new__(cls, z, k):
        return Expr.__new__(cls, _matrix_arg(z, "gather"), as_expr(k, "the index of gather"))

    def doit(self, **hints):
        z, k = self.args
        if k.is_Integer and (isinstance(z, sp.MatrixBase) or _explicit(z)):
            return z.as_explicit()[int(k), 0]
        return self

    def _sympystr(self, printer):
        return "%s[%s]" % (printer._print(self.args[0]), printer._print(self.args[1]))

    def _latex(self, printer):
        return r"%s_{%s}" % (printer._print(self.args[0]), printer._print(self.args[1]))


def gather(z, k):
    """The entry z[k] of a column z (n, 1) at an integer label k (a Symbol fed with integers)."""
    return Gather(z, k)


def kl_div(p, q):
    """KL(p ‖ q) = Σ pᵢ log(pᵢ / qᵢ)."""
    p, q = as_expr(p, "p"), as_expr(q, "q")
    if _is_matrix(p, q):
        return Total(_hadamard(p, Map(sp.log, p) - Map(sp.log, q)))
    return p * (sp.log(p) - sp.log(q))


# The names user text may call (symgrad/frontend/parse.py): positional arguments, and leaky_relu's
# alpha as a keyword.
for _name in ("sigmoid", "relu", "softplus", "softmax", "log_softmax", "logsumexp", "sum"):
    _register_text(_name, globals()[_name])
for _name in ("mse", "l1", "hinge", "bce", "cross_entropy", "kl_div", "gather"):
    _register_text(_name, globals()[_name], (2, 2))
_register_text("leaky_relu", leaky_relu, (1, 2), keywords=("alpha",))
del _name
