"""The NumPy printer: SymPy's `NumPyPrinter` with symgrad's function table.

Scalar bodies of symgrad's elementwise equations print to one NumPy expression over whole arrays.
The table gives each function its numerically stable form:

    sigmoid(x)       sigmoid(x)                            a helper of the module: SciPy's expit, or
                                                           σ(x) = exp(−softplus(−x)) without SciPy
                                                           (numpy.exp(-numpy.logaddexp(0, -x))): no
                                                           overflow for any x, accurate where σ is tiny
    softplus(x)      softplus(x)                           a helper of the module: max(x, 0) +
                                                           log1p(exp(−|x|)), log(1 + eˣ) without
                                                           overflow, in NumPy's vectorized loops
    log1p(x)         numpy.log1p(x)                        log(1 + x) accurate for small x
    relu(x)          relu(x)                               a helper of the module: numpy.maximum against
                                                           a row of zeros (against the number 0 NumPy
                                                           runs a loop 2-2.5 times slower)
    Heaviside(x, 1)  (x >= 0)     Heaviside(x, 0)  (x > 0) a boolean mask; products make it float
    KroneckerDelta(i, j)  (i == j)                         the one-hot mask of a class label
    erf(x)           erf(x)                                a helper of the module: SciPy's erf, or
                                                           math.erf per entry without SciPy; float32
                                                           arrays by two polynomials (2.5 ulp)
    gelu, silu, elu, selu, softsign, hardtanh              their elementary forms (x·σ(x), ...), with
                                                           min(x, 0) inside every exponential

Max and Min of two arguments are ``numpy.maximum`` / ``numpy.minimum`` (SymPy's default reduces
over a Python list). Rationals print as float literals (``0.5*x``, not ``(1/2)*x``), and negative
integer powers as divisions.

Symbols print their names verbatim: the schedule only ever hands the printer symbols whose names are
code it made itself (``v12``, ``p0.T``, ``v3[:, None]``), never a user's symbol.

>>> import sympy as sp
>>> from symgrad.frontend.functions import sigmoid
>>> z = sp.Symbol('v3')
>>> NumpyPrinter().doprint(sigmoid(z) * (1 - sigmoid(z)))
'(1 - sigmoid(v3))*sigmoid(v3)'
"""
from __future__ import annotations

import math

import sympy as sp
from sympy.printing.numpy import NumPyPrinter, _known_functions_numpy
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import _known_functions_math

from ..numpy_erf_float32 import HELPER_LINES
from ..numpy_special import MATH_ENTRY_HELPERS, SPECIAL_HELPERS, polygamma_form, shared_lines
from .table import FunctionTable, elementary_forms


