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

from .render import _check_format, _tex_block, _text_mode, number, show, words


def _heading(text: str, inline: bool, bold: bool = True) -> str:
    """A line of prose (with math: ∂L/∂p) above or between the equations."""
    tex = _text_mode(words(text, "latex"))
    tex = r"\textbf{%s}" % tex if bold else tex
    return r"\rlap{%s} &" % tex if inline else r"\intertext{%s}" % tex


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
            for lhs, rhs, rel, *value in self.lines:
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
        for lhs, rhs, rel, *value in self.lines:
            arrow = "<-" if rel == "←" and fmt == "text" else rel
            tail = " = " + number(value[0], fmt) if value and value[0] is not None else ""
            out.append(f"  {show(lhs, fmt)} {arrow} {show(rhs, fmt)}{tail}")
        out += [words(n, fmt) for n in self.notes]
        return "\n".join(out)

    def text(self) -> str:
        return self.render("text")

    def latex(self, document: bool = False) -> str:
        return self.render("latex-document" if document else "latex")

    def _repr_latex_(self):
        return "$$" + self.render("latex-inline") + "$$"

    def __str__(self):
        return self.render("unicode")
