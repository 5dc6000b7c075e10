"""The activations: `sigmoid`, `relu`, `leaky_relu`, `softplus` and torch's `gelu` (and
`gelu_tanh`), `silu`, `elu`, `selu`, `softsign`, `hardtanh`, `clip` — SymPy functions whose ``fdiff``
is the textbook derivative, mapping over matrices and tensor expressions entry by entry — and what to
say when SymPy's own function is applied to a whole matrix (`matrix_function_message`).

>>> import sympy as sp, symgrad as sg
>>> z = sp.Symbol('z')
>>> sp.diff(sg.sigmoid(z), z)
(1 - sigmoid(z))*sigmoid(z)
"""
from __future__ import annotations

import sympy as sp
from sympy import Function, Heaviside, Lambda, MatrixExpr, S

from ..errors import ArgumentError, UnsupportedError
from .keywords import check_flag
from .parse import as_expr
from .parse import register as _register_text
from .elementwise_map import Map, _on_tensor, _power, _t


class _Activation(Function):
    """A scalar function of one argument that maps over matrices elementwise, and over tensor
    expressions (giving a tensor expression)."""

    def __new__(cls, x, *rest, **options):
        # torch's F.relu(x, inplace=True) / F.silu(x, inplace=False): a declaration shares no memory,
        # so it changes nothing (SymPy would refuse it as an "unknown option")
        check_flag(cls.__name__, "inplace", options.pop("inplace", False))
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

    def __new__(cls, x, alpha=None, negative_slope=None, inplace=False, **options):
        # torch's F.leaky_relu(x, negative_slope=0.01, inplace=False): the same α (inplace changes
        # nothing in a declaration)
        if alpha is not None and negative_slope is not None:
            raise ArgumentError("leaky_relu: give alpha or torch's negative_slope=, not both")
        check_flag("leaky_relu", "inplace", inplace)
        slope = alpha if alpha is not None else negative_slope if negative_slope is not None else sp.Rational(1, 100)
        return super().__new__(cls, x, as_expr(slope, "alpha"), **options)

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



# The SymPy functions people apply to a whole matrix, and the sg.<name> that maps them over it.
MATRIX_SPELLINGS = {"tanh": "tanh", "exp": "exp", "log": "log", "sqrt": "sqrt", "Abs": "abs",
                    "erf": "erf", "sin": "sin", "cos": "cos", "tan": "tan", "sinh": "sinh", "cosh": "cosh",
                    "asin": "asin", "acos": "acos", "atan": "atan"}



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
        if approximate is True or approximate is False:     # jax.nn.gelu's approximate= is a bool
            approximate = "tanh" if approximate else "none"
        if approximate == "tanh":
            return gelu_tanh(x, **options)
        if approximate != "none":
            raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh' (as torch's F.gelu) or a bool "
                                f"(jax.nn.gelu's: True is 'tanh'), "
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

# The names user text may call (symgrad/frontend/parse.py), positional arguments and the keywords listed
for _name, _fn in (("sigmoid", sigmoid), ("relu", relu), ("softplus", softplus), ("gelu", gelu),
                   ("silu", silu), ("selu", selu), ("softsign", softsign)):
    _register_text(_name, _fn)
_register_text("leaky_relu", leaky_relu, (1, 2), keywords=("alpha",))
_register_text("elu", elu, (1, 2), keywords=("alpha",))
_register_text("hardtanh", hardtanh, (1, 3), keywords=("min_val", "max_val"))
del _name, _fn
