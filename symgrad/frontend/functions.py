"""The functions people declare networks with, as SymPy objects.

Elementwise activations (`sigmoid`, `relu`, `leaky_relu`, `softplus`) are SymPy ``Function``
subclasses whose ``fdiff`` is the textbook derivative, so SymPy itself prints σ'(z) as σ(z)(1 − σ(z)).
Given a ``MatrixExpr`` they apply elementwise and return a ``MatrixExpr``; given an ``sg.tensor``
expression, a tensor expression (with ``.shape`` and the NumPy methods).

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
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.printing.precedence import PRECEDENCE
from sympy.tensor.array.expressions import ArrayElement, ArraySymbol

from ..errors import ArgumentError, ShapeError, UnsupportedError
from .parse import as_expr
from .parse import register as _register_text

__all__ = [
    "sigmoid", "relu", "leaky_relu", "softplus",
    "softmax", "log_softmax", "logsumexp", "sum", "Softmax", "LogSoftmax", "LogSumExp", "Total",
    "gather", "Gather",
    "mse", "l1", "hinge", "bce", "cross_entropy", "kl_div", "elementwise", "Map",
]

_t = sp.Dummy("t", real=True)
_d = sp.Dummy("d")
_LATEX_STANDIN = sp.Symbol("SYMGRADMAPARGUMENT", real=True)


class Map(ElementwiseApplyFunction):
    """f applied to every entry of a matrix — SymPy's ``applyfunc`` node, printed as the slides
    write it: ``tanh(W*x + b)`` rather than ``Lambda(_d, tanh(_d)).(W*x + b)``."""

    def __new__(cls, function, expr):
        # SymPy's constructor calls function(expr) itself when expr is 1×1, and our activations
        # answer a matrix argument by building a Map: that loops. Build the node directly.
        expr = sp.sympify(expr)
        if not expr.is_Matrix:
            raise ValueError(f"{expr} must be a matrix")
        if not isinstance(function, Lambda):        # one variable for all: f(M) == f(M)
            function = Lambda(_d, function(_d))
        elif len(function.variables) == 1 and function.variables[0] != _d:
            function = Lambda(_d, function.expr.xreplace({function.variables[0]: _d}))
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

    def _entry(self, i, j, **kwargs):
        # Inside a matrix product SymPy asks for the entry at a summation index (a Dummy) and then
        # writes the sum out: (W₃·relu(W₂·relu(W₁x + b₁) + b₂))[0, 0] would become every path of the
        # network, 1.3 MB of expression for a 30-32-16-1 MLP. Such an entry stays `Entry(f(M), k, 0)`:
        # one layer is written out per index, and lowering reads it as an element of f(M).
        if isinstance(i, sp.Dummy) or isinstance(j, sp.Dummy):
            return Entry(self, i, j)
        return self.function(self.expr._entry(i, j, **kwargs))

    def _sympystr(self, printer):
        if self._is_sqrt():
            return "sqrt(%s)" % printer._print(self.expr)
        form = self._call_form()
        if form is None:
            return "%s.(%s)" % (printer._print(self.function), printer._print(self.expr))
        f, k, args = form
        shown = [printer._print(self.expr) if j == k else printer._print(a) for j, a in enumerate(args)]
        return "%s(%s)" % (getattr(f, "__name__", str(f)), ", ".join(shown))

    def _is_sqrt(self):
        # sqrt(t) is Pow(t, 1/2) in SymPy, no function call: sg.sqrt(M) prints as sqrt(M) all the same
        (var,) = self.function.variables
        return self.function.expr == sp.sqrt(var)

    def _latex(self, printer):
        if self._is_sqrt():
            return r"\sqrt{%s}" % printer._print(self.expr)
        form = self._call_form()
        if form is None:
            return r"\left(%s\right)_{\circ}\left(%s\right)" % (printer._print(self.function),
                                                                  printer._print(self.expr))
        f, k, args = form
        # f printed of a stand-in symbol, whose text is then replaced by the matrix's: every brace
        # of SymPy's form (\tanh{\left(t \right)}, e^{t}) stays balanced
        probe = printer._print(f(*[_LATEX_STANDIN if j == k else a for j, a in enumerate(args)]))
        return probe.replace(_LATEX_STANDIN.name, printer._print(self.expr))


class Entry(MatrixElement):
    """f(M)[i, j], the entry of an elementwise map kept whole (see `Map._entry`). SymPy's own
    derivative writes it out one layer at a time, so ``sp.diff`` of an indexed network stays right;
    `doit` gives the number once M is an explicit matrix.

    >>> import sympy as sp, symgrad as sg
    >>> W, x = sp.MatrixSymbol("W", 2, 2), sp.MatrixSymbol("x", 2, 1)
    >>> e = (W * sg.relu(W * x))[0, 0]
    >>> e
    relu(W*x)[0, 0]*W[0, 0] + relu(W*x)[1, 0]*W[0, 1]
    >>> sp.diff(e, x[1, 0]).subs({W[0, 0]: 1, W[0, 1]: 2, W[1, 0]: 3, W[1, 1]: 4, x[0, 0]: 1, x[1, 0]: 1})
    10
    """

    def written_out(self):
        M = self.parent
        return M.function(M.expr._entry(self.i, self.j))

    def doit(self, **hints):
        M = self.parent.doit(**hints) if hints.get("deep", True) else self.parent
        if isinstance(M, sp.MatrixBase):
            return M[self.i, self.j]
        return MatrixElement.__new__(type(self), M, self.i, self.j) if isinstance(M, Map) else M[self.i, self.j]

    def _eval_derivative(self, v):
        return self.written_out().diff(v)

    def _sympystr(self, printer):
        # f(M) prints as a call, so it needs no parentheses; its text is cached: the entries of one
        # f(M) share it, and SymPy takes long to print a deep network (0.05 s for a 3-layer MLP).
        return "%s[%s, %s]" % (_printed(printer, self.parent), printer._print(self.i), printer._print(self.j))


_PRINTED: dict = {}


def _printed(printer, e) -> str:
    """printer._print(e), remembered per printer class and settings (the last 256)."""
    try:
        key = (type(printer), tuple(sorted(printer._settings.items())), e)
        hash(key)
    except TypeError:                   # a setting that cannot be hashed: print afresh
        return printer._print(e)
    if key not in _PRINTED:
        if len(_PRINTED) >= 256:
            _PRINTED.clear()
        _PRINTED[key] = printer._print(e)
    return _PRINTED[key]


def elementwise(f, M):
    """Apply the scalar function ``f`` (a SymPy function class or a Python callable) to each entry of
    the MatrixExpr ``M``; a scalar ``M`` is simply ``f(M)``.

    >>> import sympy as sp, symgrad as sg
    >>> sg.elementwise(sp.tanh, sp.MatrixSymbol('X', 3, 1))
    tanh(X)
    """
    if isinstance(f, (str, bytes)) or not callable(f):
        # Text is read only as an expression (parse.py), never looked up or run as a function.
        got = f"the text {f!r}" if isinstance(f, (str, bytes)) else f"{f!r} ({type(f).__name__})"
        raise ArgumentError(f"elementwise: the function f must be a SymPy function (sp.tanh, "
                            f"sg.sigmoid), a Lambda or a Python callable (lambda t: t**2), got {got}; "
                            f"text is never turned into a function")
    M = as_expr(M, "the argument M of elementwise")
    if isinstance(M, MatrixExpr):
        return Map(f if isinstance(f, (sp.FunctionClass, Lambda)) else Lambda(_t, f(_t)), M)
    return f(M)


def _power(tex: str, exp) -> str:
    """f(x) raised to ``exp`` as SymPy's LaTeX printer asks for it (σ(x)² calls _latex with exp=2)."""
    return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)


