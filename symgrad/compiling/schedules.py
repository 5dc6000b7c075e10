"""Learning-rate schedules that torch training scripts use, as functions of the step ``t`` (1 on the
first step) returning a SymPy expression, so that they compile into the step like the optimizer's
rule (``sg.optim.AdamW(lr=WarmupCosine(3e-3, warmup=100, total=2000))``, any optimizer, any group).

A torch script steps its scheduler once after each ``optimizer.step()``, so torch's step k (its
``last_epoch``, 0 on the first step) is t − 1 here. ``check_schedule`` is what `sg.compile` runs on
every schedule it is given: a function written for torch's ``LambdaLR`` (Python's ``if`` on the step,
``math.cos``) cannot take a symbolic t, and the error says what to write instead.

>>> import sympy as sp
>>> t = sp.Symbol("t", integer=True, positive=True)
>>> sched = WarmupCosine(1.0, warmup=2, total=6)
>>> [round(float(sched(t).subs(t, k)), 4) for k in range(1, 8)]
[0.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 0.0]
"""
from __future__ import annotations

import contextvars
import math
from dataclasses import dataclass

import sympy as sp

from ..errors import ArgumentError, show_value


def _finite(name, v, ok, what):
    if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__") \
            or not math.isfinite(float(v)) or not ok(float(v)):
        raise ArgumentError(f"invalid {name}={show_value(v)}: {what}")
    return float(v)


# whether a schedule's floors are moved inside for the compiled step (off while a view is written)
EXACT_FLOORS = contextvars.ContextVar("EXACT_FLOORS", default=True)


def exact_floors(expr, t):
    """``expr`` (a schedule's learning rate in the step ``t``) with each floor and ceiling of a linear
    function of t with rational coefficients (floats that are such ratios, as in ``(t - 1) // 3.0``,
    read as them) moved half a value-step inside: ⌊t/3 − 1/3⌋ becomes
    ⌊t/3 − 1/6⌋. t is a whole number at run time, so a/d·t + b/d takes only multiples of 1/d and the
    shift of 1/(2d) changes no floor — but floats, which round t/3 and 1/3 apart, could put t/3 − 1/3
    just below a whole number at an epoch's first step: ``sp.floor((t - 1) / 3)``, which SymPy
    expands so, halved the rate one step late at t = 7, 10, 13, ... (``LinearAnnealing`` wrote
    ⌊(t − ½)/every⌋ for this).

    >>> t = sp.Symbol("t", real=True)
    >>> exact_floors(0.1 * sp.Rational(1, 2) ** sp.floor((t - 1) / 3), t)
    0.1/2**floor(t/3 - 1/6)
    """
    def inside(f):
        arg = f.args[0]
        if not arg.has(t) or not arg.is_polynomial(t):
            return f
        poly = sp.Poly(arg, t)
        if poly.degree() != 1:
            return f
        coeffs = [_small_ratio(c) for c in poly.all_coeffs()]
        if not all(c is not None for c in coeffs):
            return f
        d = sp.ilcm(*(c.q for c in coeffs))
        if d == 1 and all(c.is_Rational for c in poly.all_coeffs()):
            return f                      # whole numbers: exact in floats
        arg = coeffs[0] * t + coeffs[1]   # a float's ratio (0.333333333333333 as 1/3), as meant
        shift = sp.Rational(1, 2 * d)
        return type(f)(arg + shift if isinstance(f, sp.floor) else arg - shift)
    return expr.replace(lambda e: isinstance(e, (sp.floor, sp.ceiling)), inside)


def _small_ratio(c):
    """``c`` as a Rational: itself, or a SymPy Float that is a ratio of whole numbers up to 10⁴ to
    float precision (``(t - 1) // 3.0`` has the slope 0.333333333333333: 1/3); else None."""
    if c.is_Rational:
        return c
    if not c.is_Float:
        return None
    r = sp.Rational(c).limit_denominator(10 ** 4)
    return r if abs(float(r) - float(c)) <= 1e-12 * max(1.0, abs(float(c))) else None


