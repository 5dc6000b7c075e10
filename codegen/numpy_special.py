"""The special functions NumPy lacks, as helpers of a generated NumPy module: erfc, loggamma, gamma,
digamma and trigamma (SymPy's ``polygamma(0, x)`` and ``polygamma(1, x)``: the derivatives of
loggamma and digamma).

SciPy is no dependency of symgrad, so each helper uses ``scipy.special`` when it can be imported
(one vectorized C loop each) and otherwise a fallback that needs only NumPy and ``math``:

    erfc(x)      math.erfc entry by entry: exact, a Python call per entry. Not 1 − erf(x), which
                 is 0 from x ≈ 5.9 on in float64 where erfc(6) = 2.2e-17 (a Gaussian tail, the
                 log of a survival function, would be log 0 = −inf)
    loggamma(x)  math.lgamma entry by entry: log |Γ(x)| (real for real x < 0, as torch.lgamma and
                 scipy.special.gammaln are; SymPy's loggamma is complex there), +inf at the poles
    gamma(x)     math.gamma entry by entry; ±inf at ±0, NaN at the other poles, inf past 171.6
    digamma(x)   ψ(x) by NumPy passes (math has no ψ): the recurrence ψ(x) = ψ(x + 1) − 1/x
                 lifts x to t ≥ 10, where the asymptotic series
                     ψ(t) = ln t − 1/(2t) − Σₖ B₂ₖ / (2k t²ᵏ)      (B₂ₖ the Bernoulli numbers)
                 cut after t⁻¹⁴ is within 1e-16 relative; x < 1/2 by the reflection
                 ψ(x) = ψ(1 − x) − π / tan(πx); ψ(±0) = ∓inf, NaN at the poles −1, −2, ... (as SciPy's)
    trigamma(x)  ψ₁(x) likewise: ψ₁(x) = ψ₁(x + 1) + 1/x², ψ₁(t) = 1/t + 1/(2t²) + Σₖ B₂ₖ / t²ᵏ⁺¹,
                 and the reflection ψ₁(x) = π² / sin²(πx) − ψ₁(1 − x); +inf at the poles

Every helper returns a new array in the dtype of x (the module's DTYPE for an integer array).
"""
from __future__ import annotations

# The lines every helper needs: SciPy's special functions when installed.
_SCIPY = [
    "try:",
    "    from scipy import special as _scipy_special",
    "except ImportError:          # the module needs only NumPy: the fallbacks of each helper then",
    "    _scipy_special = None",
    "",
    "",
    "def _float_dtype(x):",
    '    """The dtype a special function of x returns: x\'s own when it is floating, else DTYPE."""',
    "    return x.dtype if x.dtype.kind == 'f' else DTYPE",
    "",
    "",
]

# the series of ψ and ψ₁ at t ≥ 10, shared by digamma and trigamma (their fallbacks)
_SERIES = [
    "def _lift(x, step):",
    '    """x < 1/2 reflected to 1 − x, then lifted to t ≥ 10 by adding 1 (at most 10 times):',
    '    (t, Σ step(x + k) over the lifts). x is a float64 array."""',
    "    t = numpy.where(x < 0.5, 1.0 - x, x)",
    "    acc = numpy.zeros_like(t)",
    "    for _ in range(10):",
    "        low = t < 10",
    "        acc += numpy.where(low, step(numpy.where(low, t, 1.0)), 0.0)",
    "        t = numpy.where(low, t + 1.0, t)",
    "    return t, acc",
    "",
    "",
    "def _pole(x):",
    '    """x is 0, −1, −2, ... (a pole of Γ, ψ and ψ₁)."""',
    "    return (x <= 0) & (x == numpy.floor(x))",
    "",
    "",
    "def _digamma_series(x):",
    '    """ψ(x) of a float64 array x: ψ(x) = ψ(t) − Σ 1/(x + k) for the lift t = x + n ≥ 10, ψ(t) by',
    '    ln t − 1/(2t) − Σ B₂ₖ/(2k t²ᵏ) to t⁻¹⁴; x < 1/2 by ψ(x) = ψ(1 − x) − π/tan(πx); ψ(±0) = ∓inf',
    '    (ψ(x) ≈ −1/x there), NaN at −1, −2, ..., as SciPy\'s."""',
    "    with numpy.errstate(divide='ignore', invalid='ignore'):",
    "        t, acc = _lift(x, lambda s: 1.0 / s)",
    "        u = 1.0 / (t * t)",
    "        tail = u * (1 / 12 - u * (1 / 120 - u * (1 / 252 - u * (1 / 240 - u * (1 / 132 - u * (691 / 32760 - u / 12))))))",
    "        psi = numpy.log(t) - 0.5 / t - tail - acc",
    "        r = numpy.pi * (x - numpy.round(x))        # tan(πx) = tan(π(x − round x)), x − round x exact",
    "        psi = numpy.where(x < 0.5, psi - numpy.pi / numpy.tan(r), psi)",
    "        psi = numpy.where(_pole(x), numpy.nan, psi)",
    "        return numpy.where(x == 0, -numpy.copysign(numpy.inf, x), psi)",
    "",
    "",
    "def _trigamma_series(x):",
    '    """ψ₁(x) of a float64 array x: ψ₁(x) = ψ₁(t) + Σ 1/(x + k)² for the lift t ≥ 10, ψ₁(t) by',
    '    1/t + 1/(2t²) + Σ B₂ₖ/t²ᵏ⁺¹ to t⁻¹⁵; x < 1/2 by ψ₁(x) = π²/sin²(πx) − ψ₁(1 − x)."""',
    "    with numpy.errstate(divide='ignore', invalid='ignore', over='ignore'):      # (π/sin(πx) of a tiny x: inf)",
    "        t, acc = _lift(x, lambda s: 1.0 / (s * s))",
    "        u = 1.0 / (t * t)",
    "        tail = u * (1 / 6 - u * (1 / 30 - u * (1 / 42 - u * (1 / 30 - u * (5 / 66 - u * (691 / 2730 - u * 7 / 6))))))",
    "        psi1 = (1.0 + 0.5 / t + tail) / t + acc",
    "        r = numpy.pi * (x - numpy.round(x))        # sin²(πx) = sin²(π(x − round x))",
    "        psi1 = numpy.where(x < 0.5, (numpy.pi / numpy.sin(r)) ** 2 - psi1, psi1)",
    "        return numpy.where(_pole(x), numpy.inf, psi1)",
    "",
    "",
]