# A tensor (symgrad/frontend/tensor.py, which imports this module) answers this method: given f(x)
# for an argument with it inside, it returns the tensor expression (an Ewise with .shape and the
# NumPy methods), or f(x) itself while plain SymPy nodes are being assembled. Duck-typed, so that
# this module needs no import of tensor.py.
_TENSOR_HOOK = "_elementwise_result"


def _tensor_inside(x):
    """The tensor (or tensor node) of x that answers `_TENSOR_HOOK`, or None for a scalar."""
    if hasattr(x, _TENSOR_HOOK):
        return x
    # a tensor inside a SymPy expression (sp.tanh(x) of a tensor x): sg.tensor's symbols are SymPy
    # ArraySymbols, which `has` finds quickly (its answers are cached); a scalar pays no more
    if x.is_Atom or isinstance(x, MatrixExpr) or not x.has(ArraySymbol):
        return None
    walk = sp.preorder_traversal(x)
    for a in walk:
        if isinstance(a, ArrayElement):   # x[0, 1], an entry (sg.jacobian of tensors): a scalar
            walk.skip()
        elif hasattr(a, _TENSOR_HOOK):
            return a
    return None


def _on_tensor(applied, x):
    """f(x) as a tensor expression when x is one (sg.relu(x @ w + b).sum(axis=0)), else f(x)."""
    t = _tensor_inside(x)
    return applied if t is None else getattr(t, _TENSOR_HOOK)(applied)


