"""The narration of one derivative in the words of a calculus course.

The rules are `symgrad.teaching.notation`'s: `RULES`, the table of known derivatives of functions,
one row each, and `rule_name(body, a)`, the rule behind ∂body/∂a (the steps of
`symgrad.teaching.steps` use it for each edge of the graph). `narrate(f, x)` writes the whole
derivative out:

>>> import sympy as sp, symgrad as sg
>>> x = sp.Symbol('x')
>>> c = sg.derive(sp.sin(x**2), x, style="calculus")
>>> print(c.render("text"))                       # doctest: +NORMALIZE_WHITESPACE
d/dx sin(x**2)
let u = x**2; apply the chain rule: d/dx sin(u) = d/du sin(u)*du/dx
the derivative of sine is cosine: d/du sin(u) = cos(u)
power rule: d/dx x**2 = 2*x
so d/dx sin(x**2) = 2*x*cos(x**2)

A function with no row in the table is never skipped silently: the narration says which rule is
missing (``c.missing``) and takes that one derivative from ``sympy.diff``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..errors import SymgradError
from ..frontend.functions import leaky_relu
from ..frontend.parse import as_expr
from .notation import RULES, D

# ---------------------------------------------------------------------------------------------------
# Narration

@dataclass
class Line:
    """One sentence: a list of strings and SymPy expressions, rendered per format."""
    parts: list


@dataclass
class Calculus:
    """A derivative narrated rule by rule. ``result`` is what ``sympy.diff`` gives; ``missing`` lists
    the functions with no rule in `RULES` (their derivative was taken from SymPy and said so)."""
    f: sp.Expr
    x: sp.Symbol
    lines: list
    raw: sp.Expr
    result: sp.Expr
    missing: list = field(default_factory=list)
    at: dict | None = None
    value: float | None = None

    def render(self, fmt: str = "unicode") -> str:
        from .render import render_calculus
        return render_calculus(self, fmt)

    def latex(self) -> str:
        return self.render("latex")

    def _repr_latex_(self):
        return "$$" + self.render("latex-inline") + "$$"

    def _repr_markdown_(self):
        return self.render("markdown")

    @property
    def gradients(self):
        return self.result

    def __str__(self):
        return self.render("unicode")

    def __repr__(self):
        """One line: the derivative and its result (``print(c)`` narrates the rules).

        >>> x = sp.Symbol('x')
        >>> narrate(sp.sin(x ** 2), x)
        <Calculus: d/dx sin(x**2) = 2*x*cos(x**2), 3 steps (print() it for the narration)>
        """
        from .display import number, short
        steps = len(self.lines) - 1         # the last line states the result
        missing = f"; no rule for {short(', '.join(map(str, self.missing)), 40)}" if self.missing else ""
        at = f"; {number(self.value)} at the point" if self.value is not None else ""
        return (f"<Calculus: d/d{short(self.x, 20)} {short(self.f, 50)} = {short(self.result, 50)}, "
                f"{steps} step{'s' if steps != 1 else ''}{at}{missing} (print() it for the narration)>")


class _Narrator:
    def __init__(self, x):
        self.x = x
        self.lines: list[Line] = []
        self.missing: list[str] = []
        self._names = iter("uvwpqrstabcdeghkmn")
        self._taken = set()

    def fresh(self, around) -> sp.Symbol:
        for n in self._names:
            s = sp.Symbol(n)
            if s not in around.free_symbols and s != self.x and n not in self._taken:
                self._taken.add(n)
                return s
        raise SymgradError("ran out of names for inner functions")  # pragma: no cover

    def say(self, *parts):
        self.lines.append(Line(list(parts)))

    def d(self, e: sp.Expr) -> sp.Expr:
        x = self.x
        if not e.has(x):
            return sp.S.Zero
        if e == x:
            return sp.S.One
        if e.is_Add:
            self.say("sum rule: ", sp.Eq(D(e, x), sp.Add(*[D(t, x) for t in e.args if t.has(x)]),
                                         evaluate=False))
            return sp.Add(*[self.d(t) for t in e.args])
        if e.is_Mul:
            return self._mul(e)
        if e.is_Pow:
            return self._pow(e)
        if isinstance(e, sp.Function) and len(e.args) == 1 or isinstance(e, leaky_relu) and not e.args[1].has(x):
            return self._function(e)
        return self._missing(e)

    def _mul(self, e):
        x = self.x
        const = [f for f in e.args if not f.has(x)]
        var = [f for f in e.args if f.has(x)]
        if const:
            c, rest = sp.Mul(*const), sp.Mul(*var)
            self.say("constant multiple rule: ", sp.Eq(D(e, x), sp.Mul(c, D(rest, x), evaluate=False),
                                                       evaluate=False))
            return c * self.d(rest)
        den = [f for f in var if f.is_Pow and f.exp.is_negative]
        num = [f for f in var if f not in den]
        if den and num:
            u, v = sp.Mul(*num), sp.Mul(*[1 / f for f in den])
            U, V = sp.Symbol("N"), sp.Symbol("Q")
            self.say("quotient rule with N = ", u, " and Q = ", v, ": ",
                     sp.Eq(D(U / V, x), (D(U, x) * V - U * D(V, x)) / V ** 2, evaluate=False))
            du, dv = self.d(u), self.d(v)
            return (du * v - u * dv) / v ** 2
        u, v = var[0], sp.Mul(*var[1:])
        U, V = sp.Symbol("F"), sp.Symbol("G")
        self.say("product rule with F = ", u, " and G = ", v, ": ",
                 sp.Eq(D(U * V, x), D(U, x) * V + U * D(V, x), evaluate=False))
        du, dv = self.d(u), self.d(v)
        return du * v + u * dv

    def _pow(self, e):
        x = self.x
        b, n = e.args
        if not n.has(x):
            if b == x:
                r = n * x ** (n - 1)
                self.say("power rule: ", sp.Eq(D(e, x), r, evaluate=False))
                return r
            u = self.fresh(e)
            self.say("let ", u, " = ", b, "; apply the chain rule with the power rule: ",
                     sp.Eq(D(u ** n, x), n * u ** (n - 1) * D(u, x), evaluate=False))
            return n * b ** (n - 1) * self.d(b)
        if not b.has(x):
            self.say("exponential rule: ", sp.Eq(D(b ** sp.Symbol("g"), x),
                                                 b ** sp.Symbol("g") * sp.log(b) * D(sp.Symbol("g"), x),
                                                 evaluate=False), " with g = ", n)
            return e * sp.log(b) * self.d(n)
        self.say("write ", e, " as ", sp.exp(n * sp.log(b)), " (a general power)")
        return self._function(sp.exp(n * sp.log(b)))

    def _function(self, e):
        x = self.x
        f = e.func
        if f not in RULES:
            return self._missing(e)
        arg = e.args[0]
        t = sp.Dummy("t", real=True)       # real, so that |t|' = sign(t) as for the user's real symbols
        rest = e.args[1:]
        fprime = sp.diff(f(t, *rest), t)
        if arg == x:
            r = fprime.subs(t, x)
            self.say(RULES[f], ": ", sp.Eq(D(e, x), r, evaluate=False))
            return r
        u = self.fresh(e)
        fu = f(u, *rest)
        self.say("let ", u, " = ", arg, "; apply the chain rule: ",
                 sp.Eq(D(fu, x), sp.Mul(D(fu, u), D(u, x), evaluate=False), evaluate=False))
        self.say(RULES[f], ": ", sp.Eq(D(fu, u), fprime.subs(t, u), evaluate=False))
        return fprime.subs(t, arg) * self.d(arg)

    def _missing(self, e):
        name = getattr(e.func, "__name__", type(e).__name__)
        self.missing.append(name)
        r = sp.diff(e, self.x)
        self.say(f"MISSING RULE: symgrad's calculus table has no rule for {name}; "
                 f"its derivative is taken from sympy.diff, unexplained: ", sp.Eq(D(e, self.x), r, evaluate=False))
        return r


def narrate(f, x, at=None) -> Calculus:
    """Differentiate ``f`` with respect to the symbol ``x`` rule by rule, as a calculus course does.
    The final answer is ``sympy.diff(f, x)``; the rule-by-rule result is checked equal to it.

    >>> x = sp.Symbol('x')
    >>> narrate(sp.exp(3 * x), x).result
    3*exp(3*x)
    """
    f = as_expr(f, "f", symbols=[x] if isinstance(x, sp.Basic) else ())   # parsed, never evaluated
    if not isinstance(x, sp.Symbol):
        raise SymgradError(f"the calculus style differentiates with respect to one scalar Symbol; got {x!r}")
    n = _Narrator(x)
    raw = n.d(f)
    ref = sp.diff(f, x)
    if not _equal(raw, ref, x):
        raise SymgradError(f"calculus narration of d/d{x} {f} gave {raw}, which differs from "
                           f"sympy.diff's {ref}: a rule in symgrad.teaching.calculus is wrong")
    n.say("so ", sp.Eq(D(f, x), ref, evaluate=False))
    val = None
    if at is not None:
        from ..core.evaluate import lookup
        val = float(ref.subs({s: lookup(at, s) for s in ref.free_symbols}).evalf())
    return Calculus(f, x, n.lines, raw, ref, n.missing, at, val)


def _equal(a, b, x) -> bool:
    """a == b as functions: exactly, by simplification, or (for long expressions) at sample points."""
    undefined = (sp.nan, sp.zoo)
    if a.has(*undefined) and b.has(*undefined):
        return True                      # both undefined (0**x: log 0), as SymPy's nan says
    size = sp.count_ops(a) + sp.count_ops(b)
    diff = sp.expand(a - b) if size < 60 else a - b
    if diff == 0:
        return True
    import random
    rng = random.Random(0)
    syms = sorted(diff.free_symbols | b.free_symbols, key=str)   # b may have symbols diff lost
    try:
        f = sp.lambdify(syms, diff, modules="mpmath")
        g = sp.lambdify(syms, b, modules="mpmath")
    except Exception:  # a node mpmath cannot print (an unevaluated infinity): decide symbolically
        return size < 60 and sp.simplify(diff) == 0
    import mpmath
    ok = 0
    with mpmath.workdps(30):
        for _ in range(8):
            pt = [mpmath.mpf(rng.uniform(0.3, 1.7)) for _ in syms]
            try:
                v, r = complex(f(*pt)), complex(g(*pt))
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                continue
            if v != v or r != r or abs(r) == float("inf"):
                continue
            if abs(v) > 1e-12 * max(1.0, abs(r)):
                return False
            ok += 1
            if ok == 3:
                return True
    return ok > 0 or (size < 60 and sp.simplify(diff) == 0)


def derive_calculus(f, wrt, at=None, **options) -> Calculus:
    """`sg.derive(f, x, style="calculus")`: the narration of df/dx (``wrt`` one Symbol)."""
    if options:
        raise TypeError(f"style='calculus' takes only at=...; got {sorted(options)}")
    if isinstance(wrt, (list, tuple)):
        if len(wrt) != 1:
            raise SymgradError("style='calculus' narrates one derivative: pass one Symbol as wrt")
        wrt = wrt[0]
    return narrate(f, wrt, at=at)
