"""The matrix of ones in a returned gradient, printed as what it is.

SymPy prints ``OneMatrix(2, 2)`` as a plain ``1``, so ``sg.grad(sg.sum(A**3), A)`` read
``A.T**2*1 + 1*A.T**2 + A.T*1*A.T``: the 1 looks like the scalar, and the products look like they
could drop it, but they are matrix products with the ones matrix 𝟙 (Aᵀ²𝟙 ≠ Aᵀ²). `Ones` is a
`OneMatrix` that prints ``OneMatrix(2, 2)`` — SymPy's own name, so the printed gradient pasted back
(as a claim to `sg.check`, or into SymPy) is the same expression — and ``\\mathbf{1}_{2 \\times 2}``
in LaTeX. It is equal to, hashes as, and sorts as the `OneMatrix` of its shape, so a returned
gradient still compares equal to one built by SymPy; the pretty printer's 𝟙 and a printer with its
own ``_print_OneMatrix`` (teaching's) are kept.

>>> import sympy as sp
>>> W, x = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("x", 3, 1)
>>> g = show_ones(sp.OneMatrix(2, 1) * x.T)
>>> g, g == sp.OneMatrix(2, 1) * x.T
(OneMatrix(2, 1)*x.T, True)
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter


class Ones(sp.OneMatrix):
    """`OneMatrix` printed unambiguously (see the module's docstring)."""

    def __eq__(self, other):
        if isinstance(other, sp.OneMatrix):
            return self.shape == other.shape
        return super().__eq__(other)

    def __hash__(self):
        return hash(sp.OneMatrix(*self.shape))

    @classmethod
    def class_key(cls):
        return sp.OneMatrix.class_key()

    def _sympystr(self, printer):
        own = getattr(type(printer), "_print_OneMatrix", None)
        if own is not None and own is not StrPrinter._print_OneMatrix:      # a printer's own choice
            return own(printer, self)
        return "OneMatrix(%s, %s)" % tuple(printer._print(d) for d in self.shape)

    def _latex(self, printer):
        own = getattr(type(printer), "_print_OneMatrix", None)
        if own is not None and own is not LatexPrinter._print_OneMatrix:
            return own(printer, self)
        return r"\mathbf{1}_{%s \times %s}" % tuple(printer._print(d) for d in self.shape)


def show_ones(expr):
    """``expr`` with each `OneMatrix` in it an `Ones` (equal, printed as itself). The search is
    iterative (a gradient may be thousands of nodes deep); only a matrix expression is searched."""
    if not isinstance(expr, sp.MatrixExpr):
        return expr
    ones, stack, seen = {}, [expr], set()
    while stack:
        e = stack.pop()
        if type(e) is sp.OneMatrix:
            ones[e] = Ones(*e.shape)
        elif e not in seen:
            seen.add(e)
            stack.extend(a for a in e.args if isinstance(a, sp.Basic))
    if not ones:
        return expr
    try:
        return expr.xreplace(ones)
    except RecursionError:          # too deep for SymPy's own (recursive) rebuild: keep SymPy's form
        return expr