class _Activation(Function):
    """A scalar function of one argument that maps over matrices elementwise, and over tensor
    expressions (giving a tensor expression)."""

    def __new__(cls, x, *rest, **options):
        x = as_expr(x, f"the argument of {cls.__name__}")
        if isinstance(x, MatrixExpr):
            return Map(Lambda(_t, cls(_t, *rest)), x)
        return _on_tensor(super().__new__(cls, x, *rest, **options), x)

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

    def _latex(self, printer, exp=None):
        return _power(r"\sigma\left(%s\right)" % printer._print(self.args[0]), exp)


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

    def _latex(self, printer, exp=None):
        return _power(r"\operatorname{relu}\left(%s\right)" % printer._print(self.args[0]), exp)


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

    def _latex(self, printer, exp=None):
        return _power(r"\operatorname{leaky\_relu}\left(%s, %s\right)" % tuple(map(printer._print, self.args)), exp)


class softplus(_Activation):
    """softplus(x) = log(1 + e^x); softplus'(x) = σ(x). torch's ``F.softplus(x, beta, threshold)``:
    ``softplus(x, beta=2)`` is softplus(β·x)/β; torch's switch to x where β·x > threshold (20) is a
    difference below 2e-9, so only threshold=20 (the default) is accepted."""

    nargs = 1

    def __new__(cls, x, beta=None, threshold=None, **options):
        if threshold is not None and threshold != 20:
            raise ArgumentError(f"softplus: threshold={threshold!r} is not supported; symgrad's softplus is "
                                f"the exact log(1 + e^x) everywhere (torch's default threshold=20 differs from "
                                f"it by less than 2e-9)")
        if beta is None or (not isinstance(beta, bool) and beta == 1):
            return super().__new__(cls, x, **options)
        b = as_expr(beta, "beta")
        if isinstance(beta, bool) or not (b.is_number and b.is_positive):
            raise ArgumentError(f"softplus: beta must be a positive number, got {beta!r}")
        return cls(b * as_expr(x, "the argument of softplus")) / b

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

    def _latex(self, printer, exp=None):
        return _power(r"\operatorname{softplus}\left(%s\right)" % printer._print(self.args[0]), exp)


# --------------------------------------------------------------------------------------------------
# Reductions and vector functions of matrices


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
    yhat, y = _pair("mse", ("yhat", "y"), yhat, y)
    d = yhat - y
    if _is_matrix(yhat, y):
        return Total(sp.HadamardPower(d, 2)) / 2
    return d ** 2 / 2


def l1(yhat, y):
    """‖ŷ − y‖₁ = Σ |ŷᵢ − yᵢ|."""
    yhat, y = _pair("l1", ("yhat", "y"), yhat, y)
    d = yhat - y
    return Total(Map(sp.Abs, d)) if _is_matrix(yhat, y) else sp.Abs(d)


def hinge(score, y):
    """Σ max(0, 1 − yᵢ·scoreᵢ) with labels y ∈ {−1, +1}."""
    score, y = _pair("hinge", ("score", "y"), score, y)
    if _is_matrix(score, y):
        m = sp.OneMatrix(*score.shape) - _hadamard(y, score)
        return Total(Map(Lambda(_t, sp.Max(0, _t)), m))
    return sp.Max(0, 1 - y * score)


def bce(p, y):
    """Binary cross-entropy −Σ [y log p + (1 − y) log(1 − p)] of probabilities p and targets y,
    with 0·log 0 = 0 (`xlogy`): a target of exactly 0 or 1 gives a finite loss even where p is."""
    p, y = _pair("bce", ("p", "y"), p, y)
    if _is_matrix(p, y):
        one = sp.OneMatrix(*p.shape)
        return -Total(XLogY(y, p) + XLogY(one - y, one - p))
    return -(xlogy(y, p) + xlogy(1 - y, 1 - p))


