"""The special functions of a probabilistic loss on the Triton target: erfc, loggamma, gamma, digamma
and trigamma (SymPy's ``polygamma(0, x)`` and ``polygamma(1, x)``, the derivatives of loggamma and
digamma), as ``@triton.jit`` helpers of the generated module that the printed bodies call
(``special_lgamma(v3)``). A Poisson NLL with its exact log y! = loggamma(y + 1), a Student-t NLL with
a learned number of degrees of freedom (loggamma((ν + 1)/2), whose gradient is digamma), a Gaussian
tail log erfc(x) compile as the NumPy target's do.

Each is written with ``tl.*`` only, in float32, so that the Triton interpreter (which runs the tests
on machines without a GPU, and has no libdevice) runs what the GPU runs:

    erfc(x)      1 − erf(x) below x = 1 (erfc ≥ 0.16 there), and above it the continued fraction
                 erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))) cut after 40 terms
                 (within 3e-7 relative from x = 1 on), e^(−x²) as e^(−h²)·e^(−(x−h)(x+h)) with
                 h = x rounded down to 1/256 (h² exact in float32 below x = 16, and erfc is 0
                 above): never 1 − erf in the tail, where it is 0 from x ≈ 3.9 in float32 and
                 log erfc would be −inf
    loggamma(x)  log |Γ(x)| (torch.lgamma's, SciPy's gammaln): x < 4 lifted to t = x + 4 by
                 log Γ(x) = log Γ(t) − log(x(x+1)(x+2)(x+3)), then Stirling's series
                 (t − ½)·log t − t + ½·log 2π + Σₖ B₂ₖ/(2k(2k−1) t²ᵏ⁻¹) to t⁻¹¹; x < 0 by the reflection
                 log |Γ(x)| = log(π/|sin πx|) − log Γ(1 − x); +inf at 0, −1, −2, ...
    gamma(x)     ±e^(loggamma(x)), negative where x < 0 and ⌊x⌋ is odd; NaN at −1, −2, ...
    digamma(x)   ψ(x) = ψ(x + 8) − Σₖ₌₀⁷ 1/(x + k) for x < 8, ψ(t) = log t − 1/(2t) − Σ B₂ₖ/(2k t²ᵏ) to
                 t⁻⁶; x < 0 by ψ(x) = ψ(1 − x) − π·cos(πr)/sin(πr), r = x − round(x); ψ(+0) = −inf
                 (as torch.digamma), NaN at −1, −2, ...
    trigamma(x)  ψ₁(x) likewise: ψ₁(x) = ψ₁(x + 8) + Σ 1/(x + k)², ψ₁(t) = 1/t + 1/(2t²) + Σ B₂ₖ/t²ᵏ⁺¹
                 to t⁻⁷, and ψ₁(x) = π²/sin²(πr) − ψ₁(1 − x) for x < 0; +inf at the poles

Errors against float64 (SciPy), on x in (0, 20] and its reflections below 0
(tests/codegen/test_triton_special.py): loggamma within 2e-6 absolute (relative above 1), digamma
and trigamma within 1e-6, erfc within 5e-7 relative (x up to 9, erfc down to 4e-37). A few float32
ulps of the values the lifts add: torch's float32 lgamma is closer near its zeros 1 and 2 (1e-7
there, ours 1e-6).

Branches are ``tl.where`` of both sides (a block of examples takes either), each side kept finite
where it is not taken (the lift of x = 10⁶ is formed of 1s).
"""
from __future__ import annotations

import re

# name of the SymPy function -> the helper the printed body calls
HELPER_OF = {"erfc": "special_erfc", "loggamma": "special_lgamma", "gamma": "special_gamma"}

