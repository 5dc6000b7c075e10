"""The Triton printer: SymPy's Python code printer with a function table for ``triton.language``.

Scalar bodies of symgrad's elementwise equations print to one expression over ``tl`` tensors (a
block of rows, or a vector of per-example values). Every function is written with ``tl.*`` only,
in a form that neither overflows nor takes the log of 0:

    sigmoid(x)       tl.sigmoid(x)                           1/(1 + e⁻ˣ): 0 or 1 at the extremes, no NaN
    tanh(x)          1 − 2/(e²ˣ + 1)                         ±1 at the extremes, no inf/inf
    softplus(x)      max(x, 0) + log(1 + e^−|x|)             log(1 + eˣ) without overflow
    relu(x)          tl.maximum(x, 0.0)
    Heaviside(x, 1)  tl.where(x >= 0, 1.0, 0.0)              a float mask (products make it a select)
    x**n             x*x*… (n a small integer: exact for x < 0; n < 0: 1/(…))   x**½  tl.sqrt(x)
    x**y             tl.exp(y·log x), with the sign of (−1)ʸ put back where y is an integer
    Max, Min         tl.maximum, tl.minimum       sign(x)  tl.where(x > 0, 1, where(x < 0, −1, 0))
    erf(x)           tl.erf(x)
    erfc, loggamma, gamma, polygamma(0 | 1, x)   helpers of the module (``special_lgamma(x)``, codegen/triton_special.py)
    gelu, silu, elu, selu, softsign, hardtanh    their elementary forms (x·σ(x), ...), min(x, 0)
                     inside every exponential
    Piecewise        nested tl.where (NaN outside every condition)   KroneckerDelta(i, k)  tl.where(i == k, 1, 0)

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
'(v3*v3)*tl.where(v3 >= 0, 1.0, 0.0)'
>>> TritonPrinter().doprint(sp.Piecewise((z**2 / 2, sp.Abs(z) <= 1), (sp.Abs(z) - 0.5, True)))
'tl.where((tl.abs(v3) <= 1), 0.5*(v3*v3), tl.abs(v3) - 0.5)'
"""
from __future__ import annotations

import math

import sympy as sp
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import PythonCodePrinter, _known_functions_math