def cross_entropy(logits, t):
    """Softmax cross-entropy −Σ tᵢ log softmax(logits)ᵢ of a column of logits and a one-hot or
    probability column t, computed through log-sum-exp. Its gradient is softmax(logits) − t.
    When t is a scalar (an integer class label k) it is logsumexp(logits) − logits[k]."""
    logits, t = _pair("cross_entropy", ("logits", "t"), _matrix_arg(logits, "cross_entropy"), t) \
        if _is_matrix(as_expr(t, "t")) else (_matrix_arg(logits, "cross_entropy"), as_expr(t, "t"))
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
        return r"{%s}_{%s}" % (printer._print(self.args[0]), printer._print(self.args[1]))   # z₁ at k: no double subscript


def gather(z, k, index=None):
    """The entry z[k] of a column z (n, 1) at an integer label k (a Symbol fed with integers).
    With three arguments, torch's ``torch.gather(x, dim, index)`` on tensors: ``x.gather(dim, index)``,
    that is ``sg.take_along_axis(x, index, axis=dim)``."""
    if index is not None:
        return TENSOR_GATHER[0](z, k, index)
    return Gather(z, k)


TENSOR_GATHER: list = []     # torch's gather of tensors, put here by `symgrad.frontend.tensor` (imports flow that way)


def kl_div(p, q):
    """KL(p ‖ q) = Σ pᵢ log(pᵢ / qᵢ), with 0·log 0 = 0 (`xlogy`): a one-hot p gives a finite loss."""
    p, q = _pair("kl_div", ("p", "q"), p, q)
    if _is_matrix(p, q):
        return Total(XLogY(p, p) - XLogY(p, q))
    return xlogy(p, p) - xlogy(p, q)


# The names user text may call (symgrad/frontend/parse.py): positional arguments, and leaky_relu's
# alpha as a keyword.
for _name in ("sigmoid", "relu", "softplus", "softmax", "log_softmax", "logsumexp", "sum"):
    _register_text(_name, globals()[_name])
for _name in ("mse", "l1", "hinge", "bce", "cross_entropy", "kl_div", "gather"):
    _register_text(_name, globals()[_name], (2, 2))
_register_text("leaky_relu", leaky_relu, (1, 2), keywords=("alpha",))
del _name


# --------------------------------------------------------------------------------------------------
# Elementwise functions as people write them over matrices: sg.tanh(W*x + b), and the activations
# PyTorch users expect (torch.nn.functional's names and defaults). Each is a scalar SymPy function
# with its textbook derivative (fdiff) that maps over a MatrixExpr, and over an sg.tensor expression
# giving a tensor expression (`_on_tensor`); `elementary` is the form the code printers write.

def _mapping(f, name):
    """sg.<name>: SymPy's ``f`` on a scalar or a tensor expression, entry by entry on a MatrixExpr
    (SymPy's own ``f`` of a matrix is not elementwise: it is refused, naming this function)."""
    def mapped(x):
        x = as_expr(x, f"the argument of {name}")
        return Map(f, x) if isinstance(x, MatrixExpr) else _on_tensor(f(x), x)
    mapped.__name__ = mapped.__qualname__ = name
    mapped.__doc__ = (f"{name}(x): SymPy's ``{f.__name__}`` of a scalar, entry by entry of a matrix "
                      f"expression (printed ``{name}(W*x + b)``) or of an ``sg.tensor`` expression.\n\n"
                      f"    >>> import sympy as sp, symgrad as sg\n"
                      f"    >>> sg.{name}(sp.MatrixSymbol('W', 2, 3) * sp.MatrixSymbol('x', 3, 1)).shape\n"
                      f"    (2, 1)\n")
    return mapped


tanh = _mapping(sp.tanh, "tanh")
exp = _mapping(sp.exp, "exp")
log = _mapping(sp.log, "log")
sqrt = _mapping(sp.sqrt, "sqrt")
abs = _mapping(sp.Abs, "abs")     # noqa: A001 - sg.abs, as numpy.abs / torch.abs
erf = _mapping(sp.erf, "erf")

