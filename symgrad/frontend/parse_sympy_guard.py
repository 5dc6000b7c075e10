"""Text never reaches SymPy's evaluator through symgrad.

symgrad reads text with its own parser (`parse.parse_expr`: a whitelist over Python's syntax tree,
nothing run). SymPy's ``sympify`` of a string, by contrast, runs it as Python (``eval`` in
``sympy.parsing.sympy_parser.eval_expr``), and it does so even under ``strict=True`` for a string
*inside* a tuple, dict or set: SymPy sympifies a container's items without ``strict``. Any place
where symgrad handed a user's object to ``sympify`` or to a SymPy constructor that sympifies (a
claim, a shape, an ``alpha=``, a loss) could therefore run text hidden in a container —
``sg.check(x**2, [x], [{"__import__('os').system(...)": 1}])`` did (found by the trust review of
2026-12-01, eleventh session).

Each entry point refuses such containers by name where it can (`parse.as_expr`); this module is the
backstop for every other path: SymPy's ``parse_expr`` and ``eval_expr`` are wrapped so that, when
the nearest caller outside SymPy is symgrad's own code (``symgrad.*`` or ``codegen.*``), the text is
refused with an `UnsafeInputError` before anything is evaluated. A user's own ``sp.sympify("x + 1")``
— in a notebook, a script or a model file run by ``symgrad train`` — has the user's frame as its
nearest caller and works as in plain SymPy. The frames are looked at only when SymPy is about to
evaluate text, so nothing else pays for the check.

>>> import sympy as sp, symgrad as sg
>>> x = sp.Symbol("x")
>>> sp.sympify("2*x") == 2 * x            # plain SymPy, called by the user: unchanged
True
>>> try:
...     sg.compile((("3",),), [x], [])        # text inside a tuple: refused, not run
... except sg.UnsafeInputError as e:
...     print(str(e)[:60])
the text '3' reached SymPy's evaluator (sympify) through sym
"""
from __future__ import annotations

import sys

from sympy.parsing import sympy_parser

from ..errors import UnsafeInputError

_OURS = ("symgrad", "codegen")


def _called_from_symgrad() -> bool:
    """Whether the nearest frame outside SymPy (and outside this module) is symgrad's code."""
    f = sys._getframe(2)
    while f is not None:
        name = f.f_globals.get("__name__", "") or ""
        if name != __name__ and name != "sympy" and not name.startswith("sympy."):
            return name.split(".")[0] in _OURS
        f = f.f_back
    return False


def _refuse(text) -> None:
    shown = text if len(text) <= 60 else text[:57] + "..."
    raise UnsafeInputError(
        f"the text {shown!r} reached SymPy's evaluator (sympify) through symgrad, which never runs "
        f"text: SymPy runs a str inside a tuple, dict, set or list as Python. Pass SymPy expressions "
        f"and numbers, or an expression as a str on its own (symgrad parses that, never runs it)")


def _guarded_parse_expr(s, *args, **kwargs):
    if _called_from_symgrad():
        _refuse(str(s))
    return _sympy_parse_expr(s, *args, **kwargs)


def _guarded_eval_expr(code, *args, **kwargs):
    if _called_from_symgrad():
        _refuse(str(code))
    return _sympy_eval_expr(code, *args, **kwargs)


if not getattr(sympy_parser, "_symgrad_guarded", False):     # once, however often this is reloaded
    _sympy_parse_expr, _sympy_eval_expr = sympy_parser.parse_expr, sympy_parser.eval_expr
    _guarded_parse_expr.__doc__ = _sympy_parse_expr.__doc__
    _guarded_eval_expr.__doc__ = _sympy_eval_expr.__doc__
    sympy_parser.parse_expr, sympy_parser.eval_expr = _guarded_parse_expr, _guarded_eval_expr
    sympy_parser._symgrad_guarded = True
else:
    _sympy_parse_expr = sympy_parser.parse_expr.__wrapped_sympy__
    _sympy_eval_expr = sympy_parser.eval_expr.__wrapped_sympy__
_guarded_parse_expr.__wrapped_sympy__ = _sympy_parse_expr
_guarded_eval_expr.__wrapped_sympy__ = _sympy_eval_expr
GUARDED = True     # what parse.py imports: importing this module installs the guard