_LGAMMA = '''

@triton.jit
def special_lgamma_pos(y):
    """log Γ(y) for y ≥ 0: y < 4 lifted to t = y + 4, then Stirling's series to t⁻¹¹."""
    low = y < 4.0
    u = tl.where(low, y, 1.0)                       # (1 where not lifted: no log 0 in the branch not taken)
    t = tl.where(low, y + 4.0, y)
    w = 1.0 / (t * t)
    tail = (0.08333333333333333 - w * (0.002777777777777778 - w * (0.0007936507936507937 - w * (
        0.0005952380952380953 - w * (0.0008417508417508417 - w * 0.0019175269175269176))))) / t
    stirling = (t - 0.5) * tl.log(t) - t + 0.9189385332046727 + tail
    return stirling - tl.where(low, tl.log(u * (u + 1.0) * (u + 2.0) * (u + 3.0)), 0.0)


@triton.jit
def special_lgamma(x):
    """log |Γ(x)| (torch.lgamma): x < 0 by log |Γ(x)| = log(π/|sin πx|) − log Γ(1 − x)."""
    neg = x < 0.0
    r = tl.where(neg, x - tl.floor(x + 0.5), 0.5)   # sin πx = ±sin πr, r in [−½, ½]: 0 at the poles
    pos = special_lgamma_pos(tl.where(neg, 1.0 - x, x))
    return tl.where(neg, tl.log(3.141592653589793 / tl.abs(special_sinpi(r))) - pos, pos)'''

_GAMMA = '''

@triton.jit
def special_gamma(x):
    """Γ(x) = ±e^(log |Γ(x)|): negative where x < 0 and ⌊x⌋ is odd; NaN at −1, −2, ..."""
    odd = (tl.floor(x) - 2.0 * tl.floor(0.5 * tl.floor(x))) == 1.0
    mag = tl.exp(special_lgamma(x))
    g = tl.where((x < 0.0) & odd, -mag, mag)
    return tl.where((x < 0.0) & (x == tl.floor(x)), float("nan"), g)'''

_SINPI = '''

@triton.jit
def special_sinpi(r):
    """sin(πr) for |r| ≤ ½ by its Taylor series to (πr)¹³ (within 7e-10): tl.sin of any argument
    takes CUDA's slow range reduction, a 32-byte stack frame in the kernel."""
    t = 3.141592653589793 * r
    u = t * t
    return t * (1.0 - u / 6.0 * (1.0 - u / 20.0 * (1.0 - u / 42.0 * (1.0 - u / 72.0 * (1.0 - u / 110.0 * (1.0 - u / 156.0))))))


@triton.jit
def special_cospi(r):
    """cos(πr) for |r| ≤ ½ by its Taylor series to (πr)¹² (within 7e-9)."""
    u = (3.141592653589793 * r) * (3.141592653589793 * r)
    return 1.0 - u / 2.0 * (1.0 - u / 12.0 * (1.0 - u / 30.0 * (1.0 - u / 56.0 * (1.0 - u / 90.0 * (1.0 - u / 132.0)))))'''

_LIFT8 = '''

@triton.jit
def special_lift8(x):
    """(r, t, u, low) of a ψ or ψ₁ of x, lifted from y = x, or 1 − x below 0 (the reflection):
    r = x − round(x) below 0 (else ½: no 1/sin 0 in the branch not taken); low: y < 8, where
    t = y + 8 and u = y (else t = y, and u = 1: the lift's terms, in 1/(u + k), are then finite
    and not taken)."""
    y = tl.where(x < 0.0, 1.0 - x, x)
    low = y < 8.0
    return tl.where(x < 0.0, x - tl.floor(x + 0.5), 0.5), tl.where(low, y + 8.0, y), tl.where(low, y, 1.0), low'''

_DIGAMMA = '''

@triton.jit
def special_digamma(x):
    """ψ(x) = ψ(x + 8) − Σ 1/(x + k), ψ(t) by log t − 1/(2t) − Σ B₂ₖ/(2k t²ᵏ); x < 0 by the reflection
    ψ(x) = ψ(1 − x) − π/tan(πx); ψ(+0) = −inf, NaN at −1, −2, ..."""
    r, t, u, low = special_lift8(x)
    acc = tl.zeros_like(t)
    for k in tl.static_range(8):
        acc += 1.0 / (u + k)
    w = 1.0 / (t * t)
    psi = tl.log(t) - 0.5 / t - w * (0.08333333333333333 - w * (0.008333333333333333 - w * 0.003968253968253968))
    psi = psi - tl.where(low, acc, 0.0)
    out = tl.where(x < 0.0, psi - 3.141592653589793 * special_cospi(r) / special_sinpi(r), psi)
    return tl.where((x < 0.0) & (x == tl.floor(x)), float("nan"), out)'''