# The SymPy functions people apply to a whole matrix, and the sg.<name> that maps them over it.
MATRIX_SPELLINGS = {"tanh": "tanh", "exp": "exp", "log": "log", "sqrt": "sqrt", "Abs": "abs",
                    "erf": "erf", "sin": None, "cos": None, "sinh": None, "cosh": None}



def matrix_function_message(e) -> str:
    """What to say when SymPy's own function is applied to a whole matrix (``sp.tanh(W*x + b)``): in
    SymPy that is not elementwise, and sg.<name> is.

    >>> import sympy as sp
    >>> W = sp.MatrixSymbol("W", 2, 2)
    >>> print(matrix_function_message(sp.tanh(W)))
    tanh(W): SymPy's tanh of a matrix is not taken entry by entry; write sg.tanh(W), which is (sg.exp, sg.log, sg.sqrt, sg.abs, sg.erf and the activations likewise; sg.elementwise(f, M) for any scalar function f)
    """
    name = e.func.__name__
    mat = next((a for a in e.args if isinstance(a, MatrixExpr)), None)
    fix = MATRIX_SPELLINGS.get(name) or (name if name in _ACTIVATION_NAMES else None)
    shown = ", ".join(str(a) for a in e.args)
    instead = f"sg.{fix}({shown})" if fix else f"sg.elementwise(sp.{name}, {mat})"
    return (f"{name}({shown}): SymPy's {name} of a matrix is not taken entry by entry; write {instead}, "
            f"which is (sg.exp, sg.log, sg.sqrt, sg.abs, sg.erf and the activations likewise; "
            f"sg.elementwise(f, M) for any scalar function f)")


_SQRT2 = sp.sqrt(2)
_SQRT_2_OVER_PI = sp.sqrt(2 / sp.pi)
_GELU_C = sp.Float("0.044715", 30)       # PyTorch's constant of the tanh form


class gelu(_Activation):
    """GELU(x) = x·Φ(x) = x/2·(1 + erf(x/√2)), Φ the standard normal CDF (torch's F.gelu);
    GELU'(x) = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π).
    ``approximate="tanh"`` gives `gelu_tanh`, as ``F.gelu(x, approximate="tanh")``.

    >>> import sympy as sp, symgrad as sg
    >>> z = sp.Symbol("z")
    >>> sp.diff(sg.gelu(z), z)
    sqrt(2)*z*exp(-z**2/2)/(2*sqrt(pi)) + erf(sqrt(2)*z/2)/2 + 1/2
    >>> sg.gelu(z, approximate="tanh")
    gelu_tanh(z)
    """

    nargs = 1

    def __new__(cls, x, approximate="none", **options):
        if approximate == "tanh":
            return gelu_tanh(x, **options)
        if approximate != "none":
            raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh' (as torch's F.gelu), "
                                f"got {approximate!r}")
        return super().__new__(cls, x, **options)

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return S.Zero

    def fdiff(self, argindex=1):
        x = self.args[0]
        return (1 + sp.erf(x / _SQRT2)) / 2 + x * sp.exp(-x ** 2 / 2) / sp.sqrt(2 * sp.pi)

    def elementary(self):
        x = self.args[0]
        return x * (1 + sp.erf(x / _SQRT2)) / 2

    def _latex(self, printer):
        return r"\operatorname{GELU}\left(%s\right)" % printer._print(self.args[0])


class gelu_tanh(_Activation):
    """GELU in its tanh form (``F.gelu(x, approximate="tanh")``): x/2·(1 + tanh u),
    u = √(2/π)·(x + 0.044715x³); its derivative ½(1 + tanh u) + x/2·(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return S.Zero

    def _u(self):
        x = self.args[0]
        return _SQRT_2_OVER_PI * (x + _GELU_C * x ** 3)

    def fdiff(self, argindex=1):
        x, t = self.args[0], sp.tanh(self._u())
        return (1 + t) / 2 + x * (1 - t ** 2) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_C * x ** 2) / 2

    def elementary(self):
        return self.args[0] * (1 + sp.tanh(self._u())) / 2

    def _latex(self, printer):
        return r"\operatorname{GELU}_{\tanh}\left(%s\right)" % printer._print(self.args[0])


class silu(_Activation):
    """SiLU (swish) x·σ(x); SiLU'(x) = σ(x)·(1 + x(1 − σ(x)))."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return S.Zero

    def fdiff(self, argindex=1):
        x = self.args[0]
        return sigmoid(x) * (1 + x * (1 - sigmoid(x)))

    def elementary(self):
        return self.args[0] * sigmoid(self.args[0])

    def _latex(self, printer):
        return r"\operatorname{SiLU}\left(%s\right)" % printer._print(self.args[0])


