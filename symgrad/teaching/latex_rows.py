"""The LaTeX rows of one equation: an equation wider than the page (`TEX_LINE` glyphs, estimated) is
broken at its = signs, a side still too wide into rows before a + or − (the brackets the rows split
drawn \\bigl( … \\bigr)), and a row still too wide scaled down; and math turned into text mode for
prose (a rule note, a heading).
"""
from __future__ import annotations

import re

# The width of a landscape page with 1.5 cm margins, in "glyphs" as `_tex_width` counts them: an
# equation wider than this is broken at its = signs, and a single side still wider is scaled down.
TEX_LINE = 88
# a bracket group this narrow (a shape, an axis tuple, transpose(1, 0, 2, 3)) is never broken after a comma
SHORT_GROUP = 24


_MATRIX = re.compile(r"\\begin\{([pbBvV]?matrix)\}(.*?)\\end\{\1\}", re.S)


def _tex_width(s: str) -> int:
    """A generous estimate of the printed width of math-mode LaTeX, in glyphs: commands that draw
    nothing count 0, other commands one glyph, a fraction its numerator and denominator together
    (an over-estimate, so what fits by this count fits on the page); a matrix its widest row, its
    columns two glyphs apart (not all its entries in a row: a 4×4 grid of values was scaled to a
    third)."""
    s = _MATRIX.sub(lambda m: "x" * max(_tex_width(r) + 2 * r.count("&") for r in m.group(2).split("\\\\")), s)
    s = re.sub(r"\\(left|right|bigl|bigr|operatorname|text|mathbf|mathrm|textstyle|displaystyle|frac)(?![a-zA-Z])",
               "", s)
    s = re.sub(r"\\(quad|qquad)(?![a-zA-Z])", "xx", s)
    s = re.sub(r"\\[a-zA-Z]+|\\.", "x", s)
    return len(re.sub(r"[{}^_&\s]", "", s))


def _fit(tex: str, scale: bool) -> str:
    """``tex`` scaled down to the line when it is wider (in a document, which loads graphicx)."""
    w = _tex_width(tex)
    if not scale or w <= TEX_LINE:
        return tex
    return r"\scalebox{%.3f}{$\displaystyle %s$}" % (TEX_LINE / w, tex)


def _tex_equation(lhs: str, segs: list, scale: bool) -> list:
    """``lhs = seg₁ = seg₂ ...`` as align rows: one row when it fits the line, else one row per = ,
    a side still wider in rows of its own, broken before a + or − (`_tex_rows`)."""
    if _tex_width(lhs + " = ".join(segs)) <= TEX_LINE:
        return [r"%s &= %s" % (lhs, " = ".join(segs))]
    out = []
    for k, seg in enumerate(segs):
        first, *rest = _tex_rows(seg)
        out.append(r"%s &= %s" % (lhs if k == 0 else "", _fit(first, scale)))
        out += [r"&\quad %s" % _fit(r, scale) for r in rest]
    return out


# the brackets `_tex_rows` reads: \left( … \right), \left[ … \right], \left\{ … \right\}, ...
_OPEN = re.compile(r"\\left(\\\{|\\langle|\\lvert|\\lVert|[(\[|.])")
_CLOSE = re.compile(r"\\right(\\\}|\\rangle|\\rvert|\\rVert|[)\]|.])")


