"""A short list of equations as a slide shows them — an optimizer's update rule, a Newton step —
printed as text, Unicode or LaTeX (``_repr_latex_`` for Jupyter), with the same printers as the
derivations (`symgrad.teaching.render`).

>>> import sympy as sp
>>> p, g, eta = sp.symbols('p g eta')
>>> print(Equations("SGD", [(p, p - eta * g, "←")]).render("unicode"))
SGD:
  p ← p − η·g
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .latex_rows import _text_mode
from .numbers import number
from .render import _check_format, _tex_block, show
from .rule_prose import words


def _heading(text: str, inline: bool, bold: bool = True) -> str:
    """A line of prose (with math: ∂L/∂p) above or between the equations."""
    tex = _text_mode(words(text, "latex"))
    tex = r"\textbf{%s}" % tex if bold else tex
    return r"\rlap{%s} &" % tex if inline else r"\intertext{%s}" % tex


def _slide_order(e, variables: set, lhs=None):
    """An update rule's right-hand side in the order the notes write it: a hyperparameter before
    what it scales (η·g, μ·b, (1 − β₁)·g, not g·η, b·μ, g·(1 − β₁)), and in a sum the updated value
    first and the gradient's term last (μ·b + g, β₁·m + (1 − β₁)·g). SymPy orders a product by its
    symbols' names, which puts torch's slots and g before the Greek letters; only the order changes.

    >>> import sympy as sp
    >>> b, g, mu = sp.symbols("b g mu")
    >>> from symgrad.teaching.render import show
    >>> show(_slide_order(g + b * mu, {b, g}, b), "unicode")
    'μ·b + g'
    """
    if not isinstance(e, (sp.Add, sp.Mul)):
        return e if not e.args else e.func(*[_slide_order(a, variables) for a in e.args])
    args = [_slide_order(a, variables) for a in e.args]

    def uses(a, names):
        return any(getattr(n, "name", None) in names or getattr(getattr(n, "func", None), "__name__", None) in names
                   for n in sp.preorder_traversal(a))
    names = {str(v) for v in variables}
    if isinstance(e, sp.Mul):
        coeff = [a for a in args if a.is_Number]
        rest = [a for a in args if not a.is_Number]
        rest.sort(key=lambda a: uses(a, names))               # stable: hyperparameters, then the variables
        return sp.Mul(*coeff, *rest, evaluate=False)
    key = lambda a: (0 if a == lhs else 2 if uses(a, {"g"}) else 1)   # noqa: E731
    return sp.Add(*sorted(args, key=key), evaluate=False)


@dataclass
class Equations:
    """``title``, then one line per (lhs, rhs, relation) — the relation "=" or "←" (an update) —
    optionally a value at the end of a line (lhs, rhs, relation, value); ``notes`` after them."""
    title: str
    lines: list
    notes: list = field(default_factory=list)

    def render(self, fmt: str = "unicode") -> str:
        _check_format(fmt)
        if fmt in ("latex", "latex-inline", "latex-document", "markdown"):
            inline = fmt in ("latex-inline", "markdown")
            rows = [_heading(self.title, inline)]
            for lhs, rhs, rel, *value in self._ordered():
                arrow = r"\leftarrow" if rel == "←" else "="
                tail = " = " + number(value[0], "latex") if value and value[0] is not None else ""
                rows.append(r"%s &%s %s%s" % (show(lhs, "latex"), arrow, show(rhs, "latex"), tail))
            for n in self.notes:
                rows.append(_heading(n, inline, bold=False))
            body = "\n".join(r if k == len(rows) - 1 or r.startswith(r"\intertext") else r + r" \\"
                             for k, r in enumerate(rows))
            block = _tex_block(body, "latex-inline" if inline else fmt)
            return "$$" + block + "$$" if fmt == "markdown" else block
        out = [words(self.title, fmt) + ":"]
        for lhs, rhs, rel, *value in self._ordered():
            arrow = "<-" if rel == "←" and fmt == "text" else rel
            tail = " = " + number(value[0], fmt) if value and value[0] is not None else ""
            out.append(f"  {show(lhs, fmt)} {arrow} {show(rhs, fmt)}{tail}")
        out += [words(n, fmt) for n in self.notes]
        return "\n".join(out)

    def _ordered(self):
        """The lines, an update's right-hand side in the notes' order (`_slide_order`)."""
        variables = {line[0] for line in self.lines if line[2] == "←"} | {sp.Symbol("g")}
        return [(lhs, _slide_order(rhs, variables, lhs) if rel == "←" and isinstance(rhs, sp.Basic) else rhs, rel, *v)
                for lhs, rhs, rel, *v in self.lines]

    def text(self) -> str:
        return self.render("text")

    def latex(self, document: bool = False) -> str:
        return self.render("latex-document" if document else "latex")

    def _repr_latex_(self):
        return "$$" + self.render("latex-inline") + "$$"

    def __str__(self):
        return self.render("unicode")