@dataclass
class WarmupCosine:
    """A linear warm-up over ``warmup`` steps, then a cosine decay to ``lr_min`` at step ``total``:

        k = t − 1 (torch's step count)
        lr(k) = lr · (f + (1 − f) · k / warmup)                                      k < warmup
        lr(k) = lr_min + (lr − lr_min) · (1 + cos(π · min(k − warmup, T) / T)) / 2   T = total − warmup

    With ``start_factor`` f = 0 (the default) this is the ``LambdaLR`` of Hugging Face's
    ``get_cosine_schedule_with_warmup(opt, warmup, total)`` (lr_min 0); with f > 0 it is torch's
    ``SequentialLR([LinearLR(opt, start_factor=f, total_iters=warmup), CosineAnnealingLR(opt,
    T_max=total - warmup, eta_min=lr_min)], milestones=[warmup])``; ``warmup=0`` is
    ``CosineAnnealingLR(opt, T_max=total, eta_min=lr_min)``. Past ``total`` the rate stays at
    ``lr_min`` (torch's cosine would rise again). Tested against torch's schedulers.
    """

    lr: float
    warmup: int
    total: int
    lr_min: float = 0.0
    start_factor: float = 0.0

    def __post_init__(self):
        self.lr = _finite("lr", self.lr, lambda v: v >= 0, "must be a finite number >= 0")
        self.lr_min = _finite("lr_min", self.lr_min, lambda v: 0 <= v <= self.lr, "must be in [0, lr]")
        self.start_factor = _finite("start_factor", self.start_factor, lambda v: 0 <= v <= 1, "must be in [0, 1]")
        for name in ("warmup", "total"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ArgumentError(f"invalid {name}={show_value(v)}: must be an integer >= 0 (steps)")
        if self.total <= self.warmup:
            raise ArgumentError(f"total={self.total} must be larger than warmup={self.warmup}: the cosine "
                                f"runs over the total - warmup steps after the warm-up (total counts all steps)")

    def __call__(self, t):
        k = t - 1
        T = self.total - self.warmup
        f = self.start_factor
        cosine = self.lr_min + (self.lr - self.lr_min) * (1 + sp.cos(sp.pi * sp.Min(k - self.warmup, T) / T)) / 2
        if self.warmup == 0:
            return cosine
        return sp.Piecewise((self.lr * (f + (1 - f) * k / self.warmup), k < self.warmup), (cosine, True))


_ADVICE = ("a schedule is called once, with the step t a SymPy symbol, and returns a SymPy expression of t "
           "that is compiled into the step: write sp.Piecewise((a, t <= w), (b, True)) for Python's "
           "if/else on the step, sp.cos, sp.exp, sp.pi for math's, sp.Min / sp.Max for min / max "
           "(t counts from 1: torch's LambdaLR step is t - 1); a warm-up then a cosine decay is "
           "sg.optim.WarmupCosine(lr, warmup=, total=) (symgrad.compiling.schedules)")


def check_schedule(where: str, schedule, t):
    """Call ``schedule(t)`` once and refuse, with the way to write it, a schedule that cannot take a
    symbolic t or does not return an expression of t alone; return what it returned (so that a caller
    needing the expression does not call the schedule again)."""
    try:
        out = schedule(t)
    except (TypeError, ValueError, AttributeError) as e:     # `if t < w`, math.cos(t), float(t)
        raise ArgumentError(f"the learning-rate schedule {where} cannot be compiled: calling it with a "
                            f"symbolic step t failed ({type(e).__name__}: {e}); {_ADVICE}") from None
    try:
        expr = sp.sympify(out)
    except (sp.SympifyError, TypeError):
        expr = None
    if not isinstance(expr, sp.Basic) or not expr.free_symbols <= {t} or expr.is_real is False:
        raise ArgumentError(f"the learning-rate schedule {where} returned {show_value(out)}, not a real "
                            f"expression of the step t alone; {_ADVICE}"[:900])
    return out
