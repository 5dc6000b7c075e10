"""The notation of the lecture notes, shared by the steps, the calculus narration and the printers:
∂num/∂den and δ symbols, chains of products kept as written, numbers at a point, and the names of
the rules of a calculus course.

>>> from symgrad.teaching.render import show
>>> show(partial("L", "z2", (3, 1), delta=True), "unicode"), rule_name(sp.exp(2 * sp.Symbol("a")), sp.Symbol("a"))
('δ₂', 'chain rule + the derivative of exp is exp itself')
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from ..frontend.functions import leaky_relu, relu, sigmoid, softplus
from ..frontend.tensor import Tensor, TensorExpr

# ---------------------------------------------------------------------------------------------------
# Symbols for partial derivatives: ∂num/∂den, or δ_k for the gradient of a layer's pre-activation.

def _encode(num: str, den: str, delta: bool) -> str:
    return f"delta({den})" if delta else f"d({num})/d({den})"


def decode(name: str):
    """(num, den, delta) of a `Partial` / `MatPartial` name."""
    m = re.fullmatch(r"delta\((.*)\)", name, re.S)      # re.S: a name may hold a newline
    if m:
        return None, m.group(1), True
    m = re.fullmatch(r"d\((.*)\)/d\((.*)\)", name, re.S)
    return m.group(1), m.group(2), False


class Partial(sp.Symbol):
    """∂num/∂den as a scalar SymPy symbol (made by `partial`); the printers of `symgrad.teaching.render`
    draw it as a fraction."""

    def _sympystr(self, printer):
        own = getattr(printer, "_partial", None)      # symgrad.teaching.render's printers draw it themselves
        if own is not None:
            return own(self)
        num, den, delta = decode(self.name)
        return f"delta_{den}" if delta else f"d{num}/d{den}"


class MatPartial(sp.MatrixSymbol):
    """∂num/∂den of a matrix-shaped node (δ₂ = ∂L/∂z₂), a MatrixSymbol of the node's shape."""

    def _sympystr(self, printer):
        return Partial._sympystr(self, printer)


class TensorPartial(Tensor):
    """∂num/∂den of a node of a tensor declaration (`sg.tensor`): a tensor of the node's shape, so
    that the steps' expressions stay tensor expressions (x̂ᵀ @ ∂L/∂out, (∂L/∂x̂).sum(axis=0))."""

    @property
    def precedence(self):
        """A fraction is bracketed before a method call or a power, (∂L/∂u₅).sum(axis=0), not in a
        product; δ is a name: δ.sum(axis=0)."""
        return PRECEDENCE["Atom"] if decode(self.name)[2] else PRECEDENCE["Pow"]

    def _sympystr(self, printer):
        return Partial._sympystr(self, printer)

    def _latex(self, printer):
        own = getattr(printer, "_print_Partial", None)     # symgrad's LaTeX printer: a fraction
        return own(self) if own is not None else printer._print(sp.Symbol(self.name))


def partial(num: str, den: str, shape=(), delta: bool = False, tensor: bool = False):
    """The symbol of ∂num/∂den (δ for ``delta``), scalar or with the node's matrix ``shape``.

    >>> from symgrad.teaching.render import show
    >>> show(partial("L", "z2", (3, 1), delta=True), "unicode"), show(partial("f", "q"), "text")
    ('δ₂', 'df/dq')
    """
    name = _encode(num, den, delta)
    if shape == ():
        return Partial(name)
    return TensorPartial(name, shape) if tensor or len(shape) != 2 else MatPartial(name, *shape)


class BatchSum(sp.Function):
    """Σₙ e: the sum over the examples n of a batch (or over the entries j a layer norm normalises),
    written as the slide writes a batch statistic's gradient, Σₙ ∂L/∂x̂ₙ·(xₙ − μ); ``BatchSum(e, n)``.
    Kept unevaluated: the printers of `symgrad.teaching.render` draw it."""
    nargs = 2

    def _sympystr(self, printer):
        own = getattr(printer, "_print_BatchSum", None)     # symgrad.teaching.render's printers: Σₙ
        return own(self) if own is not None else f"sum_{self.args[1]}({printer._print(self.args[0])})"