from ..triton_special import forms as special_forms
from .table import FunctionTable, elementary_forms


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
        "erf": lambda p, x: f"tl.erf({p._print(x)})",
        # erfc, loggamma, gamma, polygamma(0 | 1, ·): @triton.jit helpers of the module (codegen/triton_special.py)
        **special_forms(),
        "xlogy": lambda p, x, y: f"({p.parenthesize(x, PRECEDENCE['Mul'])}*tl.log(tl.where({p._print(x)} == 0, 1.0, {p._print(y)})))",
        "xdivy": lambda p, x, y: f"({p.parenthesize(x, PRECEDENCE['Mul'])}/tl.where({p._print(x)} == 0, 1.0, {p._print(y)}))",
        **elementary_forms(),
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

    def _print_Piecewise(self, expr):
        """Nested ``tl.where`` (Python's ``a if c else b`` would test a whole tensor's truth);
        without a ``True`` branch the value outside every condition is NaN, as in NumPy's."""
        pieces = list(expr.args)
        if pieces[-1].cond == sp.true:
            out = self._print(pieces.pop().expr)
        else:
            out = 'float("nan")'
        for e, c in reversed(pieces):
            out = f"tl.where({self._print(c)}, {self._print(e)}, {out})"
        return out

    def _print_And(self, expr):
        return " & ".join(f"({self._print(a)})" for a in expr.args)

    def _print_Or(self, expr):
        return " | ".join(f"({self._print(a)})" for a in expr.args)

    def _print_Not(self, expr):
        return f"~({self._print(expr.args[0])})"

    def _print_KroneckerDelta(self, expr):
        a, b = (self._print(x) for x in expr.args)
        return f"tl.where({a} == {b}, 1.0, 0.0)"

    def _constant_function(self, expr):
        """``log(2)`` (logaddexp's tie), ``exp(3)``, ``erf(1)``: one float literal. ``tl.log(2)`` reads
        the literal as an int32 tensor and fails (under the interpreter: "numpy data itemsize (64
        bits) exceeds ... int32"), as ``tl.sqrt(2)`` does for a power (`_print_Pow`)."""
        return repr(float(expr)) if expr.is_number and expr.is_real else None

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_NumberSymbol(self, expr):
        return repr(float(expr))

    _print_Pi = _print_Exp1 = _print_NumberSymbol

    # Integer powers up to this exponent are products; higher ones |b|ⁿ = e^(n·log|b|) with the sign
    # of bⁿ put back (a product of 100 copies of b is no program to read).
    MAX_PRODUCT_POWER = 16

    def _print_Pow(self, expr, rational=False):
        b, e = expr.args
        if expr.is_number and expr.is_real:     # √2, π^(-1/2) (gelu's constants): a float literal;
            return repr(float(expr))            # tl.sqrt(2) of a Python int fails to compile
        pb = self.parenthesize(b, PRECEDENCE["Mul"])
        if e.is_Integer and e != 0:
            # bⁿ for an integer n, exact in sign for b < 0 (e^(n·log b) is NaN there): a product
            # for small |n|, and 1/(…) for n < 0. The product is parenthesized as a whole: SymPy
            # prints a denominator's factors at the precedence of the whole product (that of a sum
            # when it is negative), so a bare x*x*x would turn −2·y/x³ into -2*y/x*x*x.
            n = abs(int(e))
            if n > self.MAX_PRODUCT_POWER:
                mag = self._sign_correct_integer_power(b, n)
            else:
                mag = _product_power(pb, n) if n == 1 else f"({_product_power(pb, n)})"
            return mag if e > 0 else f"1.0/{mag}"
        if e == sp.S.Half:
            return f"tl.sqrt({self._print(b)})"
        if e == -sp.S.Half:
            return f"1.0/tl.sqrt({self._print(b)})"
        if b.is_number and b > 0:
            return f"tl.exp({self.parenthesize(e, PRECEDENCE['Mul'])}*({math.log(float(b))!r}))"  # bᵉ = e^(e·log b)
        pe = self.parenthesize(e, PRECEDENCE["Mul"])
        if e.is_number:
            # a fixed non-integer exponent: defined for b ≥ 0 only, NaN below as in NumPy
            return f"tl.exp({pe}*tl.log({self._print(b)}))"
        # an exponent known only at run time (x**n with n an input) may hold an integer: then
        # bⁿ = (−1)ⁿ·|b|ⁿ for b < 0, as NumPy's power; a non-integer n of a negative b is NaN, as
        # there; and b⁰ = 1 also for b = 0 (e^(0·log 0) would be NaN).
        x, y = self._print(b), self._print(e)
        mag = f"tl.exp({pe}*tl.log(tl.abs({x})))"
        odd = f"tl.floor(({y})*0.5)*2.0 != ({y})"
        return (f"tl.where(({x} < 0) & (tl.floor({y}) == ({y})), tl.where({odd}, -{mag}, {mag}), "
                f"tl.where(({y}) == 0, 1.0, tl.exp({pe}*tl.log({x}))))")

    def _sign_correct_integer_power(self, b, n: int) -> str:
        """|b|ⁿ = e^(n·log|b|), negated where b < 0 for an odd n; b = 0 gives e^(−∞) = 0."""
        mag = f"tl.exp({n}.0*tl.log(tl.abs({self._print(b)})))"
        return f"tl.where({self._print(b)} < 0, -{mag}, {mag})" if n % 2 else mag

    def _print_Symbol(self, expr):
        return expr.name

    def parenthesize(self, item, level, strict=False):
        # x**-n prints as 1.0/(…), a quotient: an operand of the precedence of a product. Anything
        # else: the table's rule (a positive rational as one float literal), then SymPy's.
        if item.is_Pow and item.exp.is_Integer and item.exp < 0:
            prec = PRECEDENCE["Mul"]
            if prec < level or (not strict and prec <= level):
                return f"({self._print(item)})"
            return self._print(item)
        return super().parenthesize(item, level, strict)


def _product_power(pb: str, n: int) -> str:
    """bⁿ (n ≥ 1) as products of the printed base ``pb``: b·b·b up to n = 4, above by squaring,
    b¹³ = (b⁶)²·b, so that the compiler's common-subexpression pass needs ⌊log₂ n⌋ squarings."""
    if n <= 4:
        return "*".join([pb] * n)
    half = _product_power(pb, n // 2)
    square = f"({half})*({half})"
    return f"{square}*{pb}" if n % 2 else square


# SymPy's Python printer has its own rule for the math functions it knows (erf, floor, atan, ...),
# which would print ``math.erf(v3)`` inside a kernel: those the table lacks are errors too.
TritonPrinter.refuse(_known_functions_math)