class NumpyPrinter(FunctionTable, NumPyPrinter):
    """SymPy's NumPy printer with stable forms for symgrad's functions (see the module docstring)."""

    # name -> the stable form (see FunctionTable); other functions print as SymPy's NumPy printer does
    FUNCTIONS = {
        # a helper of the module: SciPy's expit, or exp(−logaddexp(0, −x)) without SciPy
        "sigmoid": lambda p, x: p._helper("sigmoid") + f"({p._print(x)})",
        # a helper of the module: max(x, 0) + log1p(exp(−|x|)) in passes over one temporary
        "softplus": lambda p, x: p._helper("softplus") + f"({p._print(x)})",
        # over rows of fewer than 32 entries (``narrow_rows``, set by the schedule) NumPy's own
        # maximum(x, 0): the helper's row of zeros gains nothing there, and its call costs ~0.5 µs
        "relu": lambda p, x: (f"numpy.maximum({p._print(x)}, 0)" if p.narrow_rows
                              else p._helper("relu") + f"({p._print(x)})"),
        "leaky_relu": lambda p, x, a: f"numpy.where({p._print(x)} >= 0, {p._print(x)}, {p._print(a * x)})",
        "log1p": lambda p, x: f"numpy.log1p({p._print(x)})",
        "expm1": lambda p, x: f"numpy.expm1({p._print(x)})",
        # NumPy has no erf: a helper of the module (SciPy's, or math.erf entry by entry)
        "erf": lambda p, x: p._helper("erf") + f"({p._print(x)})",
        # nor erfc, log Γ, Γ, ψ, ψ₁: helpers of the module (SciPy's, or NumPy/math fallbacks:
        # codegen/numpy_special.py); erfc is never 1 − erf, which is 0 in the tail
        **{name: (lambda name: lambda p, x: p._helper(name) + f"({p._print(x)})")(name)
           for name in MATH_ENTRY_HELPERS},
        "polygamma": polygamma_form,        # ψ = polygamma(0, ·), ψ₁ = polygamma(1, ·) only
        # x·log y, 0 where x = 0 (log of 1 there: no warning, no 0·(−∞))
        "xlogy": lambda p, x, y: f"({p.parenthesize(x, PRECEDENCE['Mul'])}*numpy.log(numpy.where({p._print(x)} == 0, 1, {p._print(y)})))",
        "xdivy": lambda p, x, y: f"({p.parenthesize(x, PRECEDENCE['Mul'])}/numpy.where({p._print(x)} == 0, 1, {p._print(y)}))",
        **elementary_forms(),
    }

    # name -> the source of a module-level helper function a printed body may call
    # erf: SciPy's (a vectorized C loop, as accurate as math.erf) when SciPy is installed; without
    # it math.erf entry by entry, exact but a Python call per entry (a GELU over (N, T, 4D) took 75 %
    # of a transformer's step that way: bench/transformer_step.py --profile); a float32 array by two
    # polynomials in NumPy passes, within 2.5 float32 ulp (codegen/numpy_erf_float32.py: SciPy's
    # float32 loop goes through float64 entry by entry, 2.5× slower)
    # sigmoid: SciPy's expit (one C loop, overflow-free, accurate where σ is tiny: 5× faster than
    # the two-ufunc form, which an LSTM's gates and an autoencoder's code spent a fifth of a step on:
    # bench/port_step.py); without SciPy σ(x) = exp(−softplus(−x)), the same values
    # relu: numpy.maximum(x, 0) runs NumPy's loop for a number operand, 2-2.5 times slower than its
    # loop for two arrays (50 against 21 µs at (256, 512) float32, 390 against 160 µs at (32, 64,
    # 512): a batch-norm MLP's layer, a convolution's maps); over fewer than 4096 entries, or rows of
    # fewer than 32, the row gains nothing. The same values, NaN and -0.0 included (maximum either way).
    # softplus: numpy.logaddexp(0, x) computes the same max(x, 0) + log1p(exp(−|x|)) but entry by
    # entry through the C library's exp and log1p; NumPy's own exp and log1p loops are vectorized:
    # 0.13-0.15 of logaddexp's time over (128, 256) and (256, 1024) float32, 0.22 in float64, about
    # half over a thousand entries (bench/softplus_helper.py, in turns in one process); a VAE's binary
    # cross-entropy of its logits was 0.6 of a 1.6 ms step (docs/benchmarks.md). Within 3 float32 ulp of log(1 +
    # eˣ) (2.7 measured; logaddexp 1.4, the erf helper 2.5); ±inf and NaN as logaddexp gives them. A
    # number or an integer array: logaddexp, as before.
    HELPERS = {"softplus": [
        "def softplus(x):",
        '    """log(1 + eˣ) of each entry without overflow: max(x, 0) + log1p(exp(−|x|)), in NumPy\'s',
        "    vectorized loops over one temporary (logaddexp(0, x) runs the C library's exp and log1p",
        '    entry by entry)."""',
        "    x = numpy.asarray(x)",
        "    if x.ndim == 0 or x.dtype.kind != 'f':",
        "        return numpy.logaddexp(0, x)",
        "    t = numpy.abs(x)",
        "    numpy.negative(t, out=t)",
        "    numpy.exp(t, out=t)",
        "    numpy.log1p(t, out=t)",
        "    t += numpy.maximum(x, 0)",
        "    return t",
    ], "relu": [
        "def relu(x, out=None):",
        '    """max(x, 0) of each entry (into out when given), against a row of zeros: NumPy\'s maximum',
        '    with the number 0 runs a loop 2-2.5 times slower over a few thousand entries or more, in',
        '    rows of 32 or more."""',
        "    x = numpy.asarray(x)",
        "    if x.size < 4096 or x.shape[-1] < 32:",
        "        return numpy.maximum(x, 0, out=out)",
        "    return numpy.maximum(x, numpy.zeros(x.shape[-1], dtype=x.dtype), out=out)",
    ], "sigmoid": [
        "try:",
        "    from scipy.special import expit as _expit_vectorized",
        "except ImportError:          # the module needs only NumPy: the two-ufunc form then",
        "    _expit_vectorized = None",
        "",
        "",
        "def sigmoid(x):",
        '    """σ of each entry without overflow: SciPy\'s expit, or exp(−logaddexp(0, −x))."""',
        "    if _expit_vectorized is not None:",
        "        return _expit_vectorized(x)",
        "    return numpy.exp(-numpy.logaddexp(0, -x))",
    ], "erf": [
        "import threading",
        "",
        "try:",
        "    from scipy.special import erf as _erf_vectorized",
        "except ImportError:          # the module needs only NumPy: math.erf entry by entry then",
        "    _erf_vectorized = None",
        "_erf_entry = numpy.frompyfunc(math.erf, 1, 1)",
        "",
        "",
        *HELPER_LINES,
        "",
        "",
        "def erf(x, out=None):",
        '    """erf of each entry (NumPy has none), in the dtype of x: SciPy\'s, or math.erf entry by entry;',
        '    a float32 array by the two polynomials of _erf_float32. Into out when given (an array of',
        "    x's shape, x itself too: the training step's workspace, codegen/numpy_workspace.py).\"\"\"",
        "    x = numpy.asarray(x)",
        "    if x.dtype == numpy.float32 and x.ndim and (out is None or out.flags.c_contiguous):",
        "        return _erf_float32(x, out)",
        "    dtype = x.dtype if x.dtype.kind == 'f' else DTYPE",
        "    if _erf_vectorized is not None:",
        "        y = _erf_vectorized(x).astype(dtype, copy=False)",
        "    else:",
        "        y = _erf_entry(x).astype(dtype)",
        "    if out is None:",
        "        return y",
        "    numpy.copyto(out, y)",
        "    return out",
    ], **SPECIAL_HELPERS}

    def _helper(self, name: str) -> str:
        self.helpers_used = getattr(self, "helpers_used", set()) | {name}
        return name

    def use_helper(self, name: str, lines: list) -> None:
        """Print the helper ``name``, whose source is ``lines``, into this module: a helper that a
        pass after printing adds (the step's workspace, GELU's Φ) goes into this printer's own copy
        of the table, never into the class's, which every module shares."""
        self.HELPERS = dict(self.HELPERS, **{name: lines})
        self._helper(name)

    def helper_source(self) -> list:
        """The helpers the bodies printed so far call (``import math`` first when one needs it: erf,
        the step's workspace, the fallbacks of erfc, loggamma and gamma; digamma's and trigamma's
        series do not)."""
        used = sorted(getattr(self, "helpers_used", ()))
        head = ["import math", ""] if {"erf", "workspace", *MATH_ENTRY_HELPERS} & set(used) else [""]
        head += shared_lines(used)      # SciPy's special functions, the series of ψ and ψ₁
        return (head + sum(([*self.HELPERS[n], "", ""] for n in used), [])) if used else []

    def __init__(self, settings=None):
        super().__init__(dict({"fully_qualified_modules": True, "strict": True}, **(settings or {})))
        self.printmethod = "_symgrad_numpycode"   # (NumPyPrinter.__init__ sets "_numpycode")

    narrow_rows = False     # the statement being printed has a last axis of < 32 entries (`schedule.narrow_rows`)

    MODULE = "numpy"
    TARGET, ALSO = "NumPy", " and NumPy's own functions (sin, tanh, log, ...)"

    def _print(self, expr, **kwargs):
        # A constant that is no rational (√2, 1/√π, e²) prints as its float literal: NumPy 2 keeps
        # the dtype of the array for a Python float, but promotes a float32 array to float64 with
        # the NumPy scalar that numpy.sqrt(2) returns (NEP 50), so GELU's 0.5*numpy.sqrt(2)*x
        # turned a float32 program's activations, and every product after them, into float64
        if isinstance(expr, sp.Expr) and not expr.is_Rational and not isinstance(expr, sp.Float) \
                and expr.is_number and expr.is_extended_real and expr.is_finite:
            return repr(float(expr))
        return super()._print(expr, **kwargs)

    def _print_not_supported(self, expr):
        # SymPy's strict printer raises its own PrintMethodNotImplementedError for a function it has
        # no rule for (LambertW, Si, zeta, ...): symgrad's error, naming what is printed, instead
        self._refused(expr)

    def _refused(self, expr):
        # the function by its SymPy name, without its arguments: they are symgrad's temporaries
        # (x0, v12, the schedule's probe `read_here`), which name nothing the user wrote
        from symgrad.errors import UnsupportedError
        raise UnsupportedError(
            f"the {self.TARGET} target has no form for {type(expr).__name__} (in the loss, or in its "
            f"gradient); it prints: "
            f"{', '.join(sorted(self.FUNCTIONS))}{self.ALSO}")

    def _print_Float(self, expr):
        # 15 significant digits where they read back within a rounding of the double the Float holds
        # (Adam's 1 - 0.9 prints 0.1, not 0.09999999999999998), else the double in full: 15 digits
        # turned finfo(float64).min (an additive attention mask) into 1.79769313486232e+308, past the
        # largest double: inf, and inf - inf a NaN loss (core/rules.py evaluates Floats in full too)
        v = float(expr)
        if not math.isfinite(v):
            return super()._print_Float(expr)
        short = "%.15g" % v
        back = float(short)
        if math.isfinite(back) and abs(back - v) <= 4 * math.ulp(v):
            return repr(back)
        return repr(v)

    def _print_ComplexInfinity(self, expr):
        # SymPy folds 1/where(c, x, 0) into a Piecewise with 1/0 = zoo in a branch; float arithmetic
        # gives 1/0.0 = inf there (as NumPy and torch do on the unfolded expression). SymPy's printer
        # has no constant for zoo (a KeyError: 'ComplexInfinity')
        return "numpy.inf"

    def _print_Piecewise(self, expr):
        # where(c, a, b) (two pieces, the last one's condition True) is numpy.where, not SymPy's
        # numpy.select (which builds a list of full-size arrays): half the time on attention's
        # causal mask. Two number branches are the module's DTYPE: where(c, 1, 0) is an int64 array,
        # which would turn a float32 gradient it multiplies into float64.
        if len(expr.args) == 2 and expr.args[1].cond == sp.true:
            (a, c), (b, _) = expr.args
            ap, bp = self._print(a), self._print(b)
            if a.is_number and b.is_number:
                ap, bp = f"DTYPE({ap})", f"DTYPE({bp})"
            return f"numpy.where({self._print(c)}, {ap}, {bp})"
        return super()._print_Piecewise(expr)

    def _print_Heaviside(self, expr):
        x = self._print(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        if h0 == 1:
            return f"({x} >= 0)"
        if h0 == 0:
            return f"({x} > 0)"
        return f"numpy.heaviside({x}, {self._print(h0)})"

    # A mask is a boolean array, and NumPy refuses −mask and mask − mask, reads mask + mask as "or",
    # and makes 1 − mask an int64 array (which turns a float32 gradient into float64). A term of a
    # sum that is a mask, a negated mask, and a number times masks alone (3*mask: int64) are the
    # module's DTYPE: DTYPE(1)*(x >= 0), DTYPE(3)*(x >= 0).
    def _print_Mul(self, expr):
        c, rest = expr.as_coeff_Mul()
        if c == -1 and _has_mask_factor(rest):      # −(a >= 0)*(b >= 0) would negate a boolean first
            return "DTYPE(-1)*" + self.parenthesize(rest, PRECEDENCE["Mul"])
        if c.is_number and c != 1 and is_boolean(rest):     # 3*(a >= 0) is int64, (1/2)*(a >= 0) float64
            return f"DTYPE({self._print(c)})*" + self.parenthesize(rest, PRECEDENCE["Mul"])
        return super()._print_Mul(expr)

    def _print_Add(self, expr, order=None):
        masks = [m for t in expr.args for m in (t, -t) if is_boolean(m)]
        if masks:
            floats = {m: sp.Symbol(f"DTYPE(1)*{self._print(m)}") for m in masks}   # printed verbatim
            expr = sp.Add(*[t.xreplace(floats) for t in expr.args], evaluate=False)
        return super()._print_Add(expr, order=order)

    def _print_KroneckerDelta(self, expr):
        i, j = (self._print(a) for a in expr.args)
        return f"({i} == {j})"

    def _print_Pow(self, expr, rational=False):
        b, e = expr.args
        if e.is_Integer and e < 0:
            inner = sp.Pow(b, -e, evaluate=False) if e != -1 else b
            return f"1/{self.parenthesize(inner, sp.printing.precedence.PRECEDENCE['Pow'])}"
        if e == sp.S.Half:
            return f"numpy.sqrt({self._print(b)})"
        return super()._print_Pow(expr, rational=rational)


# The math functions NumPy lacks (erf, gamma, ...) would print as ``math.erf(v3)``, which takes no
# arrays (and the module imports no math): an error at compile time instead.
# (NumpyPrinter's own _refused, which names the function without its arguments)
NumpyPrinter.refuse(set(_known_functions_math) - set(_known_functions_numpy))


def _has_mask_factor(e) -> bool:
    """A mask, or a product with a mask among its factors (the printer may put it first)."""
    return is_boolean(e) or (isinstance(e, sp.Mul) and any(isinstance(a, (sp.Heaviside, sp.KroneckerDelta))
                                                           for a in e.args))


def is_boolean(body) -> bool:
    """True when ``body`` prints to a boolean array (a mask, or a product of masks)."""
    masks = (sp.Heaviside, sp.KroneckerDelta)
    if isinstance(body, masks):
        return True
    return isinstance(body, sp.Mul) and all(isinstance(a, masks) for a in body.args)