class PoolBackward(TensorExpr):
    """The gradient through a pooling layer, as one step of the slide: ``max_pool2d_backward(g, x, 2)``
    routes each entry of g to the first arg-max of its window of x (the pooling switch), 0
    elsewhere; ``avg_pool2d_backward(g, x, 2)`` spreads g/k over each window. Args: g, x, the kind
    (the symbol max or avg), kernel, stride, padding (sp.Tuple each). Its shape is x's. A display node: the numbers are
    reverse mode's own (the lowering's windows → max → fold)."""

    _data = (0, 1)

    @property
    def shape(self):
        return self.args[1].shape

    def _call(self, printer, name) -> str:
        from ..frontend.conv import _fmt_uniform
        g, x, kind, kernel, stride, padding = self.args
        parts = [printer._print(g), printer._print(x), _fmt_uniform(kernel)]
        if tuple(stride) != tuple(kernel):
            parts.append(f"stride={_fmt_uniform(stride)}")
        if set(int(p) for p in padding) != {0}:
            parts.append(f"padding={_fmt_uniform(padding)}")
        return f"{name}({', '.join(parts)})"

    def _sympystr(self, printer):
        return self._call(printer, f"{self.args[2]}_pool{len(self.args[3])}d_backward")

    def _latex(self, printer):
        return self._call(printer, r"\operatorname{%s\_pool%dd\_backward}" % (self.args[2], len(self.args[3]))) \
            .replace("(", r"\left(", 1)[:-1] + r"\right)"


# ---------------------------------------------------------------------------------------------------
# Chains and values, as a step writes them.

@dataclass
class Chain:
    """A sum of products, kept as written: ``[[a, b], [c, d]]`` is a·b + c·d (each factor a SymPy
    expression). Chains are not simplified, so ∂f/∂q · ∂q/∂y and z · 1 print as the slides write."""
    terms: list


@dataclass
class Value:
    """A number (or a small matrix of numbers) at the given point."""
    value: Any


# ---------------------------------------------------------------------------------------------------
# The rules of a calculus course.

# One row per function: the course's sentence for its derivative.
RULES = {
    sp.exp: "the derivative of exp is exp itself",
    sp.log: "the derivative of log is one over its argument",
    sp.sin: "the derivative of sine is cosine",
    sp.cos: "the derivative of cosine is minus sine",
    sp.tan: "the derivative of tan is 1 + tan²",
    sp.tanh: "the derivative of tanh is 1 − tanh²",
    sp.sinh: "the derivative of sinh is cosh",
    sp.cosh: "the derivative of cosh is sinh",
    sp.atan: "the derivative of arctan is 1/(1 + u²)",
    sigmoid: "the derivative of the sigmoid is σ(1 − σ)",
    softplus: "the derivative of softplus is the sigmoid",
    relu: "the derivative of relu is the step H(u), with relu'(0) = 1 (subgradient convention)",
    leaky_relu: "the derivative of leaky relu is 1 for u ≥ 0 and α below (subgradient convention at 0)",
    sp.Abs: "the derivative of |u| is sign(u), taken as 0 at 0 (subgradient convention)",
    sp.Max: "max routes the gradient to the arg-max (ties go to the first argument)",
    sp.Min: "min routes the gradient to the arg-min (ties go to the first argument)",
}


def rule_name(body: sp.Expr, a: sp.Symbol) -> str:
    """The rule that gives ∂body/∂a at body's top level (with "chain rule" when a is inside).

    >>> a0, a1 = sp.symbols('a0 a1')
    >>> rule_name(a0 * a1, a0), rule_name(sp.exp(2 * a0), a0)
    ('product rule', 'chain rule + the derivative of exp is exp itself')
    """
    if body == a:
        return "identity"
    if not body.has(a):
        return "constant"
    inner = [x for x in body.args if x.has(a)]
    chain = "chain rule + " if len(inner) == 1 and inner[0] != a and not (body.is_Add or body.is_Mul) else ""
    if body.is_Add:
        return "sum rule"
    if body.is_Mul:
        others = [f for f in body.args if not f.has(a)]
        if any(f.is_Pow and f.exp.is_negative and f.has(a) for f in inner) and len(body.args) > 1:
            return "quotient rule"
        if len(inner) == 1 and inner[0] == a:
            return "product rule" if any(f.free_symbols for f in others) else "constant multiple rule"
        return "product rule" if len(inner) > 1 or any(f.free_symbols for f in others) else \
            "constant multiple rule + " + rule_name(inner[0], a)
    if body.is_Pow:
        b, n = body.args
        if not n.has(a):
            return chain + ("reciprocal rule" if n == -1 else "power rule")
        return chain + ("exponential rule" if not b.has(a) else "general power rule")
    if body.func in RULES:
        return chain + RULES[body.func]
    if isinstance(body, (sp.Heaviside, sp.sign)):
        return "step function: derivative 0 almost everywhere"
    return chain + f"derivative of {body.func.__name__} (from its SymPy definition)"


def D(e, v):
    """d/dv e, unevaluated (printed as the course writes it)."""
    return sp.Derivative(e, v, evaluate=False)
