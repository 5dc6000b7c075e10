"""What the NumPy and Triton printers share: functions printed from a table, Max/Min as folds of a
two-argument ufunc, and rationals as float literals (``0.5*x``, not ``(1/2)*x``)."""
from __future__ import annotations


class FunctionTable:
    """Mixin for a SymPy code printer. ``FUNCTIONS`` maps a function's class name to its form,
    ``form(printer, *args)``; ``MODULE`` is the namespace of ``maximum``/``minimum``."""

    FUNCTIONS: dict = {}
    MODULE = ""

    def _print_from_table(self, expr):
        """The table's form of ``expr``, or None when the table has none."""
        form = self.FUNCTIONS.get(type(expr).__name__)
        return None if form is None else form(self, *expr.args)

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
