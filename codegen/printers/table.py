"""What the NumPy and Triton printers share: functions printed from a table, Max/Min as folds of a
two-argument ufunc, and rationals as float literals (``0.5*x``, not ``(1/2)*x``)."""
from __future__ import annotations

import sympy as sp


class FunctionTable:
    """Mixin for a SymPy code printer. ``FUNCTIONS`` maps a function's class name to its form,
    ``form(printer, *args)`` (arguments are printed as SymPy expressions, so −x of a sum is
    parenthesized by SymPy, not by string pasting); ``MODULE`` is the namespace of
    ``maximum``/``minimum``. A function the table lacks goes to ``_print_unlisted``: by default the
    base printer's rule, or an error in a printer that has no other."""

    FUNCTIONS: dict = {}
    MODULE = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # SymPy dispatches by class name first (``_print_exp``, ``_print_sigmoid``), before
        # ``_print_Function`` and before an expression's own printing method (symgrad's activations
        # define one that prints their naive elementary form): every name of the table goes to it.
        for name in cls.FUNCTIONS:
            setattr(cls, f"_print_{name}", FunctionTable._print_Function)

    def _print_Function(self, expr):
        constant = self._constant_function(expr)
        if constant is not None:
            return constant
        form = self.FUNCTIONS.get(type(expr).__name__)
        return form(self, *expr.args) if form is not None else self._print_unlisted(expr)

    def _constant_function(self, expr):
        """A function of numbers only (``log(2)``) as the printer writes it: None keeps the table's
        form, which NumPy's ufuncs evaluate on a Python int as well."""
        return None

    def _print_unlisted(self, expr):
        return super()._print_Function(expr)

    # what the error names: the printer, and what it prints besides the table
    TARGET = ""
    ALSO = ""

    def _refused(self, expr):
        from symgrad.errors import UnsupportedError
        raise UnsupportedError(f"the {self.TARGET} printer has no form for {type(expr).__name__} (in {expr}); "
                               f"it prints: {', '.join(sorted(self.FUNCTIONS))}{self.ALSO}")

    @classmethod
    def refuse(cls, names):
        """Functions the base printer has a rule for that the target cannot run (SymPy's Python
        printer writes ``math.erf(v3)``, for a scalar): an error at compile time instead."""
        for name in names:
            if name not in cls.FUNCTIONS:
                setattr(cls, f"_print_{name}", cls._refused)    # (the printer's own, where it has one)

    def _minmax(self, expr, fn):
        out = self._print(expr.args[0])
        for a in expr.args[1:]:
            out = f"{self.MODULE}.{fn}({out}, {self._print(a)})"
        return out

    def _print_Max(self, expr):
        return self._minmax(expr, "maximum")

    def _print_Min(self, expr):
        return self._minmax(expr, "minimum")

    def _print_Rational(self, expr):
        return repr(float(expr))

    _print_Half = _print_Rational

    def parenthesize(self, item, level, strict=False):
        # A positive rational prints as one float literal (``_print_Rational``), an operand as it
        # stands: 0.0078125*v26, not SymPy's (0.0078125)*v26 (its precedence is that of p/q)
        if isinstance(item, sp.Rational) and not item.is_Integer and item > 0:
            return self._print(item)
        return super().parenthesize(item, level, strict)


def elementary_forms() -> dict:
    """name -> form for symgrad's activations that print as their elementary form (gelu, silu,
    elu, ...: `symgrad.frontend.functions.ACTIVATIONS`), parenthesized as one operand. Their
    ``elementary()`` uses only functions every printer has (exp, erf, tanh, Max, Min, Abs, sigmoid)
    and keeps every exponential's argument ≤ 0 where it could overflow."""
    from symgrad.frontend.functions import ACTIVATIONS
    return {cls.__name__: (lambda cls: lambda p, *args: "(" + p._print(cls(*args).elementary()) + ")")(cls)
            for cls in ACTIVATIONS}