_TRIGAMMA = '''

@triton.jit
def special_trigamma(x):
    """ψ₁(x) = ψ₁(x + 8) + Σ 1/(x + k)², ψ₁(t) = 1/t + 1/(2t²) + Σ B₂ₖ/t²ᵏ⁺¹; x < 0 by the reflection
    ψ₁(x) = π²/sin²(πx) − ψ₁(1 − x); +inf at the poles."""
    r, t, u, low = special_lift8(x)
    acc = tl.zeros_like(t)
    for k in tl.static_range(8):
        acc += 1.0 / ((u + k) * (u + k))
    w = 1.0 / (t * t)
    psi1 = 1.0 / t + w * (0.5 + (0.16666666666666666 - w * (0.03333333333333333 - w * 0.023809523809523808)) / t)
    psi1 = psi1 + tl.where(low, acc, 0.0)
    s = special_sinpi(r)
    return tl.where(x < 0.0, 9.869604401089358 / (s * s) - psi1, psi1)'''

_ERFC = '''

@triton.jit
def special_erfc(x):
    """erfc(x): 1 − erf(x) below 1; above, e^(−x²)/√π over the continued fraction
    x + ½/(x + 1/(x + (3/2)/(x + …))) cut after 40 terms, e^(−x²) as e^(−h²)·e^(−(x − h)(x + h))."""
    big = x >= 1.0
    z = tl.where(big, x, 1.0)
    f = z
    for j in tl.static_range(40):
        f = z + (0.5 * (40 - j)) / f
    h = tl.floor(z * 256.0) / 256.0                # (12 bits below x = 16: h² exact in float32)
    tail = tl.exp(-h * h) * tl.exp(-(z - h) * (z + h)) / (1.7724538509055159 * f)
    return tl.where(big, tail, 1.0 - tl.erf(x))'''

# helper -> (its source, the helpers it calls); special_sinpi's source holds special_cospi too
SOURCES = {
    "special_sinpi": (_SINPI, ()),
    "special_lgamma": (_LGAMMA, ("special_sinpi",)),
    "special_gamma": (_GAMMA, ("special_lgamma",)),
    "special_digamma": (_DIGAMMA, ("special_lift8", "special_sinpi")),
    "special_trigamma": (_TRIGAMMA, ("special_lift8", "special_sinpi")),
    "special_lift8": (_LIFT8, ()),
    "special_erfc": (_ERFC, ()),
}
_ORDER = ["special_sinpi", "special_lift8", "special_lgamma", "special_gamma", "special_digamma", "special_trigamma",
          "special_erfc"]


def forms() -> dict:
    """The Triton printer's forms: name of the SymPy function -> form(printer, *args)."""
    out = {name: (lambda helper: lambda p, x: f"{helper}({p._print(x)})")(helper) for name, helper in HELPER_OF.items()}
    out["polygamma"] = polygamma_form
    return out


def polygamma_form(printer, n, x):
    """polygamma(0, x) is ψ (loggamma's derivative), polygamma(1, x) ψ₁ (digamma's); a higher order
    (trigamma's derivative, in the gradient of a loss that holds digamma's) is an error naming them."""
    if n == 0:
        return f"special_digamma({printer._print(x)})"
    if n == 1:
        return f"special_trigamma({printer._print(x)})"
    from symgrad.errors import UnsupportedError
    raise UnsupportedError(f"the Triton target has no form for polygamma({n}, x) (in the loss, or in its gradient: "
                           "trigamma's derivative is polygamma(2, x)): it prints polygamma(0, x) = digamma(x) and "
                           "polygamma(1, x) = trigamma(x), the derivatives of loggamma and digamma, and no higher "
                           "order; compile such a loss with target='numpy' (which has no higher order either: write "
                           "the function whose derivative it is, or leave its argument out of the parameters)")


def source(text: str) -> str:
    """The helpers the kernels in ``text`` call (and those they call), in an order that defines each
    before a helper that calls it; '' when none."""
    used = {name for name in SOURCES if re.search(rf"\b{name}\(", text)}
    todo = list(used)
    while todo:
        for dep in SOURCES[todo.pop()][1]:
            if dep not in used:
                used.add(dep)
                todo.append(dep)
    return "".join(SOURCES[name][0] for name in _ORDER if name in used)