def _entry_fallback(name, entry, math_name):
    """A helper whose fallback calls ``entry`` (``math_name`` wrapped for poles) per entry."""
    return [
        f"def {name}(x):",
        f'    """{name} of each entry (NumPy has none): SciPy\'s, or {math_name} entry by entry (exact,',
        '    a Python call per entry); see codegen/numpy_special.py."""',
        "    x = numpy.asarray(x)",
        "    if _scipy_special is not None:",
        f"        return numpy.asarray({_SCIPY_CALLS[name]}, dtype=_float_dtype(x))",
        "    with numpy.errstate(over='ignore'):      # (a value past float32's largest, Γ(x) from x ≈ 35: inf)",
        f"        return numpy.asarray({entry}(x), dtype=_float_dtype(x))",
    ]


def _series_fallback(name):
    """A helper whose fallback is the series ``_{name}_series`` in float64."""
    return [
        f"def {name}(x):",
        f'    """{name} of each entry (NumPy has none): SciPy\'s, or a series in NumPy passes',
        '    (within 1e-13 relative of mpmath in float64); see codegen/numpy_special.py."""',
        "    x = numpy.asarray(x)",
        "    if _scipy_special is not None:",
        f"        return numpy.asarray({_SCIPY_CALLS[name]}, dtype=_float_dtype(x))",
        f"    return _{name}_series(x.astype(numpy.float64)).astype(_float_dtype(x), copy=False)",
    ]


# name -> SciPy's call (gammaln is log |Γ|, as math.lgamma)
_SCIPY_CALLS = {"erfc": "_scipy_special.erfc(x)", "loggamma": "_scipy_special.gammaln(x)",
                "gamma": "_scipy_special.gamma(x)", "digamma": "_scipy_special.digamma(x)",
                "trigamma": "_scipy_special.polygamma(1, x)"}

_ENTRIES = [
    "def _lgamma_or_inf(t):",
    '    """log |Γ(t)| of a number; +inf at a pole (math.lgamma raises there)."""',
    "    try:",
    "        return math.lgamma(t)",
    "    except ValueError:",
    "        return math.inf",
    "",
    "",
    "def _gamma_or_pole(t):",
    '    """Γ(t) of a number: ±inf at ±0, NaN at the other poles, inf past 171.6 (as SciPy\'s)."""',
    "    try:",
    "        return math.gamma(t)",
    "    except OverflowError:",
    "        return math.inf",
    "    except ValueError:",
    "        return math.copysign(math.inf, t) if t == 0 else math.nan",
    "",
    "",
    "_erfc_entry = numpy.frompyfunc(math.erfc, 1, 1)",
    "_lgamma_entry = numpy.frompyfunc(_lgamma_or_inf, 1, 1)",
    "_gamma_entry = numpy.frompyfunc(_gamma_or_pole, 1, 1)",
    "",
    "",
]

# name -> the helper's source; the first helper a module uses brings _SCIPY (and the shared parts
# it needs) before it: see `shared_lines` and `NumpyPrinter.helper_source`
# the helpers whose fallbacks call math's functions entry by entry (the module imports math for them),
# and those whose fallbacks are series in NumPy passes
MATH_ENTRY_HELPERS = ("erfc", "loggamma", "gamma")
SERIES_HELPERS = ("digamma", "trigamma")

SPECIAL_HELPERS = {
    "erfc": _entry_fallback("erfc", "_erfc_entry", "math.erfc"),
    "loggamma": _entry_fallback("loggamma", "_lgamma_entry", "math.lgamma"),
    "gamma": _entry_fallback("gamma", "_gamma_entry", "math.gamma"),
    "digamma": _series_fallback("digamma"),
    "trigamma": _series_fallback("trigamma"),
}


def shared_lines(used) -> list:
    """The lines the special helpers among ``used`` share, printed once before the first of them."""
    used = set(used) & set(SPECIAL_HELPERS)
    if not used:
        return []
    lines = list(_SCIPY)
    if used & set(MATH_ENTRY_HELPERS):
        lines += _ENTRIES
    if used & set(SERIES_HELPERS):
        lines += _SERIES
    return lines


def polygamma_form(printer, n, x):
    """polygamma(0, x) is ψ (digamma, loggamma's derivative), polygamma(1, x) ψ₁ (trigamma, digamma's
    derivative); a higher order (digamma's second derivative) is an error naming what is printed."""
    if n == 0:
        return printer._helper("digamma") + f"({printer._print(x)})"
    if n == 1:
        return printer._helper("trigamma") + f"({printer._print(x)})"
    from symgrad.errors import UnsupportedError
    raise UnsupportedError(f"the {printer.TARGET} target has no form for polygamma({n}, x) (in the loss, "
                           "or in its gradient: digamma's second derivative is polygamma(2, x)): it "
                           "prints polygamma(0, x) = digamma(x) and "
                           "polygamma(1, x) = trigamma(x), the derivatives of loggamma and digamma, "
                           f"and no higher order; it prints: {', '.join(sorted(printer.FUNCTIONS))}{printer.ALSO}")
