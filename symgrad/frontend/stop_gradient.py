"""`stop_gradient`: its argument's value, with a derivative of zero (torch's ``x.detach()``, JAX's
``lax.stop_gradient``).

Real models need one: a straight-through estimator ``x + stop_gradient(sign(x) - x)``, a target
network's TD target ``r + γ·max Q_target(s')``, VQ-VAE's ``‖sg(z_e) − e‖² + β‖z_e − sg(e)‖²``,
BYOL's stop-grad branch, REINFORCE's detached baseline, ``nn.Embedding(padding_idx=)``.

It is a scalar SymPy ``Function`` like the activations (`symgrad.frontend.functions`): it maps over a
``MatrixExpr`` entry by entry and over an ``sg.tensor`` expression (``t.detach()`` is the same), and
its ``fdiff`` is 0, so ``sympy.diff`` gives 0 and symgrad's ``ewise`` rule — whose derivative is
``sympy.diff`` of its body — gives no cotangent through it: the rule table did not grow. Only
differentiation cares about it; compilation removes it once the gradients are derived
(`symgrad.core.stop_gradients.strip_stop_gradients`), so backends never see it.

>>> import sympy as sp, symgrad as sg
>>> x = sp.Symbol("x")
>>> f = x * sg.stop_gradient(x)
>>> sg.grad(f, x), sp.diff(f, x)
(stop_gradient(x), stop_gradient(x))
"""
from __future__ import annotations

import sympy as sp

from ..errors import ArgumentError
from .functions import _Activation
from .parse import as_expr
from .parse import register as _register_text


class stop_gradient(_Activation):
    """stop_gradient(x) = x in value; d/dx stop_gradient(x) = 0. Printed ``stop_gradient(x)``,
    in LaTeX ``\\operatorname{sg}(x)``."""

    nargs = 1

    def __new__(cls, *args, **options):
        if len(args) != 1:
            raise ArgumentError(f"stop_gradient takes one expression (a scalar, a matrix expression or "
                                f"an sg.tensor expression), got {len(args)} arguments")
        return super().__new__(cls, _expression(args[0]), **options)

    @classmethod
    def eval(cls, x):
        if isinstance(x, stop_gradient):
            return x                       # sg(sg(x)) = sg(x)
        if x.is_number:
            return x                       # a constant has no gradient to stop

    def fdiff(self, argindex=1):
        return sp.S.Zero

    def elementary(self):
        return self.args[0]

    def _latex(self, printer, exp=None):
        tex = r"\operatorname{sg}\left(%s\right)" % printer._print(self.args[0])
        return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)


def _expression(x):
    """The argument as a SymPy expression (text parsed), or an `ArgumentError` naming what it is."""
    what = (f"stop_gradient takes an expression (a scalar, a matrix expression or an sg.tensor expression; "
            f"text is parsed), got")
    if type(x).__module__.split(".")[0] in ("numpy", "torch") and not isinstance(x, (int, float)):
        raise ArgumentError(f"{what} a {type(x).__module__.split('.')[0]} {type(x).__name__}: a value has no "
                            f"gradient to stop — stop_gradient goes into a declaration (of sg.tensor, "
                            f"MatrixSymbol or Symbol), torch's .detach() into torch code")
    if x is None or isinstance(x, (bool, list, tuple, dict, set)) or callable(x) and not isinstance(x, sp.Basic):
        raise ArgumentError(f"{what} {x!r} ({type(x).__name__})")
    try:
        e = as_expr(x, "the argument of stop_gradient")
    except (sp.SympifyError, TypeError, ValueError) as err:
        if isinstance(err, ArgumentError) or type(err).__module__.startswith("symgrad"):
            raise
        raise ArgumentError(f"{what} {x!r} ({type(x).__name__})") from None
    logic = (sp.core.relational.Relational, sp.logic.boolalg.BooleanFunction, sp.logic.boolalg.BooleanAtom)
    if not isinstance(e, sp.Expr) or isinstance(e, logic):
        raise ArgumentError(f"{what} {e} ({type(e).__name__}): a condition or a container has no gradient "
                            f"to stop")
    return e


def has_stop_gradient(expr) -> bool:
    """True when ``expr`` (a SymPy expression) holds a stop_gradient anywhere."""
    return isinstance(expr, sp.Basic) and expr.has(stop_gradient)


def without_stop_gradient(expr):
    """``expr`` with every stop_gradient(a) replaced by a: the same value, as the code printers
    need it (they never see a stop_gradient)."""
    if not has_stop_gradient(expr):
        return expr
    return expr.replace(lambda e: isinstance(e, stop_gradient), lambda e: e.args[0])


_register_text("stop_gradient", stop_gradient)

__all__ = ["stop_gradient", "has_stop_gradient", "without_stop_gradient"]