def _tex_rows(tex: str, width: int = TEX_LINE) -> list:
    """``tex`` broken into rows of at most ``width`` glyphs where it can be: before a + or − outside
    every brace group and environment (a matrix keeps its rows), inside brackets too, or after a
    comma between a function's arguments (a convolution's gradient, conv2d(x…, (H(z) ⊙ …)…,
    padding=1), has no + or − outside its brackets), the shallowest first — a \\left … \\right
    pair that a break splits becomes \\bigl … \\bigr, which may span rows. A piece with no such
    break stays whole (and is scaled)."""
    cuts, pairs, stack, depth, env, i = [], [], [], 0, 0, 0
    while i < len(tex):
        m_open, m_close = _OPEN.match(tex, i), _CLOSE.match(tex, i)
        c = tex[i]
        if m_open:
            stack.append((i, m_open.end()))
            i = m_open.end()
            continue
        if m_close:
            if stack:
                pairs.append((stack.pop(), (i, m_close.end())))
            i = m_close.end()
            continue
        if c == "\\":
            command = re.match(r"\\([a-zA-Z]+|.?)", tex[i:]).group()        # a command, or an escaped sign
            env += (command == "\\begin") - (command == "\\end")          # never inside a matrix's rows
            i += len(command)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c in "+-" and depth == 0 and env == 0 and i > 0 and tex[:i].rstrip()[-1:] not in ("", "(", "[", ",", "=", "+", "-", "{"):
            cuts.append((i, len(stack)))
        elif c == "," and depth == 0 and env == 0 and stack:      # after a function's argument
            cuts.append((i + 1, len(stack)))
        i += 1
    commas = {i for i, c in enumerate(tex) if c == ","}
    # never inside a short group, a shape or an axis tuple: reshape(N, 2, 2, 2) stays whole
    short = [(o0, c1) for (o0, _), (_, c1) in pairs if _tex_width(tex[o0:c1]) <= SHORT_GROUP]
    cuts = [(c, d) for c, d in cuts if c - 1 not in commas or not any(o0 < c - 1 < c1 for o0, c1 in short)]
    if _tex_width(tex) <= width or not cuts or len(pairs) != len(re.findall(r"\\left(?![a-zA-Z])", tex)):
        return [tex]          # (a bracket of a kind not read here: breaking could unbalance it)
    rows, start = [], 0
    while _tex_width(tex[start:]) > width:
        after = [(c, d) for c, d in cuts if c > start]
        if not after:
            break
        fits = [(c, d) for c, d in after if _tex_width(tex[start:c]) <= width]
        # the shallowest break that fits (the latest of those), else the first one there is
        c = max(fits, key=lambda t: (-t[1], t[0]))[0] if fits else after[0][0]
        rows.append((start, c))
        start = c
    rows.append((start, len(tex)))
    if len(rows) == 1:
        return [tex]
    bounds = [b for _, b in rows[:-1]]
    spanning = {p for p in pairs if any(p[0][0] < b < p[1][0] for b in bounds)}
    edits = {}
    for (o0, o1), (c0, c1) in spanning:
        edits[o0] = (o1, r"\bigl" + tex[o0 + 5:o1] if tex[o0 + 5:o1] != "." else "")
        edits[c0] = (c1, r"\bigr" + tex[c0 + 6:c1] if tex[c0 + 6:c1] != "." else "")

    def piece(a, b):
        out, j = [], a
        while j < b:
            if j in edits:
                end, rep = edits[j]
                out.append(rep)
                j = end
            else:
                out.append(tex[j])
                j += 1
        return "".join(out).strip()
    return [piece(a, b) for a, b in rows]


def _tex_close(s: str, i: int) -> int:
    """The index of the brace closing the one at ``s[i]`` (escaped braces skipped)."""
    depth = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        depth += (c == "{") - (c == "}")
        if depth == 0:
            return i
        i += 1
    raise ValueError(f"unbalanced braces in {s!r}")


def _text_mode(s: str) -> str:
    r"""Math-mode LaTeX made of \text{...} prose and formulas, rewritten for text mode (prose as is,
    formulas in $...$), so that a paragraph can wrap it at the line's end."""
    out, math, i, depth = [], [], 0, 0

    def flush():
        run = "".join(math).strip()
        if run:
            out.append("$%s$" % run)
        math.clear()

    while i < len(s):
        if depth == 0 and s.startswith(r"\text{", i):      # prose at the top level (not a symbol's
            j = _tex_close(s, i + 5)                        # \text name inside a fraction)
            flush()
            out.append(s[i + 6:j])
            i = j + 1
        elif s[i] == "\\":
            math.append(s[i:i + 2])
            i += 2
        else:
            depth += (s[i] == "{") - (s[i] == "}")
            math.append(s[i])
            i += 1
    flush()
    return "".join(out)
