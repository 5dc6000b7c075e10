"""SymPy's own constructors on a whole matrix, where they fail inside SymPy: ``sp.Abs(W*x)``,
``sp.sqrt(W*x)``, ``(W*x - y)**2``.

A researcher writes an L1 penalty as ``sg.sum(sp.Abs(W))``, a square root as ``sp.sqrt(W*x)``, a
squared error as ``sg.sum((W*x - y)**2)``. In the matrix language these are not entry by entry:
SymPy builds |M| as sqrt(M·Mᴴ) (for a (3, 1) column, "Matrices are not aligned"; for a square one, a
matrix square root), and ``sqrt(M)`` or ``M**2`` is a matrix power (for a non-square M,
"Power of non-square matrix"). Those errors came from deep inside SymPy and named no way out.

Here they name the spelling that works — ``sg.abs(M)``, ``sg.sqrt(M)``, ``sp.HadamardPower(M, 2)``,
the same advice as `activations.matrix_function_message` gives for ``sp.tanh(W*x)`` — as a
`MatrixSpellingError`, which is an `UnsupportedError` (so ``except sg.SymgradError`` sees it) and
still SymPy's ``NonSquareMatrixError`` (so SymPy's own code that catches that still does). Two hooks,
installed once: ``Abs.eval`` refuses a symbolic matrix (an explicit ``Matrix`` keeps SymPy's entry by
entry |·|), and ``MatPow`` of a matrix SymPy knows is not square — the one place ``M**k``,
``sp.sqrt(M)`` and ``sp.Pow(M, k)`` meet — raises this instead of SymPy's bare error. A square
matrix's ``sp.sqrt(A)`` stays SymPy's matrix power; lowering refuses it, naming ``sg.sqrt``.

>>> import sympy as sp, symgrad as sg
>>> W, x = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1)
>>> try:
...     sp.sqrt(W * x)
... except sg.UnsupportedError as e:
...     print(str(e)[:96])
sqrt(W*x): a power of a matrix is a matrix power in SymPy, and W*x is 3×1, not square; write sg.
"""
from __future__ import annotations

import sympy as sp
from sympy.matrices.exceptions import NonSquareMatrixError
from sympy.matrices.expressions.matpow import MatPow

from ..errors import UnsupportedError

_LIKEWISE = ("(sg.exp, sg.log, sg.sqrt, sg.abs, sg.erf and the activations likewise; "
             "sg.elementwise(f, M) for any scalar function f)")


class MatrixSpellingError(UnsupportedError, NonSquareMatrixError):
    """SymPy's Abs or power of a whole symbolic matrix, which is not entry by entry; the message
    names the spelling that is."""


def _shape(m) -> str:
    return "×".join(str(d) for d in m.shape)


def abs_message(m) -> str:
    return (f"Abs({m}): SymPy's Abs of a matrix is not taken entry by entry (it builds sqrt(M·Mᴴ)); "
            f"write sg.abs({m}), which is entry by entry {_LIKEWISE}")


def power_message(base, exp) -> str:
    exp = sp.sympify(exp)
    written = f"sqrt({base})" if exp == sp.S.Half else f"({base})**{exp}"
    instead = f"sg.sqrt({base})" if exp == sp.S.Half else f"sp.HadamardPower({base}, {exp})"
    return (f"{written}: a power of a matrix is a matrix power in SymPy, and {base} is {_shape(base)}, "
            f"not square; write {instead}, which is entry by entry {_LIKEWISE}")


_sympy_abs_eval = sp.Abs.eval.__func__
_sympy_matpow_new = MatPow.__new__


def _abs_eval(cls, arg):
    if isinstance(arg, sp.MatrixExpr) and not isinstance(arg, sp.MatrixBase):
        raise MatrixSpellingError(abs_message(arg))
    return _sympy_abs_eval(cls, arg)


def _matpow_new(cls, base, exp, evaluate=False, **options):
    b = base       # not sympified here: SymPy's own __new__ does that (a str base is SymPy's business)
    if isinstance(b, sp.MatrixExpr) and b.is_square is False:
        raise MatrixSpellingError(power_message(b, exp))
    return _sympy_matpow_new(cls, base, exp, evaluate=evaluate, **options)


if not getattr(sp.Abs, "_symgrad_spelling", False):       # once, however often this is reloaded
    _abs_eval.__doc__ = _sympy_abs_eval.__doc__
    sp.Abs.eval = classmethod(_abs_eval)
    sp.Abs._symgrad_spelling = True
    _matpow_new.__doc__ = _sympy_matpow_new.__doc__
    MatPow.__new__ = _matpow_new