class elu(_Activation):
    """ELU(x, α) = x for x > 0, α(eˣ − 1) otherwise (torch's F.elu, α = 1); ELU'(x) = 1 for x > 0,
    αeˣ otherwise (so ELU'(0) = α, as torch). Written with min(x, 0) inside the exponential, so
    that no branch overflows for a large x."""

    nargs = (1, 2)

    def __new__(cls, x, alpha=1, **options):
        return super().__new__(cls, x, as_expr(alpha, "alpha"), **options)

    def fdiff(self, argindex=1):
        x, alpha = self.args
        if argindex == 1:
            return Heaviside(x, 0) + alpha * sp.exp(sp.Min(x, 0)) * Heaviside(-x, 1)
        return (sp.exp(sp.Min(x, 0)) - 1)

    def elementary(self):
        x, alpha = self.args
        return sp.Max(x, 0) + alpha * (sp.exp(sp.Min(x, 0)) - 1)

    def _latex(self, printer):
        x, alpha = self.args
        if alpha == 1:
            return r"\operatorname{ELU}\left(%s\right)" % printer._print(x)
        return r"\operatorname{ELU}\left(%s, %s\right)" % (printer._print(x), printer._print(alpha))


# torch.nn.SELU's constants (Klambauer et al. 2017), to the digits torch uses
SELU_ALPHA = sp.Float("1.6732632423543772848170429916717", 30)
SELU_SCALE = sp.Float("1.0507009873554804934193349852946", 30)


class selu(_Activation):
    """SELU(x) = λ·ELU(x, α), λ ≈ 1.0507, α ≈ 1.6733 (torch's F.selu); SELU'(x) = λ for x > 0,
    λαeˣ otherwise."""

    nargs = 1

    def fdiff(self, argindex=1):
        x = self.args[0]
        return SELU_SCALE * (Heaviside(x, 0) + SELU_ALPHA * sp.exp(sp.Min(x, 0)) * Heaviside(-x, 1))

    def elementary(self):
        x = self.args[0]
        return SELU_SCALE * (sp.Max(x, 0) + SELU_ALPHA * (sp.exp(sp.Min(x, 0)) - 1))

    def _latex(self, printer):
        return r"\operatorname{SELU}\left(%s\right)" % printer._print(self.args[0])


class softsign(_Activation):
    """softsign(x) = x / (1 + |x|); softsign'(x) = 1 / (1 + |x|)²."""

    nargs = 1

    def fdiff(self, argindex=1):
        return 1 / (1 + sp.Abs(self.args[0])) ** 2

    def elementary(self):
        return self.args[0] / (1 + sp.Abs(self.args[0]))

    def _latex(self, printer):
        return r"\operatorname{softsign}\left(%s\right)" % printer._print(self.args[0])


class hardtanh(_Activation):
    """hardtanh(x) = min(max(x, lo), hi), lo = −1, hi = 1 (torch's F.hardtanh); its derivative is 1
    for lo < x < hi and 0 elsewhere (0 at the corners, as torch)."""

    nargs = (1, 3)

    def __new__(cls, x, min_val=-1, max_val=1, **options):
        lo, hi = as_expr(min_val, "min_val"), as_expr(max_val, "max_val")
        if lo.is_number and hi.is_number and not lo < hi:
            raise ArgumentError(f"hardtanh needs min_val < max_val, got {lo} and {hi}")
        return super().__new__(cls, x, lo, hi, **options)

    def fdiff(self, argindex=1):
        x, lo, hi = self.args
        if argindex != 1:
            raise UnsupportedError("hardtanh: the derivative with respect to its bounds")
        return Heaviside(x - lo, 0) * Heaviside(hi - x, 0)

    def elementary(self):
        x, lo, hi = self.args
        return sp.Min(sp.Max(x, lo), hi)

    def _latex(self, printer):
        x, lo, hi = self.args
        if (lo, hi) == (-1, 1):
            return r"\operatorname{hardtanh}\left(%s\right)" % printer._print(x)
        return r"\operatorname{hardtanh}\left(%s, %s, %s\right)" % tuple(map(printer._print, self.args))


