"""The shape of each forward-pass value, written after its line as a lecture writes it
(``derive(..., shapes=True)`` or ``d.render(shapes=True)``):

    z⁽¹⁾ = W⁽¹⁾·x + b⁽¹⁾    (H×1)
    Q = X @ W_q             (3×2)
    L = u₁.sum()            (scalar)

A matrix declaration (`sympy.MatrixSymbol`) has two axes, a column vector H×1; an N-d tensor
(`sg.tensor`) has NumPy's, a vector (5,). A symbolic size (N, H) is written by its name.

>>> import sympy as sp
>>> from symgrad.teaching.render import show
>>> H = sp.Symbol("H")
>>> shape_note(sp.MatrixSymbol("z", H, 1), "unicode", show)
'(H×1)'
>>> shape_note(sp.Symbol("L"), "text", show)
'(scalar)'
"""
from __future__ import annotations

PAD = 4        # columns between the longest forward line and its shape in the text forms
COLUMN = 60    # a line longer than this (one with a matrix of numbers) is no measure of the column


def _shape(sym) -> tuple:
    shape = getattr(sym, "shape", ())
    return tuple(shape) if shape is not None else ()


def shape_note(sym, fmt: str, show) -> str:
    """``(3×2)`` for a value of that shape in ``fmt`` (text: ``(3x2)``), ``(scalar)`` for a number;
    ``show(expr, fmt)`` writes a size (`symgrad.teaching.render.show`, which calls this module)."""
    dims = _shape(sym)
    if not dims:
        return r"\text{(scalar)}" if fmt in ("latex", "markdown") else "(scalar)"
    parts = [show(d, "latex" if fmt == "markdown" else fmt) for d in dims]
    if fmt in ("latex", "markdown"):
        return "(" + (r" \times ".join(parts) if len(parts) > 1 else parts[0] + ",") + ")"
    times = "x" if fmt == "text" else "×"
    return "(" + (times.join(parts) if len(parts) > 1 else parts[0] + ",") + ")"


def with_shapes(lines: list, syms: list, fmt: str, show) -> list:
    """Text lines of the forward pass with each value's shape after it, in one column (a line
    longer than ``COLUMN`` has its shape right after it, not every other line pushed past it)."""
    if not lines:
        return lines
    width = max((len(line) for line in lines if len(line) <= COLUMN), default=0) + PAD
    return [line.ljust(width) + shape_note(sym, fmt, show) if len(line) <= COLUMN else
            line + " " * PAD + shape_note(sym, fmt, show) for line, sym in zip(lines, syms)]


def tex_shape(sym, show) -> str:
    """The shape as the LaTeX and Markdown forms append it to a forward row."""
    return r" \qquad " + shape_note(sym, "latex", show)
