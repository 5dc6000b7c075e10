"""The Triton printer: SymPy's Python code printer with a function table for ``triton.language``.

Scalar bodies of symgrad's elementwise equations print to one expression over ``tl`` tensors (a
block of rows, or a vector of per-example values). Every function is written with ``tl.*`` only,
in a form that neither overflows nor takes the log of 0:

    sigmoid(x)       tl.sigmoid(x)                           1/(1 + e⁻ˣ): 0 or 1 at the extremes, no NaN
    tanh(x)          1 − 2/(e²ˣ + 1)                         ±1 at the extremes, no inf/inf
    softplus(x)      max(x, 0) + log(1 + e^−|x|)             log(1 + eˣ) without overflow
    relu(x)          tl.maximum(x, 0.0)
    Heaviside(x, 1)  tl.where(x >= 0, 1.0, 0.0)              a float mask (products make it a select)
    x**n             x*x*…  (n a small integer)   x**½  tl.sqrt(x)   x**y  tl.exp(y·log x)
    Max, Min         tl.maximum, tl.minimum       sign(x)  tl.where(x > 0, 1, where(x < 0, −1, 0))

libdevice (``tl.extra.libdevice.tanh``, ``log1p``) would be a little more accurate near 0, but the
Triton interpreter, which runs the tests on machines without a GPU, does not implement it; one
source for both keeps what is tested what runs. The errors are absolute, about one fp32 ulp of 1.

Symbols print their names verbatim: the scheduler hands the printer only names it made itself
(``v12``, ``x0``, ``v9[:, None]``), never a user's symbol.

>>> import sympy as sp
>>> from symgrad.frontend.functions import relu, sigmoid
>>> z = sp.Symbol('v3')
>>> TritonPrinter().doprint(sigmoid(z) * (1 - sigmoid(z)))
'(1 - tl.sigmoid(v3))*tl.sigmoid(v3)'
>>> TritonPrinter().doprint(sp.Heaviside(z, 1) * z**2)
'v3*v3*tl.where(v3 >= 0, 1.0, 0.0)'
"""
from __future__ import annotations

import math

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.pycode import PythonCodePrinter, _known_functions_math

from .table import FunctionTable


class TritonPrinter(FunctionTable, PythonCodePrinter):
    """SymPy's Python printer, with ``tl.*`` for every function (see the module docstring)."""

    # name -> the form (see FunctionTable); any other function is an error (_print_unlisted)
    FUNCTIONS = {
        "exp": lambda p, x: f"tl.exp({p._print(x)})",
        "log": lambda p, x: f"tl.log({p._print(x)})",
        "sin": lambda p, x: f"tl.sin({p._print(x)})",
        "cos": lambda p, x: f"tl.cos({p._print(x)})",
        "Abs": lambda p, x: f"tl.abs({p._print(x)})",
        "sigmoid": lambda p, x: f"tl.sigmoid({p._print(x)})",
        "tanh": lambda p, x: f"(1.0 - 2.0/(tl.exp({p._print(2 * x)}) + 1.0))",
        "softplus": lambda p, x: (f"(tl.maximum({p._print(x)}, 0.0) + "
                                  f"tl.log(1.0 + tl.exp(-tl.abs({p._print(x)}))))"),
        "relu": lambda p, x: f"tl.maximum({p._print(x)}, 0.0)",
        "leaky_relu": lambda p, x, a: f"tl.where({p._print(x)} >= 0, {p._print(x)}, {p._print(a * x)})",
        "log1p": lambda p, x: f"tl.log(1.0 + {p._print(x)})",
        "expm1": lambda p, x: f"(tl.exp({p._print(x)}) - 1.0)",
        "sign": lambda p, x: (f"tl.where({p._print(x)} > 0, 1.0, "
                              f"tl.where({p._print(x)} < 0, -1.0, 0.0))"),
    }

    def __init__(self, settings=None):
        super().__init__(dict({"strict": True}, **(settings or {})))
        self.printmethod = "_symgrad_tritoncode"   # never a function's own naive ``_pythoncode``

    MODULE = "tl"

    TARGET, ALSO = "Triton", ", Heaviside, Max, Min, powers"
    _print_unlisted = FunctionTable._refused

    def _print_Heaviside(self, expr):
        x = self._print(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        if h0 == 1:
            return f"tl.where({x} >= 0, 1.0, 0.0)"
        if h0 == 0:
            return f"tl.where({x} > 0, 1.0, 0.0)"
        return f"tl.where({x} > 0, 1.0, tl.where({x} < 0, 0.0, {self._print(h0)}))"

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_NumberSymbol(self, expr):
        return repr(float(expr))

    _print_Pi = _print_Exp1 = _print_NumberSymbol

    def _print_Pow(self, expr, rational=False):
        b, e = expr.args
        pb = self.parenthesize(b, PRECEDENCE["Mul"])
        if e.is_Integer and 0 < e <= 4:
            return "*".join([pb] * int(e))
        if e.is_Integer and -4 <= e < 0:
            return f"1.0/({'*'.join([pb] * int(-e))})"
        if e == sp.S.Half:
            return f"tl.sqrt({self._print(b)})"
        if e == -sp.S.Half:
            return f"1.0/tl.sqrt({self._print(b)})"
        if b.is_number and b > 0:
            return f"tl.exp({self.parenthesize(e, PRECEDENCE['Mul'])}*({math.log(float(b))!r}))"  # bᵉ = e^(e·log b)
        return f"tl.exp({self.parenthesize(e, PRECEDENCE['Mul'])}*tl.log({self._print(b)}))"

    def _print_Symbol(self, expr):
        return expr.name

    def parenthesize(self, item, level, strict=False):
        if precedence(item) < level or (not strict and precedence(item) <= level):
            return f"({self._print(item)})"
        return self._print(item)


# SymPy's Python printer has its own rule for the math functions it knows (erf, floor, atan, ...),
# which would print ``math.erf(v3)`` inside a kernel: those the table lacks are errors too.
TritonPrinter.refuse(_known_functions_math)