def clip_derivative(x, lo, hi, argindex: int, at_tie: int):
    """∂ clip(x, lo, hi) = ∂ min(max(x, lo), hi) with respect to x, lo or hi (argindex 1, 2, 3);
    ``at_tie`` is the value of the steps at 0 (1: relu'(0) = 1, the default policy; 0: the bound
    takes the gradient at x = lo and x = hi):

        ∂x  = H(x − lo)·H(hi − x)                 1 for lo ≤ x ≤ hi
        ∂lo = (1 − H(x − lo))·H(hi − lo)          1 for x < lo ≤ hi
        ∂hi = 1 − H(hi − x)·H(hi − lo)            1 for x > hi, and everywhere when lo > hi (hi wins)

    The three add up to 1 everywhere (clip(x + t, lo + t, hi + t) = clip(x, lo, hi) + t). torch's
    clamp with tensor bounds agrees except at lo = hi with x < lo, where torch gives nobody the
    gradient and this gives it to lo."""
    step = lambda z: Heaviside(z, at_tie)                       # noqa: E731
    if argindex == 1:
        return step(x - lo) * step(hi - x)
    if argindex == 2:
        return (1 - step(x - lo)) * step(hi - lo)
    return 1 - step(hi - x) * step(hi - lo)


class clip(_Activation):  # sg.clip is tensor_bounds.clip, which builds this (checked bounds)
    """clip(x, lo, hi) = min(max(x, lo), hi); its derivative is 1 for lo ≤ x ≤ hi (bounds
    included: relu'(0) = 1, the policy), 0 outside; the bounds (numbers, symbols or tensors) take
    the gradient where they are active (`clip_derivative`). Printed ``clip(x, lo, hi)``."""

    nargs = 3

    def fdiff(self, argindex=1):
        return clip_derivative(*self.args, argindex, 1)

    def elementary(self):
        x, lo, hi = self.args
        return sp.Min(sp.Max(x, lo), hi)

    def _sympystr(self, printer):
        return "clip(%s)" % ", ".join(printer._print(a) for a in self.args)

    def _latex(self, printer, exp=None):
        return r"\operatorname{clip}\left(%s\right)" % ", ".join(printer._print(a) for a in self.args)


ACTIVATIONS = (gelu, gelu_tanh, silu, elu, selu, softsign, hardtanh, clip)
_ACTIVATION_NAMES = {"sigmoid", "relu", "leaky_relu", "softplus"} | {c.__name__ for c in ACTIVATIONS}

for _name in ("gelu", "silu", "selu", "softsign"):
    _register_text(_name, globals()[_name])
_register_text("elu", elu, (1, 2), keywords=("alpha",))
_register_text("hardtanh", hardtanh, (1, 3), keywords=("min_val", "max_val"))
del _name


def _entrywise_text(f):
    """A scalar SymPy function as text calls it: entry by entry on a matrix (text has no matrix
    exponential; ``Heaviside(W*x + b, 1)``, as symgrad prints relu′ of a matrix, means the step of
    each entry), extra arguments (Heaviside's value at 0, log's base) kept."""
    def build(x, *rest):
        if isinstance(x, MatrixExpr):
            return Map(f, x) if not rest else Map(Lambda(_t, f(_t, *rest)), x)
        return _on_tensor(f(x, *rest), x)
    return build


for _name in ("exp", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin", "acos", "atan",
              "Abs", "abs", "sign", "erf"):
    _register_text(_name, _entrywise_text(getattr(sp, {"abs": "Abs"}.get(_name, _name))))
_register_text("Heaviside", _entrywise_text(sp.Heaviside), (1, 2))
_register_text("log", _entrywise_text(sp.log), (1, 2))
del _name


# --------------------------------------------------------------------------------------------------
# x·log y with 0·log 0 = 0: what entropies and cross-entropies mean (lim_{x→0} x log x = 0), so a
# one-hot target gives a finite KL divergence and BCE (the naive product is 0·(−∞) = NaN).

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
