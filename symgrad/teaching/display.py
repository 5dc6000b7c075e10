"""Small pieces for showing results in a REPL and in Jupyter: one-line reprs, Markdown and HTML that
escape what they quote, and a loss curve as an inline SVG sparkline (no plotting library needed).

The results (`CheckResult`, `History`, `Derivation`, the calculus narration, `Program`) build their
``__repr__`` and ``_repr_markdown_`` / ``_repr_html_`` from these, so that a result typed at the prompt
shows its verdict or summary in a line, never a dump of arrays.

>>> short("a very long expression " * 5, 30)
'a very long expression a ve...'
>>> md("d/dx x*y_1")
'd/dx x\\\\*y\\\\_1'
>>> sparkline([3.0, 2.0, 1.5, 1.2]).startswith('<svg')
True
"""
from __future__ import annotations

import html
import math

_MD_SPECIAL = "\\`*_{}[]<>#|~$"


def short(text, limit: int = 80) -> str:
    """``text`` on one line, cut to ``limit`` characters with "..." when longer; control
    characters (a symbol's name may hold any) escaped."""
    s = " ".join(str(text).split())
    s = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in s)
    return s if len(s) <= limit else s[:limit - 3] + "..."


def md(text) -> str:
    """``text`` escaped for Markdown: every character Markdown could read as markup gets a backslash
    (a formula's ``*`` and ``_`` stay themselves); newlines become spaces."""
    s = short(text, 10 ** 9)
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in s)


def esc(text) -> str:
    """``text`` escaped for HTML."""
    return html.escape(str(text), quote=True)


def number(v) -> str:
    """A loss or metric as people read it: 4 significant digits."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{v:.4g}" if math.isfinite(v) else str(v)


def sparkline(values, width: int = 160, height: int = 36, label: str = "loss") -> str:
    """An inline SVG of ``values`` as a line (finite values only; the y axis spans their range), with
    the first and last values written at the ends. Empty when there are fewer than two values."""
    pts = [(i, float(v)) for i, v in enumerate(values) if v is not None and math.isfinite(float(v))]
    if len(pts) < 2:
        return ""
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span = hi - lo or 1.0
    n = max(i for i, _ in pts) or 1
    pad = 3
    xy = " ".join(f"{pad + (width - 2 * pad) * i / n:.1f},{pad + (height - 2 * pad) * (hi - v) / span:.1f}"
                  for i, v in pts)
    title = esc(f"{label}: {number(pts[0][1])} → {number(pts[-1][1])} (min {number(lo)})")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{title}"><title>{title}</title>'
            f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{xy}"/></svg>')
