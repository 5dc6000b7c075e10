"""Scalar functions applied entry by entry: `Map` (a SymPy function over a ``MatrixExpr``, printed
``tanh(W*x + b)``) and its `Entry`, `elementwise`, the hook that makes ``f(x)`` of an ``sg.tensor``
expression a tensor expression, and ``sg.tanh / exp / log / sqrt / abs / erf``, with the text's
entrywise functions (``exp(W*x)``, ``Heaviside(z, 1)``).

>>> import sympy as sp, symgrad as sg
>>> sg.tanh(sp.MatrixSymbol("W", 2, 3) * sp.MatrixSymbol("x", 3, 1)).shape
(2, 1)
"""
from __future__ import annotations

import sympy as sp
from sympy import Lambda, MatrixExpr
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.tensor.array.expressions import ArrayElement, ArraySymbol

from ..errors import ArgumentError
from .parse import as_expr
from .parse import register as _register_text


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
# torch.sin / torch.cos ... as sg.sin / sg.cos (rotary embeddings with learned frequencies, periodic
# features): SymPy's function of a scalar or a tensor, entry by entry of a matrix (twelfth session;
# sg.cos was an AttributeError, and sp.cos(W*x) of a matrix named only sg.elementwise)
sin, cos, tan = _mapping(sp.sin, "sin"), _mapping(sp.cos, "cos"), _mapping(sp.tan, "tan")
sinh, cosh = _mapping(sp.sinh, "sinh"), _mapping(sp.cosh, "cosh")
asin, acos, atan = _mapping(sp.asin, "asin"), _mapping(sp.acos, "acos"), _mapping(sp.atan, "atan")



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
